"""The inference graphs, as torch modules (the torch backend runs them; `export-onnx` exports them):

- `StreamStep`: one 20 ms audio token + the encoder's KV cache -> audio encoding, new cache, and the face frame
  from ONE student denoising step (the per-frame step of the node);
- `EncodeAll`: the encoder over a whole token sequence (offline path of `talkface animate`; equal to stepping);
- `DenoiseStep`: one student step from an audio encoding (offline path, sequential over frames).
Face frames in and out are raw (FRAME_NAMES units); outputs are clamped: weights [0, 1], head pose +-0.6 rad.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from talkface_ros.face.arkit import FRAME_SIZE, HEAD_POSE_LIMIT_RAD, NUM_BLENDSHAPES
from talkface_ros.model.diffusion import one_step
from talkface_ros.model.network import FaceModel



def frame_limits() -> tuple[torch.Tensor, torch.Tensor]:
    lo = torch.zeros(FRAME_SIZE)
    hi = torch.ones(FRAME_SIZE)
    lo[NUM_BLENDSHAPES:] = -HEAD_POSE_LIMIT_RAD
    hi[NUM_BLENDSHAPES:] = HEAD_POSE_LIMIT_RAD
    return lo, hi


class DenoiseStep(nn.Module):
    def __init__(self, model: FaceModel) -> None:
        super().__init__()
        self.model = model
        lo, hi = frame_limits()
        self.register_buffer("lo", lo)
        self.register_buffer("hi", hi)

    def forward(self, h, history, noise, emotion, lookahead):
        # h [B, d]; history [B, K, 55] raw; noise [B, 55]; emotion [B, 7]; lookahead [B] int64 -> [B, 55] raw
        hist = self.model.normalize(history)
        x0 = one_step(self.model.student, noise, h, hist, emotion, lookahead)
        frame = self.model.denormalize(x0)
        return torch.minimum(torch.maximum(frame, self.lo), self.hi)


class StreamStep(nn.Module):
    def __init__(self, model: FaceModel) -> None:
        super().__init__()
        self.encoder = model.encoder
        self.denoise = DenoiseStep(model)

    def forward(self, token, k_cache, v_cache, mask, history, noise, emotion, lookahead):
        h, k_cache, v_cache = self.encoder.step(token, k_cache, v_cache, mask)
        frame = self.denoise(h, history, noise, emotion, lookahead)
        return frame, h, k_cache, v_cache


class EncodeAll(nn.Module):
    def __init__(self, model: FaceModel) -> None:
        super().__init__()
        self.encoder = model.encoder

    def forward(self, tokens):  # [B, T, 160] -> [B, T, d]; T a multiple of the window (caller pads)
        return self.encoder(tokens, blocked=True)
