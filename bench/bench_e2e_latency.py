"""End to end across separate processes: audio chunk published -> motor command published.

This process publishes 20 ms speech chunks on audio/pcm in real time (like audio_capture); face_inference,
face_retarget (and face_sim) run as their own processes, started from the same graph description as
`talkface bringup`. The retarget node publishes a command as soon as a frame arrives (and interpolates on its
timer in between); those frame-triggered commands carry the frame's audio stamp on
face/commanded_joint_states, so each command is matched to the chunk that completed its frame.

Also reported: the algorithmic latency (capture block + half a frame + lookahead) and the total against the
45 ms detectability threshold (ITU-R BT.1359, ../shared/reference/formats.md).

  python bench/bench_e2e_latency.py [--seconds 20] [--lookahead 0]
"""
from __future__ import annotations

import argparse
import bisect
import json
import sys
import time

from ros_harness import publish_in_real_time, percentiles, rss_mb, speech_samples


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--lookahead", type=int, default=0)
    parser.add_argument("--model", default="")
    parser.add_argument("--capture-block-ms", type=float, default=10.0,
                        help="audio capture block of a real microphone (added to the algorithmic latency)")
    args = parser.parse_args()

    import rclpy
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray, Int16MultiArray

    from talkface_ros.nodes.bringup import Graph
    from talkface_ros.nodes.common import sensor_qos
    from talkface_ros.nodes.graph import GraphOptions, build_graph

    specs = [s for s in build_graph(GraphOptions(profile="sim", model_path=args.model, lookahead=args.lookahead))
             if s.name != "audio_capture"]
    for spec in specs:
        if spec.name == "face_inference":
            spec.parameters.update(idle_animation=False, idle_timeout_s=2.0)
    samples = speech_samples(args.seconds)
    chunk = 320
    rclpy.init()
    driver = rclpy.create_node("bench_e2e_driver")
    publisher = driver.create_publisher(Int16MultiArray, "audio/pcm", sensor_qos())
    frames: list[tuple[float, float]] = []        # (stamp, arrival)
    commanded: list[tuple[float, float]] = []     # (stamp, arrival)
    commands: list[float] = []

    def stamp(msg) -> float:
        return msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9

    driver.create_subscription(JointState, "face/blendshapes", lambda m: frames.append((stamp(m), time.perf_counter())), 500)
    driver.create_subscription(JointState, "face/commanded_joint_states",
                               lambda m: commanded.append((stamp(m), time.perf_counter())), 500)
    driver.create_subscription(Float64MultiArray, "face_controller/commands", lambda m: commands.append(time.perf_counter()), 500)
    executor = rclpy.executors.SingleThreadedExecutor()
    executor.add_node(driver)
    with Graph(specs, quiet=True) as graph:
        deadline = time.monotonic() + 90
        while (publisher.get_subscription_count() == 0 or driver.count_publishers("face_controller/commands") == 0
               or driver.count_publishers("face/blendshapes") == 0) and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.05)
            if graph.failed():
                raise SystemExit(f"nodes failed: {graph.failed()}\n" + "".join(sum(graph.logs.values(), [])[-30:]))
        end = time.perf_counter() + 1.5
        while time.perf_counter() < end:
            executor.spin_once(timeout_sec=0.01)
        frames.clear(), commanded.clear(), commands.clear()
        sent = publish_in_real_time(executor, publisher, samples, chunk)
        rss = {name: round(rss_mb(p.pid), 1) for name, p in graph.processes.items()}
    chunk_of_frame = {}
    to_frame = []
    for frame_stamp, arrived in frames:
        k = bisect.bisect_right(sent, arrived) - 1
        if k >= 0:
            chunk_of_frame[round(frame_stamp, 6)] = sent[k]
            to_frame.append((arrived - sent[k]) * 1e3)
    to_command = [(arrived - chunk_of_frame[round(s, 6)]) * 1e3 for s, arrived in commanded if round(s, 6) in chunk_of_frame]
    frame_ms = 20.0
    algorithmic_ms = args.capture_block_ms + frame_ms / 2 + args.lookahead * frame_ms
    p50 = percentiles(to_command).get("p50_ms", float("nan"))
    result = {
        "benchmark": "e2e_audio_to_motor_command", "seconds": args.seconds, "lookahead": args.lookahead,
        "chunks": len(sent), "frames": len(frames), "commands": len(commands),
        "chunk_to_blendshape_frame": percentiles(to_frame),
        "chunk_to_motor_command": percentiles(to_command),
        "algorithmic_latency_ms": {"capture_block": args.capture_block_ms, "half_frame": frame_ms / 2,
                                   "lookahead": args.lookahead * frame_ms, "total": algorithmic_ms},
        "chain_latency_ms_p50": round(algorithmic_ms + p50, 2),
        "detectability_threshold_ms": 45.0,
        "rss_mb": rss,
        "targets": {"p50_ms": 5.0, "p99_ms": 15.0},
    }
    print(json.dumps(result))
    driver.destroy_node()
    rclpy.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
