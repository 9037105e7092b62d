"""Across processes: a geometry_msgs/PointStamped on robot_face/look_at moves face_retarget's commanded eye
and neck joints toward the point; a frame tf cannot resolve warns once; bad points change nothing and never
put a NaN on the wire."""
from __future__ import annotations

import math
import time

import numpy as np

from ros_helpers import require_rclpy, start_node, stop_process

require_rclpy()
import rclpy  # noqa: E402
from geometry_msgs.msg import PointStamped  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from std_msgs.msg import Float64MultiArray  # noqa: E402

from talkface_ros.face.description import load_face_description  # noqa: E402

DESCRIPTION = load_face_description()
NAMES = DESCRIPTION.joint_names
EYE_YAW, EYE_PITCH, NECK_YAW = NAMES.index("eye_yaw"), NAMES.index("eye_pitch"), NAMES.index("neck_yaw")
LOWER, UPPER = DESCRIPTION.lower_limits(), DESCRIPTION.upper_limits()


class Harness:
    def __init__(self) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("gaze_test", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.look_at = self.node.create_publisher(PointStamped, "robot_face/look_at", 10)
        self.commands: list[np.ndarray] = []
        self.node.create_subscription(Float64MultiArray, "face_controller/commands",
                                      lambda m: self.commands.append(np.array(m.data)), 100)

    def publish(self, x: float, y: float, z: float, frame: str = "base_link") -> None:
        msg = PointStamped()
        msg.header.frame_id = frame
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.point.x, msg.point.y, msg.point.z = x, y, z
        self.look_at.publish(msg)

    def spin_for(self, seconds: float, point: tuple | None = None, frame: str = "base_link") -> None:
        end = time.monotonic() + seconds
        next_point = time.monotonic()
        while time.monotonic() < end:
            if point is not None and time.monotonic() >= next_point:
                self.publish(*point, frame=frame)
                next_point += 0.1
            self.executor.spin_once(timeout_sec=0.005)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def test_look_at_moves_the_commanded_eyes_and_neck():
    retarget = start_node("face_retarget", {"gaze_microsaccade_rad": 0.0, "gaze_blink_interval_max_s": 0.0,
                                            "gaze_saccade_blink_probability": 0.0, "look_at_timeout_s": 1.0,
                                            "look_at_release_s": 0.2})
    harness = Harness()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (not harness.commands or harness.look_at.get_subscription_count() == 0):
            harness.spin_for(0.1)
        assert harness.commands, "face_retarget published no commands"
        assert abs(harness.commands[-1][EYE_YAW]) < 1e-9, "no target yet: the eyes rest"

        # a point 1 m ahead, 0.2 rad to the left and a little up, seen from between the eyes
        eyes = np.array([0.073, 0.0, 0.14])
        left_up = eyes + np.array([math.cos(0.2), math.sin(0.2), 0.15])
        harness.spin_for(1.0, point=tuple(left_up))
        yaw, pitch = harness.commands[-1][EYE_YAW], harness.commands[-1][EYE_PITCH]
        assert 0.15 < yaw < 0.25 and 0.1 < pitch < 0.2, (yaw, pitch)
        assert abs(harness.commands[-1][NECK_YAW]) < 1e-6, "within the eyes' range: the neck stays"

        far_right = eyes + np.array([math.cos(-1.0), math.sin(-1.0), 0.0])    # beyond the eyes' range
        harness.spin_for(1.5, point=tuple(far_right), frame="")
        assert harness.commands[-1][NECK_YAW] < -0.4, "the neck took over"
        assert harness.commands[-1][EYE_YAW] < -0.2

        harness.spin_for(0.3, point=tuple(far_right), frame="camera_link")   # no tf here: as is, one warning
        harness.spin_for(0.3, point=(math.nan, 0.0, 1.0))                     # ignored: nothing changes
        harness.spin_for(0.3, point=(math.inf, 0.0, 1.0))
        assert harness.commands[-1][NECK_YAW] < -0.4

        harness.spin_for(1.6)                                                   # stale: ease back to rest
        assert abs(harness.commands[-1][EYE_YAW]) < 0.02 and abs(harness.commands[-1][NECK_YAW]) < 0.02

        sent = np.array(harness.commands)
        assert np.all(np.isfinite(sent))
        assert np.all(sent >= LOWER - 1e-9) and np.all(sent <= UPPER + 1e-9)
    finally:
        harness.close()
        output = stop_process(retarget)
    assert "ignoring a look-at target" in output, output[-2000:]
    assert output.count("robot_face/look_at in frame 'camera_link'") == 1, output[-2000:]


def test_points_in_other_frames_go_through_tf_when_it_has_a_transform():
    """tf2_ros is not installable here: a stand-in buffer checks the node's side of the tf lookup."""
    from types import SimpleNamespace

    from talkface_ros.nodes.face_retarget import FaceRetargetNode

    class FakeBuffer:
        def __init__(self) -> None:
            self.asked: list[tuple[str, str]] = []

        def lookup_transform(self, target, source, when):
            self.asked.append((target, source))
            if source != "camera_link":
                raise LookupError(source)
            half = math.sqrt(0.5)   # camera 1 m ahead of base_link, turned 90 degrees about z
            return SimpleNamespace(transform=SimpleNamespace(
                translation=SimpleNamespace(x=1.0, y=0.0, z=0.14),
                rotation=SimpleNamespace(x=0.0, y=0.0, z=half, w=half)))

    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = FaceRetargetNode(context=context)
        node.tf_buffer = FakeBuffer()

        def point(x, y, z, frame):
            msg = PointStamped()
            msg.header.frame_id = frame
            msg.point.x, msg.point.y, msg.point.z = x, y, z
            return msg

        assert node.look_at(point(0.5, 0.0, 0.0, "camera_link"))
        np.testing.assert_allclose(node.gaze.target, [1.0, 0.5, 0.14], atol=1e-9)   # x of the camera = y of base
        assert node.look_at(point(2.0, 0.1, 0.2, "base_link"))
        np.testing.assert_allclose(node.gaze.target, [2.0, 0.1, 0.2])
        assert ("base_link", "camera_link") in node.tf_buffer.asked
        assert all(source != "base_link" for _, source in node.tf_buffer.asked), "no lookup for the gaze frame"
        assert node.look_at(point(2.0, 0.0, 0.14, "odom"))      # tf has none: as is, with a warning
        np.testing.assert_allclose(node.gaze.target, [2.0, 0.0, 0.14])
        assert "odom" in node.warned_frames
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
