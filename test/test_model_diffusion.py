"""Diffusion pieces: schedule endpoints, DDIM and the one-step sampler are exact with an oracle denoiser,
the emotion injection starts at zero, the rollout conditions on its own outputs."""
from __future__ import annotations

import numpy as np
import torch

from talkface_ros.model.diffusion import alpha_sigma, ddim_sample, one_step
from talkface_ros.model.network import Denoiser, FaceModel, ModelConfig
from talkface_ros.model.rollout import rollout


class Oracle(torch.nn.Module):
    """Returns the exact v for a known clean frame x0."""

    def __init__(self, x0: torch.Tensor) -> None:
        super().__init__()
        self.x0 = x0

    def forward(self, x_t, t, h, history, emotion, lookahead):
        a, s = alpha_sigma(t)
        a, s = a[:, None], s[:, None]
        eps = (x_t - a * self.x0) / s.clamp(min=1e-8)
        return a * eps - s * self.x0


def test_cosine_schedule_endpoints():
    a, s = alpha_sigma(torch.tensor([0.0, 0.5, 1.0]))
    torch.testing.assert_close(a ** 2 + s ** 2, torch.ones(3))
    assert a[0] > 0.999 and a[2] == 0.0 and s[2] == 1.0
    assert a[0] > a[1] > a[2]


def test_ddim_and_one_step_recover_x0_with_an_oracle():
    x0 = torch.randn(4, 55)
    noise = torch.randn(4, 55)
    oracle = Oracle(x0)
    args = (None, None, torch.zeros(4, 7), torch.zeros(4, dtype=torch.long))
    torch.testing.assert_close(ddim_sample(oracle, noise, *args, steps=20, guidance=1.0), x0, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(one_step(oracle, noise, *args), x0)


def test_emotion_injection_is_zero_initialised():
    cfg = ModelConfig(d_model=16, den_hidden=16, den_layers=1, history=2)
    den = Denoiser(cfg).eval()
    x, t, h = torch.randn(3, 55), torch.rand(3), torch.randn(3, 16)
    hist, la = torch.randn(3, 2, 55), torch.zeros(3, dtype=torch.long)
    a = den(x, t, h, hist, torch.zeros(3, 7), la)
    b = den(x, t, h, hist, torch.eye(7)[:3], la)
    torch.testing.assert_close(a, b)


def test_rollout_student_and_teacher_shapes_and_limits():
    torch.manual_seed(0)
    model = FaceModel(ModelConfig(d_model=16, n_layer=1, n_head=2, window=4, den_hidden=16, den_layers=1)).eval()
    tokens = [np.random.default_rng(i).standard_normal((n, 160)).astype(np.float32) for i, n in enumerate((7, 12))]
    emotions = np.zeros((2, 7), np.float32)
    for steps in (None, 3):
        out = rollout(model, tokens, emotions, lookahead=1, teacher_steps=steps)
        assert [o.shape for o in out] == [(7, 55), (12, 55)]
        assert all(np.isfinite(o).all() and o[:, :52].min() >= 0 and np.abs(o[:, 52:]).max() <= 0.6 for o in out)
