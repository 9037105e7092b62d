"""Sample format conversions. Float audio is in [-1, 1]; PCM on topics is mono int16 at 16 kHz."""
from __future__ import annotations

import numpy as np

MODEL_SAMPLE_RATE = 16000


def float_to_int16(samples: np.ndarray) -> np.ndarray:
    """Clip to [-1, 1] and scale; NaN/Inf become silence rather than garbage."""
    samples = np.nan_to_num(np.asarray(samples, dtype=np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    return np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)


def int16_to_float(samples: np.ndarray) -> np.ndarray:
    return np.asarray(samples, dtype=np.int16).astype(np.float32) / 32768.0


def to_mono(samples: np.ndarray) -> np.ndarray:
    """[frames] or [frames, channels] -> [frames], averaging channels."""
    samples = np.asarray(samples)
    if samples.ndim == 1:
        return samples.astype(np.float32)
    if samples.ndim == 2:
        return samples.astype(np.float32).mean(axis=1)
    raise ValueError(f"audio must be 1-D or [frames, channels], got shape {samples.shape}")


class Chunker:
    """Cuts a stream of arbitrary-sized pieces into fixed-size chunks, keeping the remainder."""

    def __init__(self, chunk_size: int) -> None:
        if chunk_size <= 0:
            raise ValueError(f"chunk size must be positive, got {chunk_size}")
        self.chunk_size = chunk_size
        self._pending = np.zeros(0, dtype=np.int16)

    def push(self, samples: np.ndarray) -> list[np.ndarray]:
        self._pending = np.concatenate([self._pending, np.asarray(samples, dtype=np.int16)])
        count = len(self._pending) // self.chunk_size
        chunks = [self._pending[i * self.chunk_size:(i + 1) * self.chunk_size] for i in range(count)]
        self._pending = self._pending[count * self.chunk_size:]
        return chunks

    def flush(self) -> np.ndarray | None:
        """The leftover partial chunk, if any (sent as-is: consumers accept any chunk length)."""
        if len(self._pending) == 0:
            return None
        rest, self._pending = self._pending, np.zeros(0, dtype=np.int16)
        return rest
