"""audio_capture.launch.py for real: a WAV in 10 ms chunks on a remapped topic in a namespace, at the audio
rate; string arguments stay strings (device:=3 used to reach the node as an integer and kill it)."""
import os
import sys
import unittest

import launch_testing
import launch_testing.asserts
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from graph_checks import TopicProbe, include_launch_file, short_clip  # noqa: E402


@pytest.mark.launch_test
def generate_test_description():
    return include_launch_file("audio_capture.launch.py", {
        "audio_source": "wav", "wav_path": short_clip(6.0), "stop_at_end": "false", "namespace": "robot1",
        "audio_topic": "mic/pcm", "device": "3", "sample_rate": "16000"})


class TestAudioFlows(unittest.TestCase):
    def test_pcm_chunks_at_the_audio_rate_on_the_remapped_topic(self):
        from std_msgs.msg import Int16MultiArray

        probe = TopicProbe({"/robot1/mic/pcm": Int16MultiArray})
        try:
            chunks = probe.wait_for("/robot1/mic/pcm", 300, timeout=30.0)
        finally:
            probe.close()
        self.assertGreaterEqual(len(chunks.times), 300)
        self.assertEqual({len(m.data) for m in chunks.messages}, {160})  # 10 ms at 16 kHz
        self.assertTrue(85.0 <= chunks.rate_hz() <= 115.0, f"{chunks.rate_hz():.1f} chunks/s, not 100")
        self.assertGreater(max(max(abs(v) for v in m.data) for m in chunks.messages), 1000)  # speech, not silence


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):
    def test_every_process_exits_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[0])
