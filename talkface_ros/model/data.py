"""Training batches from the corpus (contract A): audio tokens and face frames in memory, random crops.

Two augmentations aim at what the synthetic corpus lacks, real voices and real rooms:
  - `load_clips(..., audio_copies=N, rng=...)`: N extra copies of each clip whose audio went through
    `talkface_ros.data.augment` (reverberation, band limits, noise, resampling, gain) before the front end, or
    through a `RoomAugmenter` (`TrainConfig.augment = "room"`: pyroomacoustics rooms, babble of the corpus's
    voices, servo whine, -40..+20 dB with clipping); tokens go through the model's level normaliser if it has one;
  - `spectral_jitter`, per crop: a vocal-tract-length warp of the mel axis (formants scaled by a factor
    exp(U(-warp, warp))) and a spectral tilt (a straight line in log power across the mel bins: microphone
    and voice colour).
The labels (face frames, phone classes) are untouched: neither changes timing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from talkface_ros.face.emotion import EMOTION_INDEX, EMOTIONS
from talkface_ros.model.features import (MEL_CENTRES_HZ, N_MELS, SILENT_TOKEN, TOKEN_DIM, FrontEnd, _hz_to_mel,
                                         model_tokens)

log = logging.getLogger(__name__)


@dataclass
class Clip:
    tokens: np.ndarray  # float32 [T, 160]
    frames: np.ndarray  # float32 [T, 55]
    phone_class: np.ndarray  # uint8 [T]
    emotion: np.ndarray  # float32 [7] (one-hot * intensity)
    id: str = ""


def clip_from_utterance(utt, audio: np.ndarray | None = None, front_end: FrontEnd | None = None) -> Clip:
    """audio: the utterance's audio replaced (an augmented copy, same length); front_end: the model's
    token filters, run over the whole utterance from its start as the streamer runs them."""
    tokens = model_tokens(utt.audio if audio is None else audio, front_end)
    T = min(len(tokens), len(utt.frames))
    emotion = np.zeros(len(EMOTIONS), dtype=np.float32)
    emotion[EMOTION_INDEX.get(utt.emotion, 0)] = float(utt.intensity)
    return Clip(tokens[:T].astype(np.float32), utt.frames[:T].astype(np.float32),
                utt.phone_class[:T], emotion, utt.id)


def load_clips(corpus_dir: str, split: str, limit: int | None = None, audio_copies: int = 0,
               rng: np.random.Generator | None = None, front_end: FrontEnd | None = None,
               augmenter: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None) -> list[Clip]:
    """The utterances of `split` (at most `limit`), each followed by `audio_copies` augmented copies
    (augmented audio, the same labels; `rng` draws the augmentations: seed it for a reproducible run).
    augmenter: `data.augment.augment` unless given (e.g. a `RoomAugmenter`); front_end: the model's token filters."""
    from talkface_ros.data.augment import augment
    from talkface_ros.data.corpus import Corpus

    augmenter = augmenter or augment

    if audio_copies and rng is None:
        raise ValueError("audio_copies needs an rng")
    clips = []
    n_utts = 0
    for utt in Corpus(corpus_dir).utterances(split):
        clip = clip_from_utterance(utt, front_end=front_end)
        if len(clip.tokens) == 0:
            continue
        clips.append(clip)
        for k in range(audio_copies):
            noisy = np.clip(np.round(augmenter(utt.audio, rng) * 32767.0), -32768, 32767).astype(np.int16)
            copy = clip_from_utterance(utt, noisy, front_end)
            copy.id = f"{utt.id}+aug{k}"
            clips.append(copy)
        n_utts += 1
        if limit is not None and n_utts >= limit:
            break
    log.info("loaded %d %s clips (%d utterances + %d augmented copies each, %.1f min)", len(clips), split, n_utts,
             audio_copies, sum(len(c.tokens) for c in clips) / 3000.0)
    return clips


_CENTRES_MEL = _hz_to_mel(MEL_CENTRES_HZ)
_TILT_RAMP = np.linspace(-0.5, 0.5, N_MELS, dtype=np.float32)  # zero mid-band, 1 from the lowest to the highest bin


def spectral_jitter(tokens: np.ndarray, rng: np.random.Generator, warp: float, tilt: float) -> np.ndarray:
    """tokens [B, S, 160] log-mel (two 80-bin frames per token) -> the same shape, per crop b: the mel axis
    warped so that a formant at f Hz moves to alpha f (alpha = exp(U(-warp, warp))), then a tilt of
    U(-tilt, tilt) natural-log units from the lowest to the highest bin (linear across bins, zero mid-band)."""
    if warp <= 0.0 and tilt <= 0.0:
        return tokens
    B, S, D = tokens.shape
    if D != TOKEN_DIM:
        raise ValueError(f"tokens must be [B, S, {TOKEN_DIM}], got {tokens.shape}")
    mel = tokens.reshape(B, S * D // N_MELS, N_MELS)
    bins = np.arange(N_MELS, dtype=np.float64)
    out = np.empty_like(mel)
    for b in range(B):
        x = mel[b]
        if warp > 0.0:
            alpha = float(np.exp(rng.uniform(-warp, warp)))
            # the warped bin i shows what the original spectrum had at centre_i / alpha
            src = np.interp(_hz_to_mel(MEL_CENTRES_HZ / alpha), _CENTRES_MEL, bins)
            lo = np.floor(src).astype(np.int64)
            hi = np.minimum(lo + 1, N_MELS - 1)
            w = (src - lo).astype(np.float32)
            x = x[:, lo] * (1.0 - w) + x[:, hi] * w
        if tilt > 0.0:
            x = x + np.float32(rng.uniform(-tilt, tilt)) * _TILT_RAMP
        out[b] = x
    return np.maximum(out, np.float32(SILENT_TOKEN)).reshape(B, S, D)


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
        floor = SILENT_TOKEN
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
