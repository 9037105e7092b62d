"""Gaze on the simulated robot face: look-at targets through the gaze controller, the retargeter's safety
layer (limits, slew rates) at the 100 Hz control rate and the MuJoCo face in simulated real time; where
the eyes look is read from the sim's pupil landmarks (world frame: neck and eyes together). Prints JSON:

- follow: targets stepped across the eyes' range (each message arriving at a random phase of the control
  period, answered at once as face_retarget does): ms until the pupils are on the target (within
  --tolerance degrees) and stay there, median / p95, also by step size;
- pan (slow and fast): a target swept across the whole field of view (+-1.1 rad yaw) and back; per sample,
  ms until the pupils' line of sight reaches where the target was; the neck's share of the gaze angle for
  targets within half the eyes' range, up to their range, and beyond it;
- beyond: steps to targets beyond the eyes' range: when the pupils reach their limit, when the gaze
  (eyes + neck) is on the target, and the neck's share at the end.
Deterministic (seeded, simulated time): the numbers do not depend on the machine's load.

  python bench/bench_gaze.py [--steps 30] [--tolerance 1.5] [--seed 0]
"""
from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30, help="targets in the follow sweep")
    parser.add_argument("--tolerance", type=float, default=1.5, help="degrees: 'on target'")
    parser.add_argument("--distance", type=float, default=1.5, help="targets' distance from the eyes (m)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from talkface_ros.face.gaze import GazeConfig
    from talkface_ros.eval.gaze import GazeRunConfig, GazeSim, beyond_steps, follow_steps, pan

    started = time.perf_counter()
    run_config = GazeRunConfig(distance_m=args.distance, tolerance_deg=args.tolerance, seed=args.seed)
    gaze_config = GazeConfig(seed=args.seed)   # face_retarget's defaults: micro-saccades and blinks on
    result = {
        "follow": follow_steps(GazeSim(gaze_config, run_config), steps=args.steps),
        "pan_slow": pan(GazeSim(gaze_config, run_config), max_yaw=1.1, seconds=6.0),
        "pan_fast": pan(GazeSim(gaze_config, run_config), max_yaw=1.1, seconds=2.5),
        "beyond": beyond_steps(GazeSim(gaze_config, run_config)),
        "config": {"control_rate_hz": run_config.control_rate, "distance_m": args.distance,
                   "tolerance_deg": args.tolerance, "eye_range_share": gaze_config.eye_range_share,
                   "neck_tau_s": gaze_config.neck_tau_s, "seed": args.seed},
        "wall_s": None,
    }
    result["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
