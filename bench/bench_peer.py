"""Same-run per-frame cost against an offline FaceFormer-style peer run online.

The peer: a wav2vec2-base encoder (transformers' Wav2Vec2Model(Wav2Vec2Config()), random weights, nothing
downloaded) + our own small autoregressive transformer decoder (FaceFormer-like: 64-d face embedding, causal
self-attention over past frames, cross-attention to the audio features). Online use of an offline model means
re-running it over the growing audio for every new 20 ms frame. We time what one new frame costs at 1 s, 5 s
and 10 s into an utterance: the encoder over all audio so far + ONE decoder pass over all frames so far
(the cheapest honest way; a real FaceFormer decodes frame by frame, costing more). Both sides 1 thread.
Ours: one streaming step (transformer step + one denoise step), onnxruntime, 1 thread. Prints JSON.

    python bench/bench_peer.py [--model DIR] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn


class ARDecoder(nn.Module):
    """FaceFormer-style decoder: past face frames -> next frame, cross-attending to the audio encoding."""

    def __init__(self, audio_dim: int = 768, d: int = 64, face_dim: int = 55, layers: int = 1) -> None:
        super().__init__()
        self.face_in = nn.Linear(face_dim, d)
        self.audio_in = nn.Linear(audio_dim, d)
        layer = nn.TransformerDecoderLayer(d, nhead=4, dim_feedforward=2 * d, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, layers)
        self.out = nn.Linear(d, face_dim)

    def forward(self, past_faces: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        T = past_faces.shape[1]
        mask = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
        h = self.decoder(self.face_in(past_faces), self.audio_in(audio), tgt_mask=mask)
        return self.out(h[:, -1])


def peer_frame_cost(encoder, decoder, seconds: float, repeats: int) -> float:
    """Seconds to produce ONE new frame `seconds` into an utterance (re-running over the growing audio)."""
    audio = torch.randn(1, int(seconds * 16000)) * 0.1
    frames = int(seconds * 50)
    past = torch.rand(1, frames, 55)
    best = float("inf")
    with torch.inference_mode():
        for _ in range(repeats):
            t0 = time.perf_counter()
            feats = encoder(audio).last_hidden_state  # [1, ~49/s, 768]
            feats = torch.nn.functional.interpolate(feats.transpose(1, 2), size=frames).transpose(1, 2)
            decoder(past, feats)
            best = min(best, time.perf_counter() - t0)
    return best


def ours_frame_cost(model: str | None, frames: int = 2000) -> dict:
    from talkface_ros.model.streamer import FaceStreamer

    s = FaceStreamer.from_pretrained(model, threads=1)
    tokens = np.random.default_rng(0).standard_normal((frames + 100, 160)).astype(np.float32) - 6
    for t in tokens[:100]:
        s.step_token(t)
    times = np.empty(frames)
    for i, t in enumerate(tokens[100:]):
        t0 = time.perf_counter()
        s.step_token(t)
        times[i] = time.perf_counter() - t0
    return {"median_s": float(np.median(times)), "p99_s": float(np.percentile(times, 99))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    encoder = Wav2Vec2Model(Wav2Vec2Config()).eval()  # wav2vec2-base shape, random weights
    decoder = ARDecoder().eval()
    ours = ours_frame_cost(args.model)
    result = {"ours_step_ms": {"median": round(ours["median_s"] * 1e3, 3), "p99": round(ours["p99_s"] * 1e3, 3)},
              "peer_params_M": round(sum(p.numel() for p in encoder.parameters()) / 1e6
                                     + sum(p.numel() for p in decoder.parameters()) / 1e6, 1),
              "threads": 1, "at": {}}
    for seconds in (1.0, 5.0, 10.0):
        cost = peer_frame_cost(encoder, decoder, seconds, args.repeats)
        result["at"][f"{seconds:g}s"] = {"peer_frame_ms": round(cost * 1e3, 1),
                                        "ratio_peer_over_ours": round(cost / ours["median_s"], 0)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
