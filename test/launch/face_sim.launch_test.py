"""face_sim.launch.py for real: the simulated-face graph on a WAV clip, blendshapes at 50 Hz, motor commands at
the control rate, simulated joint states, and every process exits cleanly when the launch is stopped."""
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
    # stop_at_end:=false: launch_testing ends the launch once the checks are done
    return include_launch_file("face_sim.launch.py", {
        "audio_source": "wav", "wav_path": short_clip(8.0), "stop_at_end": "false", "emotion": "happy:0.5"})


class TestDataFlows(unittest.TestCase):
    def test_blendshapes_commands_and_joint_states_flow(self):
        frames, commands, states = graph_flow()
        self.assertGreaterEqual(len(frames.times), 250, "too few blendshape frames")
        self.assertTrue(40.0 <= frames.rate_hz() <= 60.0, f"blendshapes at {frames.rate_hz():.1f} Hz, not 50")
        last = frames.messages[-1]
        self.assertEqual(len(last.name), 55)
        self.assertTrue(all(0.0 <= w <= 1.0 for w in last.position[:52]))
        self.assertGreaterEqual(len(commands.times), 200)
        self.assertGreater(commands.rate_hz(), 60.0, f"commands at {commands.rate_hz():.1f} Hz (control rate 100)")
        self.assertTrue(all(all_finite(m.data) for m in commands.messages))
        self.assertEqual(len(commands.messages[-1].data), 27)
        self.assertGreaterEqual(len(states.times), 50)
        self.assertTrue(all_finite(states.messages[-1].position))


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):
    def test_every_process_exits_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[0])
