"""`talkface demo` (what `make run` runs): the bundled speech clip through the whole simulated node graph
(audio_capture -> face_inference -> face_retarget -> face_sim, with a face_recorder), as separate
processes on loopback, then the render. Prints where everything is."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from talkface_ros.paths import assets_dir

DEMO_CLIP = "demo_speech.wav"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="out/demo", help="output folder")
    parser.add_argument("--wav", default="", help="speech to use instead of the bundled clip")
    parser.add_argument("--emotion", default="happy:0.5", help="label[:intensity]")
    parser.add_argument("--model", default="", help="model folder ('' = the shipped model)")
    parser.add_argument("--no-video", action="store_true", help="skip the MP4")
    parser.add_argument("--timeout", type=float, default=180.0, help="give up on the graph after this many seconds")


def run_graph(wav: Path, out: Path, emotion: str, timeout: float, model: str = "") -> dict:
    from talkface_ros.nodes.bringup import Graph
    from talkface_ros.nodes.graph import GraphOptions, build_graph

    specs = build_graph(GraphOptions(profile="sim", audio_source="wav", wav_path=str(wav), emotion=emotion,
                                     model_path=model, record_dir=str(out), stop_at_end=True))
    print(f"[demo] starting {', '.join(s.name for s in specs)} as separate processes")
    started = time.monotonic()
    with Graph(specs, quiet=True) as graph:
        while True:
            time.sleep(0.2)
            failed = graph.failed()
            if failed:
                logs = "".join(line for name in failed for line in graph.logs[name][-15:])
                raise RuntimeError(f"node(s) failed: {failed}\n{logs}")
            if graph.processes["audio_capture"].poll() == 0:
                time.sleep(1.5)  # the last frames and commands
                break
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"the graph did not finish the clip within {timeout:.0f} s")
    latency = json.loads((out / "latency.json").read_text()) if (out / "latency.json").is_file() else {}
    return {"seconds": round(time.monotonic() - started, 1), "latency": latency}


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
