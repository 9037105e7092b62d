"""Shared inputs for the model tests."""
from __future__ import annotations

import numpy as np


def speech_like_pcm(seconds: float, seed: int = 0) -> np.ndarray:
    """Noise with a 100 ms loudness envelope (bursts and pauses), int16 at 16 kHz."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 16000)
    env = np.repeat(rng.uniform(0, 1, n // 1600 + 1), 1600)[:n]
    return (rng.standard_normal(n) * env * 6000).clip(-32768, 32767).astype(np.int16)


def stream_in_random_chunks(streamer, pcm: np.ndarray, seed: int) -> np.ndarray:
    """push() the audio in odd chunk sizes (1-899 samples, as a node gets them), then flush() -> frames [T, 55]."""
    rng = np.random.default_rng(seed)
    frames, i = [], 0
    while i < len(pcm):
        n = int(rng.integers(1, 900))
        frames += streamer.push(pcm[i:i + n])
        i += n
    frames += streamer.flush()
    return np.stack([f.values for f in frames])
