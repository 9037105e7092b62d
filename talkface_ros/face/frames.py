"""Resampling face frames between rates (50 Hz model frames <-> 30/60 fps exports).

Frame i at rate r describes time (i + 0.5) / r (interval centres, contract A). Values are linearly
interpolated at the destination centres and held at the ends.
"""
from __future__ import annotations

import numpy as np


def resample_frames(frames: np.ndarray, src_fps: float, dst_fps: float) -> np.ndarray:
    """[T, C] at src_fps -> [round(T * dst_fps / src_fps), C] at dst_fps (float32)."""
    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim != 2:
        raise ValueError(f"frames must be [T, C], got shape {frames.shape}")
    if not (np.isfinite(src_fps) and np.isfinite(dst_fps)) or src_fps <= 0 or dst_fps <= 0:
        raise ValueError(f"frame rates must be positive, got {src_fps} -> {dst_fps}")
    num_src = len(frames)
    if num_src == 0:
        return np.zeros((0, frames.shape[1]), np.float32)
    num_dst = max(1, int(round(num_src * dst_fps / src_fps)))
    src_t = (np.arange(num_src) + 0.5) / src_fps
    dst_t = (np.arange(num_dst) + 0.5) / dst_fps
    out = np.empty((num_dst, frames.shape[1]), np.float32)
    for c in range(frames.shape[1]):
        out[:, c] = np.interp(dst_t, src_t, frames[:, c])
    return out
