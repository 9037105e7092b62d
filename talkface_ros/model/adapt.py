"""Room-robust encoder by teacher-student adaptation (issue 18): the model's audio encoder is fine-tuned so that
what it makes of degraded audio (a reverberant room, other talkers, noise, servo whine, a quiet or clipping
microphone; `data.augment.RoomAugmenter`) matches what the frozen original makes of the same speech clean.

Everything downstream of the encoder (the aux head, i.e. the lip estimate, and the one-step student) reads only
its encoding h, so it is kept as it is: where the adapted encoder hears clean speech as the original did, the
face is the original's, and where it hears a room, the face is what the original would show for the clean
speech. The adapted encoder reads level-normalised tokens (`features.LevelNormaliser`, with its noise gate), the
frozen one the raw tokens it was trained on.

Losses, per token after `context_s` of warm-up: the mean squared error to the frozen encoding (each dimension
scaled by its spread over the corpus), plus `aux_weight` x the aux head's error to the ground-truth frame.
Degradation is drawn afresh for every crop (a crop of `crop_s` with `context_s` of audio before it, so the room's
tail and the normaliser's state are those of a stream), so no two steps see the same room, talkers or gain.
"""
from __future__ import annotations

import copy
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE, float_to_int16
from talkface_ros.model.features import SAMPLES_PER_FRAME, SILENT_TOKEN, front_end_config, model_tokens
from talkface_ros.model.network import FaceModel
from talkface_ros.model.train import train_only

log = logging.getLogger(__name__)

TOKENS_PER_S = MODEL_SAMPLE_RATE // SAMPLES_PER_FRAME  # 50: one token per face frame


@dataclass
class AdaptConfig:
    steps: int = 3000
    batch: int = 16
    lr: float = 3e-4
    crop_s: float = 3.0  # scored audio per crop
    context_s: float = 1.0  # audio before the crop: the room's tail, the normaliser's state, the encoder's window
    p_clean: float = 0.15  # crops left clean (level only), so that clean speech keeps its encoding
    aux_weight: float = 3.0
    level_norm: bool = True  # False: level invariance must come from the gain augmentation alone
    level_norm_gate_db: float = 30.0
    # causal late-reverb suppression in front of the normaliser (features.Dereverberator), for the adapted model
    dereverb: bool = False
    dereverb_rt60_s: float = 0.4
    # the degradation mix (data.augment.RoomAugmentConfig fields), stronger on rooms and talkers than in training
    rooms: int = 60
    p_room: float = 0.6
    p_babble: float = 0.45
    babble_snr_db: tuple[float, float] = (0.0, 15.0)
    p_noise: float = 0.3
    p_servo: float = 0.15
    p_gain: float = 0.8
    # unlabelled real speech (data.real_streams sources, training halves only): a crop comes from it with
    # probability p_real, and its voices join the babble talkers; its loss is the encoding's alone
    real_sources: tuple[str, ...] = ()
    p_real: float = 0.5
    # encoder blocks added in front of the adapted encoder, initialised to the identity (zero output
    # projections), so that adaptation has room to undo a room before the original blocks read the tokens
    extra_layers: int = 0
    only_extra_layers: bool = False  # tune the added blocks alone, the original encoder frozen (an adapter)
    seed: int = 0
    threads: int = 1
    log_every: int = 50


@dataclass
class _Utterance:
    audio: np.ndarray  # int16
    frames: np.ndarray  # [T, 55] (zeros where unlabelled)
    h_ref: np.ndarray  # [T, d] the frozen encoder's encoding of the clean audio
    labelled: bool = True


@dataclass
class AdaptResult:
    model: FaceModel
    card: dict = field(default_factory=dict)


def _room_augmenter(corpus: str, cfg: AdaptConfig, real_talkers: list[np.ndarray]):
    from talkface_ros.data.augment import RoomAugmentConfig, RoomAugmenter

    room = replace(RoomAugmentConfig(), rooms=cfg.rooms, p_room=cfg.p_room, p_babble=cfg.p_babble,
                   babble_snr_db=cfg.babble_snr_db, p_noise=cfg.p_noise, p_servo=cfg.p_servo, p_gain=cfg.p_gain)
    augmenter = RoomAugmenter.from_corpus(corpus, cfg.seed, room)
    augmenter.talkers = augmenter.talkers + real_talkers
    return augmenter


def _reference_utterances(reference: FaceModel, corpus: str, split: str) -> list[_Utterance]:
    from talkface_ros.data.corpus import Corpus

    out = []
    for utt in Corpus(corpus).utterances(split):
        h = reference.encode_audio(utt.audio)[:len(utt.frames)]
        if len(h) < 10:
            continue
        out.append(_Utterance(np.asarray(utt.audio), np.asarray(utt.frames[:len(h)], np.float32), h))
    return out


