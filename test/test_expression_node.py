"""robot_face/expression (std_msgs/String, label[:intensity], the ROS4HRI / PAL name) drives face_inference's
emotion like face/emotion does; a bad label is one warning and changes nothing."""
from __future__ import annotations

import numpy as np
import pytest

from ros_helpers import Recorder, require_rclpy, start_node, stop_process

require_rclpy()
pytestmark = [pytest.mark.ros]

from sensor_msgs.msg import JointState  # noqa: E402
from std_msgs.msg import Int16MultiArray, String  # noqa: E402

from talkface_ros.face.arkit import INDEX  # noqa: E402
from talkface_ros.nodes.common import sensor_qos  # noqa: E402
from talkface_ros.nodes.messages import pcm_to_msg  # noqa: E402

SMILE = [INDEX["mouthSmileLeft"], INDEX["mouthSmileRight"]]


def test_expression_topic_sets_the_emotion_and_bad_labels_are_ignored():
    rng = np.random.default_rng(0)
    with Recorder(JointState, "face/blendshapes", qos=1000) as recorder:
        node = start_node("face_inference", {"idle_animation": False, "idle_timeout_s": 5.0, "seed": 7,
                                             "emotion_transition_s": 0.05})
        pcm = recorder.node.create_publisher(Int16MultiArray, "audio/pcm", sensor_qos())
        expression = recorder.node.create_publisher(String, "robot_face/expression", 10)

        def speak(seconds: float) -> np.ndarray:
            """Quiet noise (the model keeps streaming) in 20 ms chunks; the smile of the frames it made."""
            start = len(recorder.messages)
            for _ in range(int(seconds / 0.02)):
                pcm.publish(pcm_to_msg((rng.normal(size=320) * 30).astype(np.int16)))
                recorder.spin(0.02)
            recorder.spin(0.2)
            return np.array([[m.position[i] for i in SMILE] for m in recorder.messages[start:]])

        try:
            assert recorder.spin_until(lambda: pcm.get_subscription_count() > 0
                                       and expression.get_subscription_count() > 0, 60), stop_process(node)
            neutral = speak(1.0)
            expression.publish(String(data="happy:1.0"))
            recorder.spin(0.1)
            happy = speak(1.0)
            expression.publish(String(data="bored:2"))      # unknown label: warning, still happy
            recorder.spin(0.1)
            still_happy = speak(1.0)
        finally:
            output = stop_process(node)
    assert len(neutral) > 20 and len(happy) > 20 and len(still_happy) > 20, output[-2000:]
    assert happy[10:].mean() > neutral.mean() + 0.1, (neutral.mean(), happy.mean())
    assert still_happy.mean() == pytest.approx(happy[10:].mean(), abs=0.05)
    assert "ignoring robot_face/expression 'bored:2'" in output, output[-2000:]
