"""The real capture path: a WAV played into a PulseAudio null sink is captured by the audio_capture node
through sounddevice/PortAudio and received by a subscriber in this (another) process."""
import subprocess
import sys

import numpy as np
import pytest

from pulse_fixture import pulse_server, speech_wav  # noqa: F401
from ros_helpers import Recorder, param_args, require_rclpy, ros_env, stop_process

require_rclpy()
pytestmark = [pytest.mark.ros, pytest.mark.slow]

from std_msgs.msg import Int16MultiArray  # noqa: E402

from talkface_ros.audio.wav import load_audio  # noqa: E402
from talkface_ros.nodes.messages import msg_to_pcm  # noqa: E402


def best_alignment(received: np.ndarray, source: np.ndarray) -> tuple[int, float]:
    """Lag and Pearson correlation of `source` inside `received`, by FFT cross-correlation."""
    n = len(received) + len(source)
    size = 1 << (n - 1).bit_length()
    xcorr = np.fft.irfft(np.fft.rfft(received, size) * np.conj(np.fft.rfft(source, size)), size)
    lag = int(np.argmax(xcorr[: len(received) - len(source) + 1]))
    segment = received[lag: lag + len(source)]
    return lag, float(np.corrcoef(segment, source)[0, 1])


def test_microphone_capture_through_pulseaudio(tmp_path, pulse_server):  # noqa: F811
    wav = speech_wav(tmp_path / "speech.wav")
    source = load_audio(wav)
    env = ros_env()
    env.update(pulse_server.env)
    node = subprocess.Popen(
        [sys.executable, "-m", "talkface_ros.nodes.audio_capture",
         *param_args({"source": "microphone", "device": "pulse", "stats_period_s": 1.0})],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with Recorder(Int16MultiArray, "audio/pcm") as recorder:
        try:
            assert recorder.spin_until(lambda: len(recorder.messages) >= 20, timeout=30), stop_process(node)
            player = pulse_server.play(wav)
            recorder.spin_until(lambda: player.poll() is not None, timeout=30)
            count = len(recorder.messages)
            recorder.spin_until(lambda: len(recorder.messages) >= count + 50, timeout=5)  # the tail
        finally:
            output = stop_process(node)
    received = np.concatenate([msg_to_pcm(m) for m in recorder.messages]).astype(np.float32) / 32768.0
    lag, correlation = best_alignment(received, source)
    print(f"capture correlation {correlation:.4f} at lag {lag} samples, {len(recorder.messages)} chunks")
    assert correlation >= 0.99, output
    # No gaps: the sample stream is continuous, so the chunk count matches the time we listened for.
    span_s = recorder.receive_times[-1] - recorder.receive_times[0]
    expected_chunks = span_s / 0.010
    assert len(recorder.messages) >= 0.9 * expected_chunks, (len(recorder.messages), expected_chunks)
    assert "Traceback" not in output