def _reference_streams(reference: FaceModel, streams: list[np.ndarray]) -> list[_Utterance]:
    """Unlabelled real speech with the frozen encoder's encoding of it."""
    out = []
    for audio in streams:
        h = reference.encode_audio(audio)
        if len(h) < 10:
            continue
        out.append(_Utterance(np.asarray(audio), np.zeros((len(h), reference.cfg.face_dim), np.float32), h, False))
    return out


def add_identity_blocks(model: FaceModel, count: int) -> None:
    """`count` encoder blocks in front of the others that leave the encoding as it is until trained (their
    attention and MLP output projections are zero, so each block adds nothing to the residual stream)."""
    if count <= 0:
        return
    from talkface_ros.model.network import Block

    model.cfg = replace(model.cfg, n_layer=model.cfg.n_layer + count)
    new = []
    for _ in range(count):
        block = Block(model.cfg)
        for projection in (block.attn.proj, block.mlp[2]):
            torch.nn.init.zeros_(projection.weight)
            torch.nn.init.zeros_(projection.bias)
        new.append(block)
    model.encoder.blocks = torch.nn.ModuleList(new + list(model.encoder.blocks))
    model.encoder.cfg = model.cfg


@dataclass
class Crop:
    tokens: np.ndarray  # [n, 160] what the adapted encoder reads: the crop's context and the crop, degraded
    offset: int  # tokens[offset + k] is the utterance's token start + k
    start: int
    frames: np.ndarray  # [m, 55] ground truth of the scored tokens
    h_ref: np.ndarray  # [m, d] the frozen encoding of the scored tokens
    labelled: bool = True


def crop(utt: _Utterance, cfg: AdaptConfig, rng: np.random.Generator, augmenter, front_end, clean: bool) -> Crop:
    """A random crop of `crop_s` with up to `context_s` of audio before it, degraded by `augmenter` unless clean
    (tokens cut on token boundaries, so the labels and the frozen encodings stay aligned)."""
    T = len(utt.frames)
    length = int(round(cfg.crop_s * TOKENS_PER_S))
    start = int(rng.integers(0, max(1, T - length + 1)))
    end = min(T, start + length)
    first = max(0, start - int(round(cfg.context_s * TOKENS_PER_S)))
    audio = utt.audio[first * SAMPLES_PER_FRAME:end * SAMPLES_PER_FRAME]
    if not clean:
        audio = float_to_int16(augmenter(audio, rng))
    tokens = model_tokens(audio, front_end)[:end - first]
    return Crop(tokens, start - first, start, utt.frames[start:end], utt.h_ref[start:end], utt.labelled)


def _pick(utts: list[_Utterance], real: list[_Utterance], cfg: AdaptConfig, rng: np.random.Generator) -> _Utterance:
    pool = real if real and rng.random() < cfg.p_real else utts
    return pool[int(rng.integers(len(pool)))]


def _batch(utts: list[_Utterance], real: list[_Utterance], cfg: AdaptConfig, rng: np.random.Generator, augmenter,
           front_end):
    crops = [crop(_pick(utts, real, cfg, rng), cfg, rng, augmenter, front_end, rng.random() < cfg.p_clean)
             for _ in range(cfg.batch)]
    n = max(len(c.tokens) for c in crops)
    S = max(len(c.frames) for c in crops)
    tokens = np.full((cfg.batch, n, crops[0].tokens.shape[1]), SILENT_TOKEN, np.float32)  # silence after short crops
    index = np.zeros((cfg.batch, S), np.int64)
    valid = np.zeros((cfg.batch, S), bool)
    labelled = np.zeros((cfg.batch, S), bool)
    frames = np.zeros((cfg.batch, S, crops[0].frames.shape[1]), np.float32)
    h_ref = np.zeros((cfg.batch, S, crops[0].h_ref.shape[1]), np.float32)
    for b, c in enumerate(crops):
        tokens[b, :len(c.tokens)] = c.tokens
        m = len(c.frames)
        index[b, :m] = c.offset + np.arange(m)
        valid[b, :m] = True
        labelled[b, :m] = c.labelled
        frames[b, :m], h_ref[b, :m] = c.frames, c.h_ref
    return (torch.from_numpy(tokens), torch.from_numpy(index), torch.from_numpy(valid), torch.from_numpy(labelled),
            torch.from_numpy(frames), torch.from_numpy(h_ref))


