"""`talkface demo` (what `make run` runs): the command line of talkface_ros.demo.demo."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from talkface_ros.demo.demo import DEMO_CLIP, run_graph
from talkface_ros.paths import assets_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="out/demo", help="output folder")
    parser.add_argument("--wav", default="", help="speech to use instead of the bundled clip")
    parser.add_argument("--emotion", default="happy:0.5", help="label[:intensity]")
    parser.add_argument("--model", default="", help="model folder ('' = the shipped model)")
    parser.add_argument("--no-video", action="store_true", help="skip the MP4")
    parser.add_argument("--timeout", type=float, default=180.0, help="give up on the graph after this many seconds")


def run(args: argparse.Namespace) -> int:
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    wav = Path(args.wav).resolve() if args.wav else assets_dir() / DEMO_CLIP
    if not wav.is_file():
        print(f"error: no such audio file: {wav}")
        return 1
    print(f"[demo] speech: {wav}")
    try:
        graph = run_graph(wav, out, args.emotion, args.timeout, args.model)
    except RuntimeError as error:
        print(f"error: {error}")
        return 1
    print(f"[demo] node graph ran the clip in {graph['seconds']} s")
    video = None
    if not args.no_video:
        from talkface_ros.demo.render import render_video

        video = render_video(wav, out / "demo.mp4", emotion=args.emotion, model=args.model or None)
    summary = {
        "speech": str(wav),
        "blendshapes_csv": str(out / "blendshapes.csv"),
        "motor_commands_csv": str(out / "motor_commands.csv"),
        "latency_report": str(out / "latency.json"),
        "video": str(video) if video else None,
        "latency": graph["latency"],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("[demo] outputs:")
    for key in ("blendshapes_csv", "motor_commands_csv", "latency_report", "video"):
        if summary[key]:
            print(f"  {key:20s} {summary[key]}")
    behind = graph["latency"].get("face_behind_audio_ms")
    if behind:
        print(f"[demo] face behind audio: p50 {behind['p50']:.1f} ms, p99 {behind['p99']:.1f} ms")
    return 0
