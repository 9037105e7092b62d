"""Shared inputs for the model tests."""
from __future__ import annotations

import numpy as np


def speech_like_pcm(seconds: float, seed: int = 0) -> np.ndarray:
    """Noise with a 100 ms loudness envelope (bursts and pauses), int16 at 16 kHz."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 16000)
    env = np.repeat(rng.uniform(0, 1, n // 1600 + 1), 1600)[:n]
    return (rng.standard_normal(n) * env * 6000).clip(-32768, 32767).astype(np.int16)