def adapt(reference: FaceModel, corpus: str, cfg: AdaptConfig = AdaptConfig()) -> AdaptResult:
    """-> a copy of `reference` with its encoder adapted (and level normalisation switched on in its config
    unless `cfg.level_norm` is False, the dereverberator where `cfg.dereverb`)."""
    from talkface_ros.data.real_streams import SOURCES

    unknown = sorted(set(cfg.real_sources) - set(SOURCES))
    if unknown:
        raise ValueError(f"unknown real-speech sources {unknown}; known: {', '.join(SOURCES)}")
    if cfg.only_extra_layers and cfg.extra_layers <= 0:
        raise ValueError("only_extra_layers needs extra_layers > 0")
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng([cfg.seed, 1818])
    t0 = time.time()
    reference = reference.eval()
    model = copy.deepcopy(reference)
    model.cfg = replace(model.cfg, level_norm=cfg.level_norm, level_norm_gate_db=cfg.level_norm_gate_db,
                        dereverb=cfg.dereverb, dereverb_rt60_s=cfg.dereverb_rt60_s)
    model.encoder.cfg = model.cfg
    add_identity_blocks(model, cfg.extra_layers)
    front_end = front_end_config(model.cfg.to_dict())
    utts = _reference_utterances(reference, corpus, "train")
    if not utts:
        raise ValueError(f"no training utterances in {corpus}")
    real: list[_Utterance] = []
    if cfg.real_sources:
        from talkface_ros.data.real_streams import StreamConfig, real_streams

        real = _reference_streams(reference, real_streams(cfg.real_sources, StreamConfig(seed=cfg.seed)))
    real_minutes = sum(len(u.h_ref) for u in real) / TOKENS_PER_S / 60
    augmenter = _room_augmenter(corpus, cfg, [u.audio for u in real])
    h_all = np.concatenate([u.h_ref for u in utts])
    h_scale = torch.from_numpy(np.maximum(h_all.std(0), 1e-3).astype(np.float32))
    log.info("adapt: %d utterances, %d real streams (%.0f min), %d rooms, %d talkers, reference encodings in %.0f s",
             len(utts), len(real), real_minutes, len(augmenter.rirs),
             len(augmenter.talkers), time.time() - t0)

    tuned = model.encoder.blocks[:cfg.extra_layers] if cfg.only_extra_layers else model.encoder
    params = train_only(model, tuned)
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    model.encoder.train()
    history = []
    for step in range(1, cfg.steps + 1):
        lr = cfg.lr * min(1.0, step / 100) * (0.5 * (1 + np.cos(np.pi * step / cfg.steps)) * 0.9 + 0.1)
        for g in opt.param_groups:
            g["lr"] = lr
        tokens, index, valid, labelled, frames, h_ref = _batch(utts, real, cfg, rng, augmenter, front_end)
        h = model.encoder(tokens)
        h = torch.gather(h, 1, index[..., None].expand(-1, -1, h.shape[-1]))
        h_loss = F.mse_loss(h[valid] / h_scale, h_ref[valid] / h_scale)
        a_loss = (F.mse_loss(model.aux_head(h[labelled]), model.normalize(frames[labelled])) if labelled.any()
                  else h.sum() * 0.0)
        loss = h_loss + cfg.aux_weight * a_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        history.append((h_loss.item(), a_loss.item()))
        if step % cfg.log_every == 0 or step == cfg.steps:
            recent = np.mean(history[-cfg.log_every:], axis=0)
            log.info("adapt step %d/%d: h %.4f aux %.4f (%.0f s)", step, cfg.steps, recent[0], recent[1],
                     time.time() - t0)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    card = {"adapt": {**asdict(cfg), "corpus": corpus, "real_streams": len(real),
                      "real_minutes": round(real_minutes, 1),
                      "wall_s": round(time.time() - t0, 1),
                      "first_h_loss": float(np.mean([h for h, _ in history[:10]])),
                      "final_h_loss": float(np.mean([h for h, _ in history[-100:]])),
                      "final_aux_loss": float(np.mean([a for _, a in history[-100:]]))}}
    return AdaptResult(model, card)


def adapt_checkpoint(reference_dir: str | Path, corpus: str, out_dir: str | Path,
                     cfg: AdaptConfig = AdaptConfig()) -> AdaptResult:
    from talkface_ros.model.checkpoint import load_checkpoint, save_checkpoint

    reference, card, _ = load_checkpoint(reference_dir)
    result = adapt(reference, corpus, cfg)
    result.card = {**card, **result.card, "adapted_from": str(reference_dir)}
    save_checkpoint(result.model, out_dir, result.card)
    return result
