"""Diffusion on one face frame: cosine schedule, v-prediction, DDIM sampling with classifier-free guidance on
emotion (teacher, N steps), and the distilled one-step student. All in normalised face units."""
from __future__ import annotations

import math

import torch

from talkface_ros.model.network import Denoiser, FaceModel

COSINE_S = 0.008


def alpha_sigma(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosine schedule (Nichol & Dhariwal), continuous t in [0, 1] -> (alpha, sigma), alpha^2 + sigma^2 = 1."""
    angle = (t + COSINE_S) / (1 + COSINE_S) * math.pi / 2
    # clip the end so that alpha(1) is exactly 0 and sigma(1) exactly 1
    alpha = torch.cos(angle).clamp(min=0.0)
    alpha = torch.where(t >= 1.0, torch.zeros_like(alpha), alpha)
    sigma = torch.sqrt(1.0 - alpha ** 2)
    return alpha, sigma


def v_loss(den: Denoiser, x0: torch.Tensor, h, history, emotion, lookahead,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-element v-prediction MSE at a random time; returns [B, 55]."""
    B = x0.shape[0]
    t = torch.rand(B, generator=generator)
    eps = torch.randn(x0.shape, generator=generator)
    a, s = alpha_sigma(t)
    a, s = a[:, None], s[:, None]
    x_t = a * x0 + s * eps
    v_target = a * eps - s * x0
    return (den(x_t, t, h, history, emotion, lookahead) - v_target) ** 2


def _guided_v(den: Denoiser, x_t, t, h, history, emotion, lookahead, guidance: float) -> torch.Tensor:
    v_cond = den(x_t, t, h, history, emotion, lookahead)
    if guidance == 1.0:
        return v_cond
    v_uncond = den(x_t, t, h, history, torch.zeros_like(emotion), lookahead)
    return v_uncond + guidance * (v_cond - v_uncond)


@torch.no_grad()
def ddim_sample(den: Denoiser, noise: torch.Tensor, h, history, emotion, lookahead,
                steps: int = 20, guidance: float = 1.5) -> torch.Tensor:
    """Deterministic DDIM from t=1 (x = noise) to t=0 in `steps` steps -> x0 [B, 55]."""
    B = noise.shape[0]
    x = noise
    times = torch.linspace(1.0, 0.0, steps + 1)
    x0 = x
    for i in range(steps):
        t, s = times[i], times[i + 1]
        a_t, s_t = alpha_sigma(t.expand(B))
        a_s, s_s = alpha_sigma(s.expand(B))
        v = _guided_v(den, x, t.expand(B), h, history, emotion, lookahead, guidance)
        x0 = a_t[:, None] * x - s_t[:, None] * v
        eps = s_t[:, None] * x + a_t[:, None] * v
        x = a_s[:, None] * x0 + s_s[:, None] * eps
    return x0


def one_step(den: Denoiser, noise: torch.Tensor, h, history, emotion, lookahead) -> torch.Tensor:
    """The student: x0 from pure noise in a single evaluation (t = 1, where alpha = 0, sigma = 1: x0 = -v)."""
    t = torch.ones(noise.shape[0])
    return -den(noise, t, h, history, emotion, lookahead)


def student_x0(model: FaceModel, noise: torch.Tensor, h_frame, h, history, emotion, lookahead) -> torch.Tensor:
    """The student's frame (normalised): `one_step` from the encoding h at t + lookahead, plus, for a residual
    student, the aux head's estimate from h_frame, the encoding at t itself (lag-free at every lookahead)."""
    x0 = one_step(model.student, noise, h, history, emotion, lookahead)
    if model.cfg.residual_student:
        x0 = x0 + model.aux_head(h_frame)
    return x0
