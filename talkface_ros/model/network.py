"""The networks, small to large: attention -> block -> online audio encoder -> denoiser -> FaceModel.

Audio encoder: causal self-attention over a sliding window of the last `window` 20 ms audio tokens, with a
learned relative-position bias per head (offset 0 .. window-1). Two paths compute the same function:
  - `forward(tokens [B, T, 160])`: the whole sequence at once, banded causal mask (training, offline);
  - `step(token [B, 160], k_cache, v_cache, mask)`: one token, with the key/value cache of the last `window`
    tokens as explicit inputs and outputs (streaming, ONNX).
Denoiser: predicts v (diffusion velocity) for the current face frame from the noisy frame, the diffusion time,
the audio encoding, the last K generated frames (outpainting), the lookahead and the emotion (zero-initialised).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from talkface_ros.face.arkit import FRAME_SIZE
from talkface_ros.face.emotion import EMOTIONS
from talkface_ros.model.features import TOKEN_DIM, front_end_config, model_tokens

NEG_INF = -1e9


@dataclass
class ModelConfig:
    token_dim: int = TOKEN_DIM
    d_model: int = 128
    n_layer: int = 3
    n_head: int = 4
    window: int = 50  # tokens of past audio attended to (1 s)
    ff_mult: int = 2
    face_dim: int = FRAME_SIZE
    history: int = 4  # K generated frames fed back (outpainting)
    den_hidden: int = 128
    den_layers: int = 3
    student_layers: int = 0  # residual blocks of the student (0: den_layers, as the teacher)
    n_emotions: int = len(EMOTIONS)
    max_lookahead: int = 3
    # the student generates the residual over the aux head's estimate of its frame (regression mean + diffusion
    # residual): frame t = aux_head(h[t]) + one step. Old configs (without the key) are plain students.
    residual_student: bool = False
    # causal level normalisation of the tokens before the encoder (features.LevelNormaliser with these settings);
    # old configs (without the key) have none and see the raw log-mel
    level_norm: bool = False
    level_norm_reference: float = 2.4
    level_norm_attack: float = 0.5
    level_norm_release_db_per_s: float = 6.0
    level_norm_max_gain_db: float = 45.0
    level_norm_gate_db: float = 0.0  # 0: no noise gate (features.LevelNormConfig.gate_db)
    level_norm_floor_rise_db_per_s: float = 2.0
    # causal late-reverberation suppression of the tokens, before the level normaliser (features.Dereverberator)
    dereverb: bool = False
    dereverb_rt60_s: float = 0.4
    dereverb_delay_s: float = 0.05
    dereverb_over_subtraction: float = 1.0
    dereverb_floor_db: float = -15.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**d)


class CausalWindowAttention(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_head, self.window = cfg.n_head, cfg.window
        self.head_dim = cfg.d_model // cfg.n_head
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.rel_bias = nn.Parameter(torch.zeros(cfg.n_head, cfg.window))  # [H, offset]

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        shape = x.shape[:-1] + (self.n_head, self.head_dim)
        return q.reshape(shape), k.reshape(shape), v.reshape(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x [B, T, C]
        B, T, C = x.shape
        q, k, v = (t.transpose(1, 2) for t in self._split(x))  # [B, H, T, hd]
        pos = torch.arange(T, device=x.device)
        offset = pos[:, None] - pos[None, :]  # [T(query), T(key)]
        valid = (offset >= 0) & (offset < self.window)
        bias = self.rel_bias[:, offset.clamp(0, self.window - 1)]  # [H, T, T]
        bias = bias.masked_fill(~valid, NEG_INF)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim) + bias
        y = att.softmax(dim=-1) @ v  # [B, H, T, hd]
        return self.proj(y.transpose(1, 2).reshape(B, T, C))

    def forward_blocked(self, x: torch.Tensor) -> torch.Tensor:
        """Same as forward, in O(T W): T must be a multiple of the window; queries of block b attend to
        blocks b-1 and b. (Offline/ONNX path: the caller pads the sequence.)"""
        B, T, C = x.shape
        W, H, hd = self.window, self.n_head, self.head_dim
        q, k, v = (t.transpose(1, 2).reshape(B, H, -1, W, hd) for t in self._split(x))  # [B, H, nb, W, hd]
        k2 = torch.cat([F.pad(k, (0, 0, 0, 0, 1, 0))[:, :, :-1], k], dim=3)  # [B, H, nb, 2W, hd]
        v2 = torch.cat([F.pad(v, (0, 0, 0, 0, 1, 0))[:, :, :-1], v], dim=3)
        offset = torch.arange(W)[:, None] + W - torch.arange(2 * W)[None, :]  # [W, 2W]
        valid = (offset >= 0) & (offset < W)
        bias = self.rel_bias[:, offset.clamp(0, W - 1)].masked_fill(~valid, NEG_INF)  # [H, W, 2W]
        block = torch.ones_like(q[:, :1, :, :1, :1]).cumsum(2) - 1  # [B, 1, nb, 1, 1] block index
        before_start = (block == 0) & (torch.arange(2 * W) < W)  # block 0 has no previous block
        att = (q @ k2.transpose(-2, -1)) / math.sqrt(hd) + bias[:, None]
        att = att.masked_fill(before_start, NEG_INF)
        y = att.softmax(dim=-1) @ v2  # [B, H, nb, W, hd]
        return self.proj(y.reshape(B, H, T, hd).transpose(1, 2).reshape(B, T, C))

    def step(self, x: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
             mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # x [B, C]; caches [B, H, W, hd] (slot W-1 = newest); mask [W] additive (0 valid, NEG_INF empty)
        B, C = x.shape
        q, k, v = self._split(x)  # [B, H, hd]
        k_cache = torch.cat([k_cache[:, :, 1:], k[:, :, None]], dim=2)
        v_cache = torch.cat([v_cache[:, :, 1:], v[:, :, None]], dim=2)
        bias = self.rel_bias.flip(-1)  # slot j holds offset W-1-j
        att = (q[:, :, None, :] @ k_cache.transpose(-2, -1)).squeeze(2) / math.sqrt(self.head_dim)
        att = att + bias + mask
        y = (att.softmax(dim=-1)[:, :, None, :] @ v_cache).squeeze(2)  # [B, H, hd]
        return self.proj(y.reshape(B, C)), k_cache, v_cache


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = CausalWindowAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.mlp = nn.Sequential(nn.Linear(cfg.d_model, cfg.ff_mult * cfg.d_model), nn.GELU(),
                                 nn.Linear(cfg.ff_mult * cfg.d_model, cfg.d_model))

    def forward(self, x: torch.Tensor, blocked: bool = False) -> torch.Tensor:
        h = self.ln1(x)
        x = x + (self.attn.forward_blocked(h) if blocked else self.attn(h))
        return x + self.mlp(self.ln2(x))

    def step(self, x, k_cache, v_cache, mask):
        a, k_cache, v_cache = self.attn.step(self.ln1(x), k_cache, v_cache, mask)
        x = x + a
        return x + self.mlp(self.ln2(x)), k_cache, v_cache


class AudioEncoder(nn.Module):
    """20 ms log-mel tokens -> causal audio encoding h [.., d_model]."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.register_buffer("feat_mean", torch.zeros(cfg.token_dim))
        self.register_buffer("feat_std", torch.ones(cfg.token_dim))
        self.inp = nn.Linear(cfg.token_dim, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.d_model)

    def _embed(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.inp((tokens - self.feat_mean) / self.feat_std)

    def forward(self, tokens: torch.Tensor, blocked: bool = False) -> torch.Tensor:  # [B, T, 160] -> [B, T, d]
        """blocked=True: O(T W) attention, T must be a multiple of the window (same result)."""
        x = self._embed(tokens)
        for block in self.blocks:
            x = block(x, blocked)
        return self.ln_f(x)

    def empty_cache(self, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.cfg
        shape = (c.n_layer, batch, c.n_head, c.window, c.d_model // c.n_head)
        return torch.zeros(shape), torch.zeros(shape)

    def step(self, token, k_cache, v_cache, mask):
        # token [B, 160]; caches [L, B, H, W, hd] -> h [B, d], new caches
        x = self._embed(token)
        ks, vs = [], []
        for i, block in enumerate(self.blocks):
            x, k, v = block.step(x, k_cache[i], v_cache[i], mask)
            ks.append(k)
            vs.append(v)
        return self.ln_f(x), torch.stack(ks), torch.stack(vs)


def timestep_embedding(t: torch.Tensor, dim: int = 32) -> torch.Tensor:
    """t [B] in [0, 1] -> [B, dim] sinusoidal features."""
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t[:, None].float() * 1000.0 * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.ln = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, 2 * hidden)
        self.fc2 = nn.Linear(2 * hidden, hidden)

    def forward(self, z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return z + self.fc2(F.gelu(self.fc1(self.ln(z) + cond)))


class Denoiser(nn.Module):
    """v-prediction for one face frame (normalised units)."""

    def __init__(self, cfg: ModelConfig, layers: int | None = None) -> None:
        super().__init__()
        hid = cfg.den_hidden
        self.x_in = nn.Linear(cfg.face_dim, hid)
        self.audio_in = nn.Linear(cfg.d_model, hid)
        self.hist_in = nn.Linear(cfg.history * cfg.face_dim, hid)
        self.time_in = nn.Sequential(nn.Linear(32, hid), nn.GELU(), nn.Linear(hid, hid))
        self.lookahead_emb = nn.Embedding(cfg.max_lookahead + 1, hid)
        self.emotion_in = nn.Linear(cfg.n_emotions, hid)
        nn.init.zeros_(self.emotion_in.weight)  # zero-initialised injection
        nn.init.zeros_(self.emotion_in.bias)
        self.blocks = nn.ModuleList(ResBlock(hid) for _ in range(layers or cfg.den_layers))
        self.ln_out = nn.LayerNorm(hid)
        self.out = nn.Linear(hid, cfg.face_dim)

    def forward(self, x_t, t, h, history, emotion, lookahead) -> torch.Tensor:
        # x_t [B, 55]; t [B]; h [B, d]; history [B, K, 55]; emotion [B, 7]; lookahead [B] int64
        cond = (self.audio_in(h) + self.hist_in(history.flatten(1)) + self.time_in(timestep_embedding(t))
                + self.lookahead_emb(lookahead) + self.emotion_in(emotion))
        z = self.x_in(x_t) + cond
        for block in self.blocks:
            z = block(z, cond)
        return self.out(self.ln_out(z))


class FaceModel(nn.Module):
    """Encoder + teacher denoiser (+ student denoiser after distillation) + face normalisation + aux head."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = AudioEncoder(cfg)
        self.teacher = Denoiser(cfg)
        self.student = Denoiser(cfg, cfg.student_layers or cfg.den_layers)
        self.aux_head = nn.Linear(cfg.d_model, cfg.face_dim)  # direct regression: shapes the encoder early
        self.register_buffer("face_mean", torch.zeros(cfg.face_dim))
        self.register_buffer("face_std", torch.ones(cfg.face_dim))

    @torch.no_grad()
    def encode_audio(self, pcm: np.ndarray) -> np.ndarray:
        """int16 audio -> the encoding h [T, d], through this model's own front end (the dereverberator and level
        normaliser its config names, else the raw log-mel), offline."""
        tokens = model_tokens(pcm, front_end_config(self.cfg.to_dict()))
        return self.encoder(torch.from_numpy(tokens).float()[None])[0].numpy()

    def normalize(self, frames: torch.Tensor) -> torch.Tensor:
        return (frames - self.face_mean) / self.face_std

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.face_std + self.face_mean
