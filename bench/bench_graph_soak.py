"""Real-time soak of the simulated graph (not a CI test): the bundled clip looped through audio_capture ->
face_inference -> face_retarget -> face_sim for N minutes, as separate processes.

Reports per node RSS at start and end (growth %), the face's lateness behind the audio (receive time minus
the frame's audio stamp) per minute (drift), and frame drops (received frames vs 50 per second of audio).

  python bench/bench_graph_soak.py --minutes 10 > out/soak_graph.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from ros_harness import rss_mb


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--model", default="")
    args = parser.parse_args()

    import rclpy
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    from talkface_ros.nodes.bringup import Graph
    from talkface_ros.nodes.graph import GraphOptions, build_graph
    from talkface_ros.paths import assets_dir

    specs = build_graph(GraphOptions(profile="sim", audio_source="wav", wav_path=str(assets_dir() / "demo_speech.wav"),
                                     loop=True, model_path=args.model))
    for spec in specs:
        if spec.name == "face_inference":
            spec.parameters["idle_animation"] = False  # count only frames made from audio
    rclpy.init()
    node = rclpy.create_node("bench_soak")
    lateness: list[tuple[float, float]] = []   # (wall time, ms behind audio)
    commands = [0]
    node.create_subscription(JointState, "face/blendshapes", lambda m: lateness.append(
        (time.monotonic(), (node.get_clock().now().nanoseconds * 1e-9 - (m.header.stamp.sec + m.header.stamp.nanosec * 1e-9)) * 1e3)), 500)
    node.create_subscription(Float64MultiArray, "face_controller/commands", lambda m: commands.__setitem__(0, commands[0] + 1), 500)
    executor = rclpy.executors.SingleThreadedExecutor()
    executor.add_node(node)
    with Graph(specs, quiet=True) as graph:
        deadline = time.monotonic() + 90
        while not lateness and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.05)
            if graph.failed():
                raise SystemExit(f"nodes failed: {graph.failed()}")
        start = time.monotonic()
        lateness.clear()
        rss_start = {name: rss_mb(p.pid) for name, p in graph.processes.items()}
        samples = []
        while time.monotonic() - start < args.minutes * 60:
            executor.spin_once(timeout_sec=0.05)
            if not samples or time.monotonic() - samples[-1][0] > 10:
                samples.append((time.monotonic(), {name: rss_mb(p.pid) for name, p in graph.processes.items()}))
            if graph.failed():
                raise SystemExit(f"nodes failed mid-soak: {graph.failed()}")
        elapsed = time.monotonic() - start
        rss_end = {name: rss_mb(p.pid) for name, p in graph.processes.items()}
    times = np.array([t for t, _ in lateness]) - start
    behind = np.array([ms for _, ms in lateness])
    per_minute = [round(float(np.median(behind[(times >= m * 60) & (times < (m + 1) * 60)])), 2)
                  for m in range(int(np.ceil(elapsed / 60))) if np.any((times >= m * 60) & (times < (m + 1) * 60))]
    expected = elapsed * 50.0
    result = {
        "benchmark": "sim_graph_soak", "minutes": round(elapsed / 60, 2),
        "frames": len(lateness), "frames_expected": int(expected),
        "frame_drop_pct": round(100.0 * max(0.0, expected - len(lateness)) / expected, 3),
        "commands": commands[0],
        "face_behind_audio_ms_median_per_minute": per_minute,
        "drift_ms_last_minus_first_minute": round(per_minute[-1] - per_minute[0], 2) if per_minute else None,
        "rss_mb_start": {k: round(v, 1) for k, v in rss_start.items()},
        "rss_mb_end": {k: round(v, 1) for k, v in rss_end.items()},
        "rss_growth_pct": {k: round(100.0 * (rss_end[k] - rss_start[k]) / rss_start[k], 2) for k in rss_start},
        "targets": {"rss_growth_pct": 5.0, "frame_drop_pct": 0.1},
    }
    print(json.dumps(result))
    node.destroy_node()
    rclpy.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
