"""The audio_capture node as a separate process, over real rclpy topics on loopback."""
import numpy as np
import pytest
import soundfile

from ros_helpers import Recorder, require_rclpy, start_node, stop_process

require_rclpy()
pytestmark = pytest.mark.ros

from std_msgs.msg import Int16MultiArray  # noqa: E402

from talkface_ros.audio.pcm import float_to_int16  # noqa: E402
from talkface_ros.audio.wav import load_audio  # noqa: E402
from talkface_ros.nodes.messages import msg_to_pcm  # noqa: E402
from talkface_ros.paths import config_path  # noqa: E402


def make_speechlike_wav(path, rate=16000, seconds=1.2, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    signal = 0.3 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) + 0.02 * rng.standard_normal(len(t))
    soundfile.write(path, signal.astype(np.float32), rate, subtype="PCM_16")
    return path


def shipped_config_for_wav(tmp_path, wav):
    """The shipped YAML with only the source switched to this WAV: proves every key in it is accepted."""
    text = config_path("audio_capture.yaml").read_text()
    text = text.replace("source: microphone", "source: wav").replace('wav_path: ""', f'wav_path: "{wav}"')
    text = text.replace("wait_for_subscriber_s: 5.0", "wait_for_subscriber_s: 30.0")
    # reliable, so a loaded machine cannot drop a best-effort sample (the default is best effort)
    text = text.replace("reliable: false", "reliable: true")
    path = tmp_path / "audio_capture.yaml"
    path.write_text(text)
    return path


def test_wav_source_delivers_every_sample_in_order(tmp_path):
    wav = make_speechlike_wav(tmp_path / "speech.wav", rate=44100)
    expected = float_to_int16(load_audio(wav))
    with Recorder(Int16MultiArray, "/test_ns/audio/pcm", qos=1000) as recorder:  # reliable, like the node here
        node = start_node(
            "audio_capture",
            {},
            extra=["-r", "__ns:=/test_ns", "--params-file", str(shipped_config_for_wav(tmp_path, wav))],
        )
        try:
            received = lambda: sum(len(m.data) for m in recorder.messages)  # noqa: E731
            assert recorder.spin_until(lambda: received() >= len(expected), timeout=30), stop_process(node)
            node.wait(timeout=10)
        finally:
            output = stop_process(node)
    chunks = [msg_to_pcm(m) for m in recorder.messages]
    assert all(len(c) == 160 for c in chunks[:-1]), "10 ms chunks at 16 kHz"
    np.testing.assert_array_equal(np.concatenate(chunks), expected)
    assert node.returncode == 0, output


@pytest.mark.parametrize(
    "params, reason",
    [
        ({"source": "wav", "wav_path": "/nonexistent/speech.wav"}, "audio file not found"),
        ({"source": "wav", "wav_path": ""}, "wav_path is empty"),
        ({"source": "microphone", "device": "no-such-microphone-xyz"}, "no-such-microphone-xyz"),
        ({"chunk_ms": 100.0}, "out of range"),
        ({"sample_rate": 4}, "out of range"),
        ({"source": "speaker"}, "source must be one of"),
    ],
)
def test_bad_start_up_is_one_clear_error_and_exit_code_1(params, reason):
    node = start_node("audio_capture", params)
    node.wait(timeout=30)
    output = stop_process(node)
    assert node.returncode == 1, output
    assert reason in output
    assert "Traceback" not in output


def test_non_wav_file_is_rejected(tmp_path):
    bogus = tmp_path / "bogus.wav"
    bogus.write_bytes(b"RIFF....not really a wave file" * 10)
    node = start_node("audio_capture", {"source": "wav", "wav_path": str(bogus)})
    node.wait(timeout=30)
    output = stop_process(node)
    assert node.returncode == 1 and "cannot read" in output and "Traceback" not in output
