"""The inference graphs, as torch modules (the torch backend runs them; `export-onnx` exports them):

- `StreamStep`: one 20 ms audio token + the encoder's KV cache -> audio encoding, new cache, and the face frame
  from ONE student denoising step (the per-frame step of the node);
- `EncodeAll`: the encoder over a whole token sequence (offline path of `talkface animate`; equal to stepping;
  arranged for onnxruntime);
- `DenoiseStep`: one student step from an audio encoding;
- `DenoiseAll`: `DenoiseStep` over a whole utterance, each frame's history being the frames it generated before
  (offline path of `talkface animate`): everything that does not depend on the history runs batched
  (`prepare`), and only the recurrent rest runs frame by frame (`step`; in ONNX a Scan inside one graph).
Face frames in and out are raw (FRAME_NAMES units); outputs are clamped: weights [0, 1], head pose +-0.6 rad.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from talkface_ros.face.arkit import FRAME_SIZE, HEAD_POSE_LIMIT_RAD, NUM_BLENDSHAPES
from talkface_ros.model.diffusion import student_x0
from talkface_ros.model.network import NEG_INF, FaceModel, timestep_embedding


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

    def forward(self, h, h_frame, history, noise, emotion, lookahead):
        # h [B, d] at t + lookahead; h_frame [B, d] at t; history [B, K, 55] raw; noise [B, 55]; emotion [B, 7];
        # lookahead [B] int64 -> [B, 55] raw
        hist = self.model.normalize(history)
        x0 = student_x0(self.model, noise, h_frame, h, hist, emotion, lookahead)
        frame = self.model.denormalize(x0)
        return torch.minimum(torch.maximum(frame, self.lo), self.hi)


class StreamStep(nn.Module):
    """h_past [max_lookahead, d]: the encodings of the previous tokens (oldest first; zeros before the stream's
    start), from which the frame `lookahead` tokens back takes its own encoding (a residual student's mean)."""

    def __init__(self, model: FaceModel) -> None:
        super().__init__()
        self.encoder = model.encoder
        self.denoise = DenoiseStep(model)
        self.max_lookahead = model.cfg.max_lookahead

    def forward(self, token, k_cache, v_cache, mask, h_past, history, noise, emotion, lookahead):
        h, k_cache, v_cache = self.encoder.step(token, k_cache, v_cache, mask)
        h_frame = torch.cat([h_past, h]).index_select(0, self.max_lookahead - lookahead)
        frame = self.denoise(h, h_frame, history, noise, emotion, lookahead)
        return frame, h, k_cache, v_cache


class EncodeAll(nn.Module):
    """The encoder over whole windows of tokens: `AudioEncoder.forward(tokens, blocked=True)` (float rounding
    aside) arranged for onnxruntime: 2-D linears (bias in the GEMM), the token normalisation folded into the input
    layer, and no masking pass: block 0 (no previous block) attends to itself alone, blocks 1.. to their previous
    and own keys."""

    def __init__(self, model: FaceModel) -> None:
        super().__init__()
        enc = model.encoder
        self.encoder = enc
        c = model.cfg
        self.window, self.n_head, self.head_dim, self.d_model = c.window, c.n_head, c.d_model // c.n_head, c.d_model
        W = c.window
        with torch.no_grad():
            self.register_buffer("inp_w", (enc.inp.weight / enc.feat_std).contiguous())
            self.register_buffer("inp_b", enc.inp.bias - enc.inp.weight @ (enc.feat_mean / enc.feat_std))
            offset = torch.arange(W)[:, None] + W - torch.arange(2 * W)[None, :]  # query i, key j of blocks b-1, b
            valid = (offset >= 0) & (offset < W)
            for i, block in enumerate(enc.blocks):
                bias = block.attn.rel_bias[:, offset.clamp(0, W - 1)].masked_fill(~valid, NEG_INF)  # [H, W, 2W]
                self.register_buffer(f"bias_{i}", bias[:, None].contiguous())  # [H, 1, W, 2W]
                self.register_buffer(f"bias_self_{i}", bias[:, None, :, W:].contiguous())  # [H, 1, W, W]

    def _qkv(self, i: int, x, B: int, T: int):
        """Layer i's queries, keys and values by window: 3 x [B, H, T // W, W, hd] (three 2-D GEMMs)."""
        W, H, hd, C = self.window, self.n_head, self.head_dim, self.d_model
        w, b = self.encoder.blocks[i].attn.qkv.weight, self.encoder.blocks[i].attn.qkv.bias
        return tuple(F.linear(x, w[j * C:(j + 1) * C], b[j * C:(j + 1) * C])
                     .reshape(B, T, H, hd).transpose(1, 2).reshape(B, H, T // W, W, hd) for j in range(3))

    def _attention(self, i: int, x, B: int, T: int):
        H, hd, C = self.n_head, self.head_dim, self.d_model
        attn = self.encoder.blocks[i].attn
        q, k, v = self._qkv(i, x, B, T)
        scale = 1.0 / math.sqrt(hd)
        first = (torch.matmul(q[:, :, :1], k[:, :, :1].transpose(-2, -1)) * scale
                 + getattr(self, f"bias_self_{i}")).softmax(dim=-1) @ v[:, :, :1]
        k2 = torch.cat([k[:, :, :-1], k[:, :, 1:]], dim=3)  # [B, H, nb - 1, 2W, hd]
        v2 = torch.cat([v[:, :, :-1], v[:, :, 1:]], dim=3)
        rest = (torch.matmul(q[:, :, 1:], k2.transpose(-2, -1)) * scale
                + getattr(self, f"bias_{i}")).softmax(dim=-1) @ v2
        y = torch.cat([first, rest], dim=2).reshape(B, H, T, hd).transpose(1, 2).reshape(B * T, C)
        return attn.proj(y)

    def forward(self, tokens):  # [B, T, 160] -> [B, T, d]; T a multiple of the window (caller pads)
        B, T, _ = tokens.shape
        x = F.linear(tokens.reshape(B * T, -1), self.inp_w, self.inp_b)
        for i, block in enumerate(self.encoder.blocks):
            x = x + self._attention(i, block.ln1(x), B, T)
            x = x + block.mlp(block.ln2(x))
        return self.encoder.ln_f(x).reshape(B, T, self.d_model)

    def _attention_after(self, i: int, x, B: int, T: int, prev_k, prev_v, first_mask):
        """`_attention` for windows that follow others: block 0 attends to the previous window's keys and values
        (prev_k/prev_v [B, H, W, hd], masked out by first_mask [2W] = NEG_INF on its first half when there is
        none) and its own. Also returns this layer's last-window keys and values."""
        H, hd, C = self.n_head, self.head_dim, self.d_model
        attn = self.encoder.blocks[i].attn
        q, k, v = self._qkv(i, x, B, T)
        scale = 1.0 / math.sqrt(hd)
        k_full = torch.cat([prev_k[:, :, None], k], dim=2)  # [B, H, nb + 1, W, hd]
        v_full = torch.cat([prev_v[:, :, None], v], dim=2)
        k2 = torch.cat([k_full[:, :, :-1], k_full[:, :, 1:]], dim=3)  # [B, H, nb, 2W, hd]
        v2 = torch.cat([v_full[:, :, :-1], v_full[:, :, 1:]], dim=3)
        bias = getattr(self, f"bias_{i}")  # [H, 1, W, 2W]
        first = (torch.matmul(q[:, :, :1], k2[:, :, :1].transpose(-2, -1)) * scale
                 + (bias + first_mask)).softmax(dim=-1) @ v2[:, :, :1]
        rest = (torch.matmul(q[:, :, 1:], k2[:, :, 1:].transpose(-2, -1)) * scale + bias).softmax(dim=-1) @ v2[:, :, 1:]
        y = torch.cat([first, rest], dim=2).reshape(B, H, T, hd).transpose(1, 2).reshape(B * T, C)
        return attn.proj(y), k[:, :, -1], v[:, :, -1]

    def forward_chunk(self, tokens, prev_k, prev_v, prev_mask):
        """A piece of an utterance, whole windows [B, T, 160], after the windows whose last one left prev_k /
        prev_v [L, B, H, W, hd] (each layer's keys and values; prev_mask [1] = 0) or at its start (prev_mask =
        NEG_INF, prev_* anything finite) -> (h [B, T, d], last_k, last_v for the next piece). Pieces encoded one
        after the other give `forward` on the whole (float rounding aside): the blocked attention reads one
        window back."""
        B, T, _ = tokens.shape
        W = self.window
        first_mask = torch.cat([prev_mask.expand(W), torch.zeros(W)])  # [2W]
        x = F.linear(tokens.reshape(B * T, -1), self.inp_w, self.inp_b)
        last_k, last_v = [], []
        for i, block in enumerate(self.encoder.blocks):
            y, k, v = self._attention_after(i, block.ln1(x), B, T, prev_k[i], prev_v[i], first_mask)
            x = x + y
            x = x + block.mlp(block.ln2(x))
            last_k.append(k)
            last_v.append(v)
        return self.encoder.ln_f(x).reshape(B, T, self.d_model), torch.stack(last_k), torch.stack(last_v)


class EncodeChunk(nn.Module):
    """`EncodeAll.forward_chunk` as a module (the exported encoder graph: one call for a whole utterance, or
    piece after piece carrying the last window's keys and values)."""

    def __init__(self, model: FaceModel) -> None:
        super().__init__()
        self.all = EncodeAll(model)

    def forward(self, tokens, prev_k, prev_v, prev_mask):
        return self.all.forward_chunk(tokens, prev_k, prev_v, prev_mask)


class DenoiseAll(nn.Module):
    """The student's one step for T consecutive frames of ONE stream, autoregressively: the same function as T
    `DenoiseStep` calls that each push their (clamped) frame into the history (float rounding aside).

    Rearranged so that little runs per frame: the face normalisation is folded into the history-input and output
    weights; the conditioning terms that do not depend on the history (audio, t = 1, lookahead, emotion) and
    x_in(noise) are computed for all frames at once (`prepare`); the conditioning is added inside the blocks'
    layer norms (as their shift; the norms' own shift is folded into fc1's bias). Per frame (`step`) remain the
    history projection, the residual blocks, the output layer and the clamp. The folded weights are a snapshot
    of the model's at construction (an inference graph; like `EncodeAll`'s).
    """

    def __init__(self, model: FaceModel) -> None:
        super().__init__()
        den = model.student
        self.den = den
        self.face_dim = model.cfg.face_dim
        self.hidden = model.cfg.den_hidden
        k = model.cfg.history
        with torch.no_grad():
            std_k, mean_k = model.face_std.repeat(k), model.face_mean.repeat(k)
            # hist_in(normalize(history)) = history_flat @ w_hist + (its bias, folded into prepare's c)
            self.register_buffer("w_hist", (den.hist_in.weight / std_k).t().contiguous())
            self.register_buffer("b_hist", den.hist_in.bias - den.hist_in.weight @ (mean_k / std_k))
            # fc1(ln(z) + cond) = fc1'(ln'(z) + cond), ln' without its shift, fc1' with fc1(shift) in its bias
            for i, block in enumerate(den.blocks):
                self.register_buffer(f"fc1_bias_{i}", block.fc1.bias + block.fc1.weight @ block.ln.bias)
            # denormalize(-out(u)) = u @ w_out + b_out
            self.register_buffer("w_out", (-den.out.weight * model.face_std[:, None]).t().contiguous())
            self.register_buffer("b_out", -den.out.bias * model.face_std + model.face_mean)
            # a residual student's mean, raw: denormalize(aux(h_frame) + x0) = aux(h_frame) * std + denormalize(x0)
            scale = model.face_std * float(model.cfg.residual_student)
            self.register_buffer("w_mean", (model.aux_head.weight * scale[:, None]).t().contiguous())
            self.register_buffer("b_mean", model.aux_head.bias * scale)
        lo, hi = frame_limits()
        self.register_buffer("lo", lo)
        self.register_buffer("hi", hi)

    def prepare(self, h, h_frame, noise, emotion, lookahead):
        """h [T, d] (at t + lookahead); h_frame [T, d] (at t); noise [T, 55]; emotion [1, 7]; lookahead [1] int64
        -> (c, xn) [T, hidden]: the conditioning without its history term, and x_in(noise); b [T, 55]: the
        output bias of each frame (with a residual student's mean)."""
        den = self.den
        t = torch.ones(1)  # the student runs at t = 1 (see diffusion.one_step)
        c = (den.audio_in(h) + (den.time_in(timestep_embedding(t)) + den.lookahead_emb(lookahead)
                                + den.emotion_in(emotion) + self.b_hist))
        return c, den.x_in(noise), torch.addmm(self.b_out + self.b_mean, h_frame, self.w_mean)

    def step(self, hist, c, xn, b):
        """hist [1, K * 55] raw (oldest first); c, xn [1, hidden]; b [1, 55] -> (next hist, frame [1, 55])."""
        cond = torch.addmm(c, hist, self.w_hist)
        z = cond + xn
        cond = cond.reshape(self.hidden)
        for i, block in enumerate(self.den.blocks):
            u = F.layer_norm(z, (self.hidden,), block.ln.weight, cond, block.ln.eps)
            z = z + block.fc2(F.gelu(F.linear(u, block.fc1.weight, getattr(self, f"fc1_bias_{i}"))))
        frame = torch.addmm(b, self.den.ln_out(z), self.w_out)
        frame = torch.minimum(torch.maximum(frame, self.lo), self.hi)
        return torch.cat([hist[:, self.face_dim:], frame], dim=1), frame

    def forward(self, h, h_frame, history, noise, emotion, lookahead):
        # h [T, d] at t + lookahead; h_frame [T, d] at t; history [1, K, 55] raw; noise [T, 55]; emotion [1, 7];
        # lookahead [1] int64 -> [T, 55] raw. A NaN frame is fed back as it is (the streaming path feeds back 0s:
        # FaceStreamer.animate redoes the rest)
        c, xn, b = self.prepare(h, h_frame, noise, emotion, lookahead)
        hist = history.reshape(1, -1)
        frames = []
        for t in range(h.shape[0]):
            hist, frame = self.step(hist, c[t:t + 1], xn[t:t + 1], b[t:t + 1])
            frames.append(frame)
        return torch.cat(frames) if frames else noise.new_zeros((0, self.face_dim))
