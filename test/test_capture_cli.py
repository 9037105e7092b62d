"""`talkface capture`: a recording holds the requested duration, or the command fails and writes nothing."""
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from pulse_fixture import pulse_server  # noqa: F401
from talkface_ros.audio import capture_cli
from talkface_ros.cli import main as talkface


@pytest.mark.slow
def test_capture_records_the_requested_seconds_through_pulseaudio(tmp_path, pulse_server):  # noqa: F811
    # PulseAudio delivers its first samples a second or more after the stream starts: a wall-clock deadline
    # wrote 0.02-1.4 s for --seconds 2
    out = tmp_path / "sub" / "mic.wav"
    result = subprocess.run([sys.executable, "-m", "talkface_ros.cli", "capture", "--seconds", "2", "--device",
                             "pulse", "-o", str(out)], env=pulse_server.env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    data, rate = soundfile.read(out, dtype="int16")
    assert rate == 16000 and len(data) == 32000, (len(data), result.stdout)
    assert "wrote" in result.stdout and "2.00 s" in result.stdout


class StalledMicrophone:
    """Delivers 0.1 s of audio, then nothing: a muted or suspended input."""

    device_name = "stalled"
    native_rate = 16000

    def __init__(self, config) -> None:
        self.stats = type("Stats", (), {"xruns": 0, "dropped_blocks": 0})()
        self._left = 10

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def read(self, timeout: float = 0.1):
        if self._left:
            self._left -= 1
            return np.zeros(160, dtype=np.int16)
        return None


def test_a_stalled_input_fails_with_a_reason_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(capture_cli, "MicrophoneSource", StalledMicrophone)
    monkeypatch.setattr(capture_cli, "START_GRACE_S", 0.3)
    out = tmp_path / "mic.wav"
    assert talkface(["capture", "--seconds", "0.5", "-o", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "error: 'stalled' delivered only 0.10 s of the 0.5 s asked for" in printed
    assert not out.exists()


@pytest.mark.parametrize("seconds", ["0", "-1", "nan", "two"])
def test_bad_seconds_is_a_usage_error(seconds, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        talkface(["capture", "--seconds", seconds, "-o", str(tmp_path / "x.wav")])
    assert exit_.value.code == 2 and "argument --seconds" in capsys.readouterr().err


def test_an_unwritable_output_fails_before_recording(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(capture_cli, "MicrophoneSource", lambda config: pytest.fail("it recorded"))
    assert talkface(["capture", "--seconds", "1", "-o", str(tmp_path)]) == 1
    assert "is a directory" in capsys.readouterr().out
