"""face_recorder: writes what the graph produced, for demos, the file profile and latency reports.

Outputs in `output_dir` when the node stops: blendshapes.csv (Live Link Face CSV of face/blendshapes),
motor_commands.csv (every face_controller/commands message with its receive time) and latency.json
(receive time minus audio time of each blendshape frame: how late the face is behind the sound).

Frames published before this recorder matched the publisher arrive together from the transient-local
history when it matches; their lateness is the recorder's start-up, not the face's, so latency.json counts
only the frames stamped after the first delivery (the live stream) and reports the others as `from_history`."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from talkface_ros.face.arkit import FRAME_NAMES, INDEX
from talkface_ros.nodes.common import ParamSpec, StartupError, declare_parameters, run_node

PARAMETERS = (
    ParamSpec("output_dir", "", "folder for blendshapes.csv, motor_commands.csv and latency.json"),
    ParamSpec("fps", 60.0, "frame rate of the Live Link CSV", min=1.0, max=240.0),
)


class FaceRecorderNode(Node):
    def __init__(self) -> None:
        super().__init__("face_recorder")
        self.params = declare_parameters(self, PARAMETERS)
        if not self.params["output_dir"]:
            raise StartupError("output_dir is empty")
        self.output_dir = Path(self.params["output_dir"])
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StartupError(f"cannot create {self.output_dir}: {error}") from None
        self.frames: list[tuple[float, float, np.ndarray]] = []   # (audio time, receive time, values)
        self.commands: list[tuple[float, list[float]]] = []
        # transient local: frames published before this recorder matched are delivered too
        self.create_subscription(JointState, "face/blendshapes", self._on_frame,
                                 QoSProfile(depth=1000, durability=DurabilityPolicy.TRANSIENT_LOCAL))
        self.create_subscription(Float64MultiArray, "face_controller/commands", self._on_command, 100)
        self.get_logger().info(f"recording into {self.output_dir}")

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds / 1e9

    def _on_frame(self, msg: JointState) -> None:
        values = np.zeros(len(FRAME_NAMES), dtype=np.float32)
        for name, position in zip(msg.name, msg.position):
            if name in INDEX:
                values[INDEX[name]] = position
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec / 1e9
        self.frames.append((stamp, self._now(), values))

    def _on_command(self, msg: Float64MultiArray) -> None:
        self.commands.append((self._now(), list(msg.data)))

    def close(self) -> None:
        self.write()

    def latency_report(self) -> dict:
        first_delivery = self.frames[0][1]
        lateness_ms = np.array([(received - stamp) * 1000.0 for stamp, received, _ in self.frames
                                if stamp >= first_delivery])
        report = {"frames": len(self.frames), "commands": len(self.commands),
                  "from_history": len(self.frames) - len(lateness_ms)}
        if len(lateness_ms):
            report["face_behind_audio_ms"] = {"p50": float(np.percentile(lateness_ms, 50)),
                                              "p99": float(np.percentile(lateness_ms, 99)),
                                              "max": float(lateness_ms.max()), "frames": len(lateness_ms)}
        return report

    def write(self) -> None:
        if self.frames:
            from talkface_ros.face.frames import resample_frames
            from talkface_ros.face.livelink import write_livelink_csv

            frames = np.stack([values for _, _, values in self.frames])
            write_livelink_csv(self.output_dir / "blendshapes.csv",
                               resample_frames(frames, 50.0, self.params["fps"]), self.params["fps"])
            (self.output_dir / "latency.json").write_text(json.dumps(self.latency_report(), indent=2) + "\n")
        with open(self.output_dir / "motor_commands.csv", "w", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(["receive_time_s", "values"])
            for received, values in self.commands:
                writer.writerow([f"{received:.6f}", " ".join(f"{v:.6f}" for v in values)])
        self.get_logger().info(f"wrote {len(self.frames)} frames and {len(self.commands)} commands to {self.output_dir}")


def main(args: list[str] | None = None) -> int:
    return run_node(FaceRecorderNode, args)


if __name__ == "__main__":
    sys.exit(main())
