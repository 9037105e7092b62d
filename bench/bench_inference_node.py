"""face_inference across processes: audio chunk published -> blendshape frame published, and node RSS.

A driver in this process publishes 20 ms speech chunks in real time on audio/pcm; the node (a separate
process, onnxruntime, 1 thread) publishes one frame per chunk. Latency of a frame = its receive time
minus the publish time of the last chunk before it (one clock: same machine). Prints one JSON object.

  python bench/bench_inference_node.py [--seconds 20] [--backend onnxruntime]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from ros_harness import publish_in_real_time, has_library, percentiles, rss_mb, speech_samples


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--backend", default="onnxruntime", choices=("onnxruntime", "torch"))
    parser.add_argument("--chunk-ms", type=float, default=20.0)
    parser.add_argument("--model", default="", help="model folder ('' = the shipped model)")
    args = parser.parse_args()

    import rclpy
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Int16MultiArray

    from talkface_ros.nodes.common import sensor_qos

    samples = speech_samples(args.seconds)
    chunk = int(16000 * args.chunk_ms / 1000)
    node_process = subprocess.Popen(
        [sys.executable, "-m", "talkface_ros.nodes.face_inference", "--ros-args", "-p", f"backend:={args.backend}",
         "-p", "idle_animation:=false", "-p", "idle_timeout_s:=2.0", "-p", f"model_path:={args.model or chr(39) * 2}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    rclpy.init()
    driver = rclpy.create_node("bench_driver")
    publisher = driver.create_publisher(Int16MultiArray, "audio/pcm", sensor_qos())
    received: list[float] = []
    driver.create_subscription(JointState, "face/blendshapes", lambda m: received.append(time.perf_counter()), 100)
    executor = rclpy.executors.SingleThreadedExecutor()
    executor.add_node(driver)
    deadline = time.monotonic() + 60
    while (publisher.get_subscription_count() == 0 or driver.count_publishers("face/blendshapes") == 0) \
            and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.05)
        if node_process.poll() is not None:
            print(node_process.stdout.read(), file=sys.stderr)
            raise SystemExit("face_inference exited before the benchmark started")
    time.sleep(1.0)
    rss_idle = rss_mb(node_process.pid)
    sent = publish_in_real_time(executor, publisher, samples, chunk)
    rss_streaming = rss_mb(node_process.pid)
    torch_loaded = has_library(node_process.pid, "libtorch")
    node_process.send_signal(2)
    node_process.wait(timeout=10)
    # Each frame is triggered by the chunk published last before it arrived (the model emits frames as
    # soon as their audio is in; any algorithmic delay of the model is reported separately).
    import bisect

    latencies = []
    for arrived in received:
        k = bisect.bisect_right(sent, arrived) - 1
        if k >= 0:
            latencies.append((arrived - sent[k]) * 1000.0)
    result = {
        "benchmark": "face_inference_node", "backend": args.backend, "chunk_ms": args.chunk_ms,
        "chunks": len(sent), "frames": len(received),
        "chunk_to_frame": percentiles(latencies),
        "rss_mb": {"idle": round(rss_idle, 1), "streaming": round(rss_streaming, 1)},
        "torch_imported": torch_loaded,
        "targets": {"p50_ms": 3.0, "p99_ms": 10.0, "rss_mb": 300.0},
    }
    print(json.dumps(result))
    driver.destroy_node()
    rclpy.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
