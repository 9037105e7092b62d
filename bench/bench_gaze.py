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

With --ros, also the same kind of steps through the real processes on loopback: this process publishes
geometry_msgs/PointStamped on robot_face/look_at, face_retarget and face_sim run as their own processes (face_sim
stepping the physics in real time at 100 Hz), and the gaze is computed from the eye and neck angles face_sim
publishes on joint_states; ms from publishing a point until the received sim state is on it and stays
(the DDS hops there and back and face_sim's tick included; wall-clock, so the machine's load shows).

  python bench/bench_gaze.py [--steps 100] [--tolerance 1.5] [--seed 0] [--ros [--ros-steps 30]]
"""
from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100, help="targets in the follow sweep")
    parser.add_argument("--ros-steps", type=int, default=30, help="targets through the processes (0.6 s each)")
    parser.add_argument("--tolerance", type=float, default=1.5, help="degrees: 'on target'")
    parser.add_argument("--distance", type=float, default=1.5, help="targets' distance from the eyes (m)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ros", action="store_true", help="also through face_retarget + face_sim processes")
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
    if args.ros:
        result["ros"] = ros_follow(args.ros_steps, 0.6, args.tolerance, args.seed, args.distance)
    result["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=1))


def ros_follow(steps: int, hold_s: float, tolerance_deg: float, seed: int, distance: float) -> dict:
    """Look-at steps across the eyes' range through face_retarget and face_sim processes (see above)."""
    import math
    import subprocess
    import sys

    import numpy as np

    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ.setdefault("ROS_DOMAIN_ID", str(150 + os.getpid() % 50))
    import rclpy
    from geometry_msgs.msg import PointStamped
    from sensor_msgs.msg import JointState

    from talkface_ros.eval.gaze import _percentiles, follow_targets
    from talkface_ros.face.description import load_face_description
    from talkface_ros.face.gaze import GazeRig, head_rotation

    description = load_face_description()
    rig = GazeRig.from_description(description)
    names = description.joint_names
    eye_yaw, eye_pitch = names.index("eye_yaw"), names.index("eye_pitch")
    node_args = {"face_retarget": ["-r", "joint_states:=face/commanded_joint_states"], "face_sim": []}
    processes = [subprocess.Popen([sys.executable, "-m", f"talkface_ros.nodes.{name}", "--ros-args", *extra],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for name, extra in node_args.items()]
    rclpy.init()
    node = rclpy.create_node("bench_gaze_driver")
    publisher = node.create_publisher(PointStamped, "robot_face/look_at", 10)
    states: list[tuple[float, np.ndarray]] = []
    node.create_subscription(JointState, "joint_states",
                             lambda m: states.append((time.perf_counter(), np.array(m.position))), 100)
    executor = rclpy.executors.SingleThreadedExecutor()
    executor.add_node(node)

    def spin(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            executor.spin_once(timeout_sec=0.002)

    def error_deg(position: np.ndarray, target: np.ndarray) -> float:
        r = head_rotation(rig, position)
        yaw, pitch = position[eye_yaw], position[eye_pitch]
        sight = r @ np.array([math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), math.sin(pitch)])
        to_target = target - r @ rig.cyclops
        return math.degrees(math.acos(min(1.0, float(sight @ to_target / np.linalg.norm(to_target)))))

    latencies, sizes = [], []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and (publisher.get_subscription_count() == 0 or len(states) < 10):
            spin(0.05)
        if publisher.get_subscription_count() == 0 or not states:
            raise SystemExit("face_retarget / face_sim did not come up")
        previous = np.zeros(2)
        for angles in follow_targets(steps, seed):            # the same targets as the sim's follow sweep
            yaw, pitch = angles
            target = rig.cyclops + distance * np.array([math.cos(pitch) * math.cos(yaw),
                                                        math.cos(pitch) * math.sin(yaw), math.sin(pitch)])
            msg = PointStamped()
            msg.header.frame_id = "base_link"
            msg.point.x, msg.point.y, msg.point.z = (float(v) for v in target)
            states.clear()
            sent = time.perf_counter()
            publisher.publish(msg)
            spin(hold_s)
            settled = math.inf
            for received, position in states:
                if error_deg(position, target) >= tolerance_deg:
                    settled = math.inf
                elif not math.isfinite(settled):
                    settled = (received - sent) * 1e3
            latencies.append(settled)
            sizes.append(math.degrees(float(np.linalg.norm(angles - previous))))
            previous = angles
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown()
        for process in processes:
            process.send_signal(2)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    return {"follow_ms": _percentiles(latencies),
            "step_size_deg": {"median": round(float(np.median(sizes)), 1), "max": round(float(np.max(sizes)), 1)},
            "steps": steps, "hold_s": hold_s, "tolerance_deg": tolerance_deg}


if __name__ == "__main__":
    main()
