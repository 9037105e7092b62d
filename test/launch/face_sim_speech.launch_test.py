"""face_sim.launch.py speech:=true for real: a speaking robot. Text on `say` -> the speech node's TTS ->
face_inference (lookahead 2) -> the simulated face; robot_speaking goes true while it talks and false after;
every process exits cleanly. (Without a sound card the speech node publishes only and says so.)"""
import os
import sys
import time
import unittest

import launch_testing
import launch_testing.asserts
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from graph_checks import TopicProbe, include_launch_file  # noqa: E402


@pytest.mark.launch_test
def generate_test_description():
    return include_launch_file("face_sim.launch.py", {"speech": "true"})


class TestSpeakingRobot(unittest.TestCase):
    def test_said_text_moves_the_mouth_and_robot_speaking_brackets_it(self, proc_output):
        from sensor_msgs.msg import JointState
        from std_msgs.msg import Bool, Float64MultiArray, String

        proc_output.assertWaitFor("speaking with", timeout=60.0)  # the speech node is ready
        probe = TopicProbe({"face/blendshapes": JointState, "robot_speaking": Bool,
                            "face_controller/commands": Float64MultiArray})
        try:
            say = probe.node.create_publisher(String, "say", 10)
            deadline = time.monotonic() + 10
            while say.get_subscription_count() == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)
            said_at = time.monotonic()
            say.publish(String(data="Hello, my name is Morpheus. Pleased to meet you."))
            proc_output.assertWaitFor("said 'Hello, my name is Morpheus", timeout=30.0)
            # Under load the face can trail the speech node: wait for robot_speaking to go true, then false.
            settle_deadline = time.monotonic() + 20.0
            while time.monotonic() < settle_deadline:
                with probe.lock:
                    states = [m.data for m in probe.received["robot_speaking"].messages]
                if True in states and not states[-1]:
                    break
                time.sleep(0.1)
            time.sleep(0.5)
            with probe.lock:
                speaking = [(t, m.data) for t, m in zip(probe.received["robot_speaking"].times,
                                                        probe.received["robot_speaking"].messages)]
                frames = [(t, m) for t, m in zip(probe.received["face/blendshapes"].times,
                                                 probe.received["face/blendshapes"].messages) if t >= said_at]
        finally:
            probe.close()
        states = [value for _, value in speaking]
        self.assertIn(True, states, "robot_speaking never went true")
        self.assertFalse(states[-1], "robot_speaking is still true after the sentence")
        jaw = [m.position[list(m.name).index("jawOpen")] for _, m in frames]
        self.assertGreater(len(jaw), 50, "too few face frames while the robot spoke (the probe is best-effort)")
        self.assertGreater(max(jaw), 0.2, "the mouth did not open while the robot spoke")


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):
    def test_every_process_exits_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[0])
