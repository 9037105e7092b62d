"""Shared inputs for the model tests."""
from __future__ import annotations

import numpy as np

from talkface_ros.data.corpus import Utterance, write_manifest, write_shard
from talkface_ros.face.arkit import INDEX


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


def toy_utterance(i: int, split: str) -> Utterance:
    """Loud bursts open the jaw, silence closes it: a learnable toy relation (1.2 s)."""
    rng = np.random.default_rng(i)
    T = 60
    loud = (np.arange(T) // 6 + i) % 2 == 0
    audio = (rng.standard_normal(T * 320) * np.repeat(np.where(loud, 8000, 50), 320)).astype(np.int16)
    frames = np.zeros((T, 55), np.float32)
    frames[:, INDEX["jawOpen"]] = np.where(loud, 0.8, 0.05)
    return Utterance(f"u{i}", audio, frames, np.where(loud, 1, 2).astype(np.uint8), np.zeros(T, np.int8),
                     emotion="happy" if i % 2 else "neutral", intensity=0.7, split=split)


def write_toy_corpus(directory) -> None:
    """Six toy training utterances and one for validation (contract A)."""
    write_shard(directory, 0, [toy_utterance(i, "train") for i in range(6)] + [toy_utterance(9, "val")])
    write_manifest(directory)
