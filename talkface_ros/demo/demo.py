"""`talkface demo` (what `make run` runs): the bundled speech clip through the whole simulated node graph
(audio_capture -> face_inference -> face_retarget -> face_sim, with a face_recorder), as separate
processes on loopback, then the render. Prints where everything is."""
from __future__ import annotations

import json
import time
from pathlib import Path


DEMO_CLIP = "demo_speech.wav"


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
