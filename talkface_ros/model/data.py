"""Training batches from the corpus (contract A): audio tokens and face frames in memory, random crops."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from talkface_ros.face.emotion import EMOTION_INDEX, EMOTIONS
from talkface_ros.model.features import audio_tokens

log = logging.getLogger(__name__)


@dataclass
class Clip:
    tokens: np.ndarray  # float32 [T, 160]
    frames: np.ndarray  # float32 [T, 55]
    phone_class: np.ndarray  # uint8 [T]
    emotion: np.ndarray  # float32 [7] (one-hot * intensity)
    id: str = ""


def clip_from_utterance(utt) -> Clip:
    tokens = audio_tokens(utt.audio)
    T = min(len(tokens), len(utt.frames))
    emotion = np.zeros(len(EMOTIONS), dtype=np.float32)
    emotion[EMOTION_INDEX.get(utt.emotion, 0)] = float(utt.intensity)
    return Clip(tokens[:T].astype(np.float32), utt.frames[:T].astype(np.float32),
                utt.phone_class[:T], emotion, utt.id)


def load_clips(corpus_dir: str, split: str, limit: int | None = None) -> list[Clip]:
    from talkface_ros.data.corpus import Corpus

    clips = []
    for utt in Corpus(corpus_dir).utterances(split):
        clip = clip_from_utterance(utt)
        if len(clip.tokens) > 0:
            clips.append(clip)
        if limit is not None and len(clips) >= limit:
            break
    log.info("loaded %d %s clips (%.1f min)", len(clips), split, sum(len(c.tokens) for c in clips) / 3000.0)
    return clips


@dataclass
class Batch:
    tokens: torch.Tensor  # [B, S, 160]
    frames: torch.Tensor  # [B, S, 55] raw target frames (aligned with tokens)
    history: torch.Tensor  # [B, S, K, 55] raw: frames t-K .. t-1 (zeros before the clip start)
    valid: torch.Tensor  # [B, S] bool: frame t exists and token t + lookahead exists
    emotion: torch.Tensor  # [B, 7]
    lookahead: int


def sample_batch(clips: list[Clip], batch: int, seq: int, history: int, lookahead: int,
                 rng: np.random.Generator, gain_db: float = 12.0) -> Batch:
    tok_dim, face_dim = clips[0].tokens.shape[1], clips[0].frames.shape[1]
    tokens = np.zeros((batch, seq, tok_dim), dtype=np.float32)
    frames = np.zeros((batch, seq, face_dim), dtype=np.float32)
    hist = np.zeros((batch, seq, history, face_dim), dtype=np.float32)
    valid = np.zeros((batch, seq), dtype=bool)
    emotion = np.zeros((batch, clips[0].emotion.shape[0]), dtype=np.float32)
    for b in range(batch):
        clip = clips[rng.integers(len(clips))]
        T = len(clip.tokens)
        start = int(rng.integers(0, max(1, T - seq + 1)))
        n = min(seq, T - start)
        # gain augmentation: a level change is a constant shift of log power
        floor = np.log(1e-6)
        shift = 2.0 * np.log(10.0 ** (rng.uniform(-gain_db, gain_db / 2) / 20.0))
        tokens[b, :n] = np.maximum(clip.tokens[start:start + n] + shift, floor)
        tokens[b, n:] = floor
        frames[b, :n] = clip.frames[start:start + n]
        padded = np.concatenate([np.zeros((history, face_dim), np.float32), clip.frames])
        for k in range(history):  # history[t, k] = frame (t - K + k)
            hist[b, :n, k] = padded[start + k:start + k + n]
        valid[b, :max(0, n - lookahead)] = True
        emotion[b] = clip.emotion
    return Batch(torch.from_numpy(tokens), torch.from_numpy(frames), torch.from_numpy(hist),
                 torch.from_numpy(valid), torch.from_numpy(emotion), lookahead)


def feature_stats(clips: list[Clip]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """-> token mean/std [160], face mean/std [55] (std floored so constant channels stay finite)."""
    tokens = np.concatenate([c.tokens for c in clips])
    frames = np.concatenate([c.frames for c in clips])
    return (tokens.mean(0), np.maximum(tokens.std(0), 1e-3),
            frames.mean(0), np.maximum(frames.std(0), 0.02))
