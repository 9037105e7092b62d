"""Across processes: blendshapes in -> face_retarget -> commands -> face_sim -> joint_states and landmarks
out; when the stream stops, the watchdog brings the face back to neutral; go_neutral works."""
from __future__ import annotations

import time

import numpy as np
import pytest

from ros_helpers import require_rclpy, start_node, stop_process

require_rclpy()
pytest.importorskip("mujoco")
import rclpy  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from sensor_msgs.msg import JointState  # noqa: E402
from std_msgs.msg import Float64MultiArray  # noqa: E402
from std_srvs.srv import Trigger  # noqa: E402
from visualization_msgs.msg import MarkerArray  # noqa: E402

from talkface_ros.face.arkit import FRAME_NAMES  # noqa: E402
from talkface_ros.face.description import load_face_description  # noqa: E402
from talkface_ros.nodes.common import sensor_qos  # noqa: E402

DESCRIPTION = load_face_description()
JAW = DESCRIPTION.joint_names.index("jaw_open")


class Harness:
    def __init__(self) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("retarget_test", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.blendshapes = self.node.create_publisher(JointState, "face/blendshapes", sensor_qos())
        self.commands: list[np.ndarray] = []
        self.sim_states: list[np.ndarray] = []
        self.landmarks: list[MarkerArray] = []
        self.node.create_subscription(Float64MultiArray, "face_controller/commands",
                                      lambda m: self.commands.append(np.array(m.data)), 100)
        self.node.create_subscription(JointState, "joint_states",
                                      lambda m: self.sim_states.append(np.array(m.position)), 100)
        self.node.create_subscription(MarkerArray, "face/landmarks", self.landmarks.append, 10)
        self.go_neutral = self.node.create_client(Trigger, "face_retarget/go_neutral")

    def spin_for(self, seconds: float, publish_jaw: float | None = None) -> None:
        end = time.monotonic() + seconds
        next_frame = time.monotonic()
        while time.monotonic() < end:
            if publish_jaw is not None and time.monotonic() >= next_frame:
                msg = JointState()
                msg.name = list(FRAME_NAMES)
                values = [0.0] * len(FRAME_NAMES)
                values[FRAME_NAMES.index("jawOpen")] = publish_jaw
                msg.position = values
                self.blendshapes.publish(msg)
                next_frame += 0.02
            self.executor.spin_once(timeout_sec=0.005)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def test_blendshapes_to_sim_and_back_to_neutral():
    retarget = start_node("face_retarget", {"control_rate": 100.0, "stale_s": 0.3},
                          remaps={"joint_states": "face/commanded_joint_states"})
    sim = start_node("face_sim", {"sim_rate": 100.0, "landmark_rate": 10.0})
    harness = Harness()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (not harness.sim_states or
                                               harness.blendshapes.get_subscription_count() == 0):
            harness.spin_for(0.1)
        assert harness.sim_states, "face_sim published no joint_states"
        harness.spin_for(2.0, publish_jaw=0.9)
        assert harness.commands, "face_retarget published no commands"
        assert len(harness.commands[-1]) == len(DESCRIPTION.motors)
        assert harness.commands[-1][JAW] > 0.15, "the jaw command did not follow jawOpen"
        assert harness.sim_states[-1][JAW] > 0.12, "the simulated jaw did not open"
        assert harness.landmarks and len(harness.landmarks[-1].markers[0].points) == len(DESCRIPTION.landmarks)
        lower, upper = DESCRIPTION.lower_limits(), DESCRIPTION.upper_limits()
        sent = np.stack(harness.commands)
        assert np.all(sent >= lower - 1e-9) and np.all(sent <= upper + 1e-9)
        # the stream stops: the watchdog returns the face to neutral, smoothly
        harness.commands.clear()
        harness.spin_for(2.0)
        np.testing.assert_allclose(harness.commands[-1], DESCRIPTION.neutral_positions(), atol=1e-6)
        jaw = np.array([c[JAW] for c in harness.commands])
        assert np.all(np.diff(jaw) <= 1e-9) and np.all(np.abs(np.diff(jaw)) <= DESCRIPTION.motor("jaw_open").max_speed / 100 * 1.5 + 1e-6)
        assert abs(harness.sim_states[-1][JAW]) < 0.02
        # go_neutral while streaming
        harness.spin_for(1.0, publish_jaw=0.9)
        assert harness.commands[-1][JAW] > 0.15
        assert harness.go_neutral.wait_for_service(timeout_sec=5.0)
        future = harness.go_neutral.call_async(Trigger.Request())
        harness.executor.spin_until_future_complete(future, timeout_sec=5.0)
        assert future.result() is not None and future.result().success
    finally:
        harness.close()
        out_sim = stop_process(sim)
        out_retarget = stop_process(retarget)
    assert "Traceback" not in out_sim + out_retarget, out_sim + out_retarget
