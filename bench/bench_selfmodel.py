"""Inverse self-model per frame (the amortised network, numpy, 1 thread) vs the linear map, and the
reported self-model metrics of the shipped calibration. Prints JSON.

  python bench/bench_selfmodel.py [--calibration DIR] [--frames 2000]
"""
from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from talkface_ros.selfmodel.model import SelfModel  # noqa: E402
from talkface_ros.selfmodel.retarget import Retargeter  # noqa: E402
from talkface_ros.selfmodel.safety import SafetyLimits  # noqa: E402


def time_per_call(fn, frames: np.ndarray) -> dict:
    for frame in frames[:50]:
        fn(frame)
    times = []
    for frame in frames:
        start = time.perf_counter()
        fn(frame)
        times.append(time.perf_counter() - start)
    us = np.array(times) * 1e6
    return {"median_us": round(float(np.median(us)), 2), "p99_us": round(float(np.percentile(us, 99)), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calibration", default=None)
    parser.add_argument("--frames", type=int, default=2000)
    args = parser.parse_args()
    from talkface_ros.face.description import load_face_description

    model = SelfModel.load(args.calibration)
    description = load_face_description()
    frames = np.random.default_rng(0).uniform(0, 1, size=(args.frames, 55)) ** 4
    retargeter = Retargeter(model, SafetyLimits.from_description(description))
    clock = iter(np.arange(10 * args.frames + 100) * 0.01)

    def full_tick(frame):
        now = next(clock)
        retargeter.push_frame(frame, now)
        retargeter.tick(now)

    result = {
        "benchmark": "selfmodel_inverse_per_frame",
        "inverse_network": time_per_call(model.retarget, frames),
        "linear_map": time_per_call(model.retarget_linear, frames),
        "retarget_plus_safety_tick": time_per_call(full_tick, frames),
        "target_median_us": 300,
        "metrics_from_calibration": model.config.get("metrics", {}),
    }
    result["meets_target"] = result["inverse_network"]["median_us"] <= 300
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
