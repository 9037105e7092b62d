"""The TTS sync option for real: the audio_capture node plays a WAV into a PulseAudio null sink through
sounddevice/PortAudio while publishing it; the sink's monitor is captured (with PortAudio's ADC timestamps on
the system's monotonic clock) in another process, and cross-correlation says when each sample left the
"speaker". That time minus the time the chunk was received on audio/pcm must be playback_delay_s.
The capture process is talkface_ros.audio.timed_capture."""
from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from talkface_ros.audio.timed_capture import CAPTURE_RATE

from pulse_fixture import pulse_server, speech_wav  # noqa: E402,F401
from ros_helpers import Recorder, require_rclpy, start_node, stop_process  # noqa: E402

require_rclpy()

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from std_msgs.msg import Int16MultiArray  # noqa: E402

from talkface_ros.audio.wav import load_audio  # noqa: E402
from talkface_ros.nodes.messages import msg_to_pcm  # noqa: E402

pytestmark = pytest.mark.ros


def heard_time(capture: dict, source: np.ndarray, start: float, stop: float) -> tuple[float, float]:
    """When source[0] left the sink, searching the capture between monotonic times start and stop; and the
    Pearson correlation there."""
    times, lengths, samples = capture["block_times"], capture["block_lengths"], capture["samples"]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    first = int(np.searchsorted(times, start))
    last = int(np.searchsorted(times, stop))
    window = samples[offsets[first]: offsets[last] + len(source)]
    size = 1 << (len(window) + len(source)).bit_length()
    xcorr = np.fft.irfft(np.fft.rfft(window, size) * np.conj(np.fft.rfft(source, size)), size)
    lag = int(np.argmax(xcorr[: len(window) - len(source) + 1]))
    correlation = float(np.corrcoef(window[lag: lag + len(source)], source)[0, 1])
    index = offsets[first] + lag  # absolute sample index in the capture
    block = int(np.searchsorted(offsets, index, side="right")) - 1
    return float(times[block] + (index - offsets[block]) / CAPTURE_RATE), correlation


def measured_delays(capture: dict, source: np.ndarray, first_received: float, pieces: int = 4) -> list[float]:
    """Sound-out time minus receive time for each of `pieces` parts of the utterance that are found with a
    correlation >= 0.9 (a part is lost when the loaded machine stalls the device or the capture)."""
    delays = []
    piece = len(source) // pieces
    for k in range(pieces):
        part = source[k * piece:(k + 1) * piece]
        if np.sqrt(np.mean(part ** 2)) < 0.01:
            continue  # silence cannot be located
        offset_s = k * piece / CAPTURE_RATE
        heard, correlation = heard_time(capture, part, first_received + offset_s - 0.05,
                                        first_received + offset_s + 0.6)
        if correlation >= 0.9:
            delays.append(heard - offset_s - first_received)
    return delays


def play_through_node(wav, delay_s: float) -> tuple[float, list[dict[str, str]], str, int]:
    """Run the node with playback; the receive time of the first chunk, its playback diagnostics, its output."""
    diagnostics: list[dict[str, str]] = []
    with Recorder(Int16MultiArray, "audio/pcm") as recorder:
        recorder.node.create_subscription(
            DiagnosticArray, "/diagnostics",
            lambda msg: diagnostics.extend({kv.key: kv.value for kv in s.values} for s in msg.status
                                           if s.name.startswith("audio_capture")), 50)
        node = start_node("audio_capture", {
            "source": "wav", "wav_path": str(wav), "playback": True, "playback_device": "pulse",
            "playback_delay_s": delay_s, "stats_period_s": 0.5, "wait_for_subscriber_s": 20.0})
        try:
            expected = len(load_audio(wav))
            received = lambda: sum(len(m.data) for m in recorder.messages)  # noqa: E731
            assert recorder.spin_until(lambda: received() >= expected, timeout=30), stop_process(node)
            recorder.spin_until(lambda: node.poll() is not None, timeout=delay_s + 5)
        finally:
            output = stop_process(node)
        assert np.concatenate([msg_to_pcm(m) for m in recorder.messages]).size == expected, "every sample published"
        return recorder.receive_times[0], diagnostics, output, node.returncode


def test_playback_sounds_playback_delay_after_publishing(tmp_path, pulse_server, monkeypatch):  # noqa: F811
    for key, value in pulse_server.env.items():
        monkeypatch.setenv(key, value)
    wav = speech_wav(tmp_path / "speech.wav", "Hello, I am a robot face.")
    source = load_audio(wav)
    capture_file = tmp_path / "capture.npz"
    capture = subprocess.Popen([sys.executable, "-m", "talkface_ros.audio.timed_capture", str(capture_file)],
                               env=pulse_server.env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert capture.stdout.readline().strip() == "ready"
        runs = {}
        for delay in (0.05, 0.30):
            first_received, diagnostics, output, returncode = play_through_node(wav, delay)
            # (rclpy's Executor.__del__ may print an ignored InvalidHandle traceback after run_node's shutdown)
            own_output = output.split("Exception ignored in: <function Executor.__del__")[0]
            assert returncode == 0 and "Traceback" not in own_output, output
            runs[delay] = (first_received, diagnostics)
        time.sleep(0.2)
    finally:
        capture.communicate("stop\n", timeout=20)
    recorded = dict(np.load(capture_file, allow_pickle=False))
    measured = {}
    for delay, (first_received, diagnostics) in runs.items():
        delays = measured_delays(recorded, source, first_received)
        heard, correlation = heard_time(recorded, source, first_received - 0.05, first_received + 1.0)
        print(f"playback_delay_s {delay:.2f}: sound out {heard - first_received:.4f} s after the first chunk "
              f"arrived (correlation {correlation:.4f}); per part {np.round(delays, 4).tolist()}; "
              f"diagnostics {diagnostics[-1] if diagnostics else None}")
        assert len(delays) >= 2, "the played speech is found in the speaker's output"
        measured[delay] = float(np.median(delays))
        assert abs(measured[delay] - delay) <= 0.04  # the device latency is inside the delay, not on top of it
        assert diagnostics and float(diagnostics[-1]["playback_delay_ms"]) == pytest.approx(delay * 1000, abs=0.5)
        assert 0.0 < float(diagnostics[-1]["playback_output_latency_ms"]) < delay * 1000
        assert diagnostics[-1]["playback_active"] == "1" and "playback_late_chunks" in diagnostics[-1]
    assert measured[0.30] - measured[0.05] == pytest.approx(0.25, abs=0.03)


@pytest.mark.parametrize("params, reason", [
    ({"source": "microphone", "playback": True}, "playback needs source=wav"),
    ({"source": "wav", "wav_path": "/tmp/x.wav", "playback": True, "realtime": False}, "playback needs realtime=true"),
    ({"source": "wav", "playback_delay_s": 3.0}, "playback_delay_s"),
    ({"source": "wav", "wav_path": "WAV", "playback": True, "playback_device": "no-such-speaker-xyz"},
     "no output device named 'no-such-speaker-xyz'"),
])
def test_playback_refusals_are_one_clear_error(params, reason, tmp_path):
    if params.get("wav_path") == "WAV":
        params = dict(params, wav_path=str(speech_wav(tmp_path / "speech.wav", "Hello, I am a robot face.")))
    node = start_node("audio_capture", params)
    node.wait(timeout=30)
    output = stop_process(node)
    assert node.returncode == 1, output
    assert reason in output
    assert "Traceback" not in output
