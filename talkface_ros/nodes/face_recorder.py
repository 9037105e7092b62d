"""face_recorder: writes what the graph produced, for demos, the file profile and latency reports.

Outputs in `output_dir` when the node stops: blendshapes.csv (Live Link Face CSV of face/blendshapes),
motor_commands.csv (every face_controller/commands message with its receive time, one column per joint,
named in the controller's order from the face description) and latency.json
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

    def _joint_names(self) -> list[str]:
        """The controller's joint order (the face description's motors); joint_N where there is no description."""
        from talkface_ros.face.description import load_face_description

        try:
            return load_face_description().joint_names
        except (FileNotFoundError, ValueError) as error:
            width = max((len(values) for _, values in self.commands), default=0)
            self.get_logger().warning(f"no face description ({error}): motor columns are joint_0..{width - 1}")
            return [f"joint_{i}" for i in range(width)]

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
        joints = self._joint_names()
        with open(self.output_dir / "motor_commands.csv", "w", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(["receive_time_s", *joints])
            for received, values in self.commands:
                if len(values) != len(joints):
                    self.get_logger().warning(f"a command of {len(values)} values for {len(joints)} joints: "
                                              "not written", throttle_duration_sec=5.0)
                    continue
                writer.writerow([f"{received:.6f}", *(f"{v:.6f}" for v in values)])
        self.get_logger().info(f"wrote {len(self.frames)} frames and {len(self.commands)} commands to {self.output_dir}")


def main(args: list[str] | None = None) -> int:
    return run_node(FaceRecorderNode, args)


if __name__ == "__main__":
    sys.exit(main())
