"""A private PulseAudio server with a null sink, so the real capture path (PortAudio -> ALSA pulse plugin ->
PulseAudio) can be tested on a machine without a sound card."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class PulseServer:
    env: dict[str, str]
    sink: str

    def play(self, wav: Path) -> subprocess.Popen:
        return subprocess.Popen(["paplay", f"--device={self.sink}", str(wav)], env=self.env)


def start_pulse(runtime_dir: Path):
    for tool in ("pulseaudio", "paplay", "pacat", "pactl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (make setup installs pulseaudio as root)")
    runtime_dir.mkdir(parents=True, exist_ok=True)
    socket = runtime_dir / "native"
    sink = "talkface_test_sink"
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime_dir), HOME=str(runtime_dir),
               PULSE_SERVER=f"unix:{socket}", PULSE_SINK=sink, PULSE_SOURCE=f"{sink}.monitor")
    server = subprocess.Popen(
        ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit", "-n", "--use-pid-file=no",
         f"--load=module-native-protocol-unix socket={socket} auth-anonymous=1",
         f"--load=module-null-sink sink_name={sink} rate=16000 channels=1", "--log-target=stderr"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
            break
        if server.poll() is not None:
            pytest.skip(f"pulseaudio did not start: {server.stderr.read().decode()[-500:]}")
        time.sleep(0.1)
    else:
        server.kill()
        pytest.skip("pulseaudio did not answer within 10 s")
    # Keep the sink busy so it never suspends and its monitor always produces samples.
    keepalive = subprocess.Popen(["pacat", "--playback", f"--device={sink}", "--raw", "--rate=16000",
                                  "--channels=1", "--format=s16le", "/dev/zero"], env=env)
    return server, keepalive, PulseServer(env=env, sink=sink)


@pytest.fixture
def pulse_server(tmp_path):
    server, keepalive, pulse = start_pulse(tmp_path / "pulse")
    try:
        yield pulse
    finally:
        for process in (keepalive, server):
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()


def speech_wav(path: Path, text: str = "The quick brown fox jumps over the lazy dog.") -> Path:
    """A speech WAV made here with espeak-ng (a modulated tone where espeak-ng is missing)."""
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-w", str(path), text], check=True)
    else:
        import numpy as np
        import soundfile

        rate = 22050
        t = np.arange(int(rate * 2.0)) / rate
        soundfile.write(path, 0.3 * np.sin(2 * np.pi * 200 * t) * np.sin(2 * np.pi * 2 * t), rate)
    return path
