"""face_hardware.launch.py for real with hardware:=emulated-maestro: the Maestro and the Dynamixel neck emulated
on pseudo-terminals, two servo_driver nodes talking the real protocols to them, measured joint states back, in
a namespace; every process (the emulators too) exits cleanly when the launch is stopped."""
import os
import sys
import unittest

import launch_testing
import launch_testing.asserts
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from graph_checks import all_finite, graph_flow, include_launch_file, short_clip  # noqa: E402


@pytest.mark.launch_test
def generate_test_description():
    return include_launch_file("face_hardware.launch.py", {
        "hardware": "emulated-maestro", "audio_source": "wav", "wav_path": short_clip(8.0),
        "stop_at_end": "false", "namespace": "robot1"})


class TestDataFlows(unittest.TestCase):
    def test_commands_reach_the_emulated_servos_and_come_back_measured(self, proc_output):
        frames, commands, states = graph_flow(namespace="robot1")
        self.assertTrue(40.0 <= frames.rate_hz() <= 60.0, f"blendshapes at {frames.rate_hz():.1f} Hz, not 50")
        self.assertGreater(commands.rate_hz(), 60.0)
        self.assertTrue(all(all_finite(m.data) for m in commands.messages))
        # both drivers report what their (emulated) servos measured: 24 Maestro joints and the 3-joint neck
        names = {len(m.name) for m in states.messages}
        self.assertTrue({24, 3} <= names, f"joint_states sizes {names}")
        self.assertTrue(all(all_finite(m.position) for m in states.messages))
        proc_output.assertWaitFor("maestro bus connected on /tmp/talkface-emulated-", timeout=5.0)
        proc_output.assertWaitFor("dynamixel bus connected on /tmp/talkface-emulated-", timeout=5.0)


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):
    def test_every_process_exits_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[0])
