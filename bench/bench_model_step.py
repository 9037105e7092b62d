"""Per-frame inference cost of the online model (transformer step + ONE denoise step), and the offline
throughput of `talkface animate`. Prints JSON.

    python bench/bench_model_step.py [--model DIR] [--frames 3000]
"""
from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np


def step_timings(streamer, frames: int, rng: np.random.Generator) -> np.ndarray:
    """Microseconds per frame: the model's token filters (dereverb, level normaliser: those it has) + the step."""
    tokens = rng.standard_normal((frames + 200, 160)).astype(np.float32) - 6.0
    filters = getattr(getattr(streamer, "state", None), "filters", None)
    for t in tokens[:200]:  # fill the KV window (steady state)
        streamer.step_token(t if filters is None else filters.push(t[None])[0])
    out = np.empty(frames)
    for i, t in enumerate(tokens[200:]):
        t0 = time.perf_counter_ns()
        streamer.step_token(t if filters is None else filters.push(t[None])[0])
        out[i] = (time.perf_counter_ns() - t0) / 1000.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None)
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--audio-seconds", type=float, default=20.0)
    args = parser.parse_args()
    from talkface_ros.model.streamer import FaceStreamer

    rng = np.random.default_rng(0)
    result: dict = {"machine": platform.processor() or platform.machine(), "frames": args.frames}
    for backend in ("onnxruntime", "torch"):
        s = FaceStreamer.from_pretrained(args.model, backend=backend, threads=1)
        us = step_timings(s, args.frames, rng)
        result[f"{backend}_step_us"] = {"median": round(float(np.median(us)), 1),
                                        "p99": round(float(np.percentile(us, 99)), 1),
                                        "mean": round(float(us.mean()), 1)}
    # offline throughput of the animate path (front end, batched encoder, the denoiser recurrence in one call),
    # onnxruntime; `threads` = 2 runs the front end and the encoder on two threads (the denoiser stays on one)
    n = int(args.audio_seconds * 16000)
    env = np.repeat(rng.uniform(0, 1, n // 1600 + 1), 1600)[:n]
    pcm = (rng.standard_normal(n) * env * 5000).astype(np.int16)
    streamers = {threads: FaceStreamer.from_pretrained(args.model, threads=threads) for threads in (1, 2)}
    runs: dict[int, list[float]] = {1: [], 2: []}
    for s in streamers.values():
        s.animate(pcm[:16000])
    for _ in range(5):  # alternating, so that both see the same machine
        for threads, s in streamers.items():
            t0 = time.perf_counter()
            s.animate(pcm)
            runs[threads].append(time.perf_counter() - t0)
    for threads, suffix in ((1, ""), (2, "_2_threads")):
        best = min(runs[threads])
        result[f"animate_x_realtime{suffix}"] = round(args.audio_seconds / best, 1)
        result[f"animate_seconds_per_audio_second_ms{suffix}"] = round(1000 * best / args.audio_seconds, 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
