"""Autoregressive rollouts in torch, batched over utterances: the N-step teacher (DDIM + guidance) or the
one-step student, each frame conditioned on the frames it generated before (outpainting). For evaluation
and benchmarks; the runtime path is FaceStreamer."""
from __future__ import annotations

import numpy as np
import torch

from talkface_ros.model.diffusion import ddim_sample, student_x0
from talkface_ros.model.network import FaceModel
from talkface_ros.model.steps import frame_limits


@torch.no_grad()
def rollout(model: FaceModel, tokens: list[np.ndarray], emotions: np.ndarray, lookahead: int = 0,
            teacher_steps: int | None = None, guidance: float = 1.5, seed: int = 0) -> list[np.ndarray]:
    """tokens: per utterance [T_i, 160]; emotions [B, 7]. teacher_steps=None -> the student (1 NFE).
    -> per utterance frames [T_i, 55] (raw, clamped)."""
    B = len(tokens)
    T = max(len(t) for t in tokens)
    batch = np.zeros((B, T + lookahead, tokens[0].shape[1]), np.float32)
    batch[:] = np.log(1e-6)  # silence after each utterance ends
    for b, t in enumerate(tokens):
        batch[b, : len(t)] = t
    h = model.encoder(torch.from_numpy(batch))
    gen = torch.Generator().manual_seed(seed)
    K = model.cfg.history
    history = torch.zeros(B, K, model.cfg.face_dim)
    emotion = torch.from_numpy(emotions.astype(np.float32))
    la = torch.full((B,), lookahead, dtype=torch.long)
    lo, hi = frame_limits()
    out = torch.zeros(B, T, model.cfg.face_dim)
    for t in range(T):
        noise = torch.randn(B, model.cfg.face_dim, generator=gen)
        hist = model.normalize(history)
        if teacher_steps is None:
            x0 = student_x0(model, noise, h[:, t], h[:, t + lookahead], hist, emotion, la)
        else:
            x0 = ddim_sample(model.teacher, noise, h[:, t + lookahead], hist, emotion, la, teacher_steps, guidance)
        frame = torch.minimum(torch.maximum(model.denormalize(x0), lo), hi)
        out[:, t] = frame
        history = torch.cat([history[:, 1:], frame[:, None]], dim=1)
    return [out[b, : len(tokens[b])].numpy() for b in range(B)]
