"""Shared by the cross-process benchmarks: a driver node that publishes PCM chunks on a real-time schedule
and records when frames/commands come back, plus process RSS readings. Loopback discovery only."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("ROS_DOMAIN_ID", str(150 + os.getpid() % 50))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def has_library(pid: int, fragment: str) -> bool:
    try:
        return fragment in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def percentiles(values_ms: list[float]) -> dict[str, float]:
    if not values_ms:
        return {"count": 0}
    array = np.asarray(values_ms)
    return {"count": int(len(array)), "p50_ms": round(float(np.percentile(array, 50)), 3),
            "p90_ms": round(float(np.percentile(array, 90)), 3), "p99_ms": round(float(np.percentile(array, 99)), 3),
            "max_ms": round(float(array.max()), 3)}


def speech_samples(seconds: float = 6.0) -> np.ndarray:
    """int16 16 kHz speech made here with espeak-ng (falls back to a modulated tone)."""
    import shutil
    import subprocess
    import tempfile

    from talkface_ros.audio.pcm import float_to_int16
    from talkface_ros.audio.wav import load_audio

    if shutil.which("espeak-ng"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "speech.wav"
            text = ("Hello there. My face moves when I speak, and my lips close on every p, b and m. "
                    "Open vowels open the jaw; rounded vowels round the lips.")
            subprocess.run(["espeak-ng", "-w", str(path), text], check=True)
            samples = float_to_int16(load_audio(path))
    else:
        t = np.arange(int(16000 * seconds)) / 16000
        samples = float_to_int16(0.3 * np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 3 * t) > 0))
    reps = int(np.ceil(seconds * 16000 / len(samples)))
    return np.tile(samples, reps)[: int(seconds * 16000)]


def spin_for(executor, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        executor.spin_once(timeout_sec=0.01)


def publish_in_real_time(executor, publisher, samples: np.ndarray, chunk: int, sample_rate: int = 16000) -> list[float]:
    """Publish `samples` in `chunk`-sample messages at the audio rate, spinning the executor in between so
    replies are received; returns the perf_counter time each chunk was published. Then spins 1 s more."""
    from talkface_ros.nodes.messages import pcm_to_msg

    sent: list[float] = []
    start = time.perf_counter()
    for k in range(len(samples) // chunk):
        due = start + k * chunk / sample_rate
        while time.perf_counter() < due:
            executor.spin_once(timeout_sec=max(0.0, min(0.002, due - time.perf_counter())))
        sent.append(time.perf_counter())
        publisher.publish(pcm_to_msg(samples[k * chunk:(k + 1) * chunk]))
        executor.spin_once(timeout_sec=0)
    spin_for(executor, 1.0)
    return sent
