"""Training for `talkface train` (encoder + diffusion teacher) and `talkface distill` (one-step student);
the command lines are in train_cli, so their --help does not import torch.

Checkpoints: OUT/model.safetensors (+ optimizer moments as extra tensors, for resume) + config.json + card.json.
"""
from __future__ import annotations

import logging
import math
import subprocess
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from talkface_ros.face.arkit import INDEX
from talkface_ros.model.checkpoint import CARD, CONFIG, load_checkpoint, read_json, save_checkpoint
from talkface_ros.model.features import front_end_config
from talkface_ros.model.data import Batch, feature_stats, load_clips, sample_batch, spectral_jitter
from talkface_ros.model.diffusion import ddim_sample, student_x0, v_loss
from talkface_ros.model.network import Denoiser, FaceModel, ModelConfig
from talkface_ros.model.steps import frame_limits

log = logging.getLogger(__name__)

# the lip-sync channels (no emotion in them), for DistillConfig.aux_weight
ARTICULATION = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthRollLower", "mouthRollUpper",
                "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
                "mouthShrugLower", "mouthShrugUpper")
ARTICULATION_IDX = [INDEX[name] for name in ARTICULATION]


@dataclass
class TrainConfig:
    steps: int = 3000
    batch: int = 24
    seq: int = 100  # tokens per crop (2 s)
    lr: float = 2e-3
    warmup: int = 100
    weight_decay: float = 0.01
    cfg_drop: float = 0.15  # classifier-free guidance: emotion dropped this often
    history_noise: float = 0.1  # normalised units, against exposure bias in outpainting
    aux_weight: float = 1.0  # aux regression head, always on h[t] (lookahead 0): see aux_loss
    history_drop: float = 0.0  # this fraction of frames sees the clip-start (all-zero) history instead
    causal_history: float = 0.0  # this fraction of crops is conditioned on the aux head's causal estimates
    audio_copies: int = 1  # augmented copies of each training clip (data.load_clips)
    augment: str = "basic"  # the copies' chain: "basic" (data.augment.augment) or "room" (data.augment.RoomAugmenter)
    spec_warp: float = 0.12  # vocal-tract warp range, log of the formant factor (data.spectral_jitter)
    spec_tilt: float = 2.0  # spectral tilt range, natural-log power units end to end
    ema: float = 0.0  # decay of an exponential moving average of the weights (0: off); checkpoints hold the average
    seed: int = 0
    threads: int = 2
    save_every: int = 250


@dataclass
class DistillConfig:
    steps: int = 600
    batch: int = 16
    seq: int = 100
    frames_per_batch: int = 384
    lr: float = 5e-4
    teacher_steps: int = 20  # DDIM steps of the teacher (NFE = 2 x this with guidance)
    guidance: float = 1.5
    gt_weight: float = 0.5
    velocity_weight: float = 0.5
    jitter_weight: float = 0.25
    history_noise: float = 0.1
    history_drop: float = 0.0  # as TrainConfig.history_drop (teacher target and student see the same history)
    own_history: float = 0.0  # this fraction of crops is conditioned on the student's own rollout (exposure bias)
    aux_weight: float = 0.0  # pull the student's articulation channels towards the aux head's lag-free estimate
    aux_max_lookahead: int = 3  # ... in crops with at most this lookahead
    residual: bool = True  # a residual student (ModelConfig.residual_student): its output layer starts at zero
    student_layers: int = 0  # fewer residual blocks than the teacher (0: as many): the first ones are kept
    causal_history: float = 0.0  # as TrainConfig.causal_history
    audio_copies: int = 1  # as TrainConfig.audio_copies
    augment: str = "basic"  # as TrainConfig.augment
    spec_warp: float = 0.12
    spec_tilt: float = 2.0
    seed: int = 1
    threads: int = 2
    save_every: int = 200


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def lr_at(step: int, total: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def _optimizer_state(opt: torch.optim.Optimizer, params: list[torch.nn.Parameter]) -> dict[str, torch.Tensor]:
    out = {}
    for i, p in enumerate(params):
        st = opt.state.get(p, {})
        for key in ("exp_avg", "exp_avg_sq"):
            if key in st:
                out[f"opt/{i}/{key}"] = st[key]
        if "step" in st:
            out[f"opt/{i}/step"] = torch.as_tensor(st["step"], dtype=torch.float32).reshape(1)
    return out


class WeightAverage:
    """Exponential moving average of named parameters (decay ramped up from 0 over the first steps, as is usual,
    so early weights do not linger). `swapped()` puts the average into the model for saving or evaluating."""

    def __init__(self, named: dict[str, torch.nn.Parameter], decay: float, step: int = 0) -> None:
        self.named = named
        self.decay = decay
        self.step = step
        self.average = {n: p.detach().clone() for n, p in named.items()}

    @torch.no_grad()
    def update(self) -> None:
        self.step += 1
        d = min(self.decay, (1 + self.step) / (10 + self.step))
        for n, p in self.named.items():
            self.average[n].mul_(d).add_(p.detach(), alpha=1 - d)

    @torch.no_grad()
    def swap(self) -> None:
        for n, p in self.named.items():
            current = p.detach().clone()
            p.copy_(self.average[n])
            self.average[n] = current


def _restore_optimizer(opt: torch.optim.Optimizer, params: list[torch.nn.Parameter],
                       extra: dict[str, torch.Tensor]) -> None:
    for i, p in enumerate(params):
        if f"opt/{i}/exp_avg" in extra:
            opt.state[p] = {"exp_avg": extra[f"opt/{i}/exp_avg"].clone(),
                            "exp_avg_sq": extra[f"opt/{i}/exp_avg_sq"].clone(),
                            "step": torch.tensor(float(extra[f"opt/{i}/step"][0]))}


def _select(batch: Batch, h: torch.Tensor, model: FaceModel, history_noise: float, gen: torch.Generator):
    """Flatten the valid frames of a batch: -> (x0 norm, h at t+L, history norm (noised), clean history norm,
    emotion, lookahead)."""
    L = batch.lookahead
    B, S, _ = batch.frames.shape
    h_shift = torch.zeros_like(h)
    h_shift[:, : S - L] = h[:, L:]
    idx = batch.valid
    x0 = model.normalize(batch.frames[idx])
    hist_clean = model.normalize(batch.history[idx])
    hist = hist_clean + history_noise * torch.randn(hist_clean.shape, generator=gen)
    emotion = batch.emotion[:, None].expand(B, S, -1)[idx]
    lookahead = torch.full((x0.shape[0],), L, dtype=torch.long)
    return x0, h_shift[idx], hist, hist_clean, emotion, lookahead


def jitter_tokens(batch: Batch, rng: np.random.Generator, warp: float, tilt: float) -> Batch:
    if warp <= 0.0 and tilt <= 0.0:
        return batch
    return replace(batch, tokens=torch.from_numpy(spectral_jitter(batch.tokens.numpy(), rng, warp, tilt)))


def aux_loss(model: FaceModel, batch: Batch, h: torch.Tensor) -> torch.Tensor:
    """Direct regression of frame t from the encoding at token t (never at t + L).

    Regressing frame t from h[t + L] with L random and unknown to the head pulls the shared encoder
    towards a representation delayed by ~L frames, which the lookahead-0 path then inherits as lag."""
    idx = batch.valid
    return F.mse_loss(model.aux_head(h[idx]), model.normalize(batch.frames[idx]))


def drop_history(model: FaceModel, hist: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    """Replace the history of a random fraction p of frames by the clip-start history (raw zeros), so the
    denoiser cannot rely on copying its past and must read the emotion and audio conditioning."""
    if p <= 0.0:
        return hist
    drop = torch.rand(hist.shape[0], generator=gen) < p
    start = model.normalize(torch.zeros_like(hist))
    return torch.where(drop[:, None, None], start, hist)


@torch.no_grad()
def causal_history(model: FaceModel, batch: Batch, h: torch.Tensor) -> torch.Tensor:
    """History made of the aux head's estimates of frames t-K .. t-1, each from audio up to its own frame
    (ground truth for frames before the crop). -> [B, S, K, 55] raw, like batch.history.

    Ground-truth history leaks the future: the teacher animation moves the lips before the sound, so
    frames t-K .. t-1 already show what frame t's audio will be, and a denoiser trained on them learns to
    continue that trend instead of reading the audio. At run time its history is its own causal output, and
    the habit shows as lag. A causal estimate carries no such hint."""
    K = model.cfg.history
    lo, hi = frame_limits()
    estimates = torch.minimum(torch.maximum(model.denormalize(model.aux_head(h)), lo), hi)
    padded = torch.cat([batch.history[:, 0], estimates], dim=1)  # [B, K + S, 55]: frame j at index j + K
    S = h.shape[1]
    return torch.stack([padded[:, t: t + K] for t in range(S)], dim=1)


def mix_crops(chosen: torch.Tensor, replacement: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    return torch.where(chosen[:, None, None, None], replacement, original)


@torch.no_grad()
def own_history(model: FaceModel, batch: Batch, h: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """The history the student would see at run time: roll it out over the crop (one step per frame, each
    conditioned on its own previous outputs, starting from the ground-truth frames before the crop).
    -> [B, S, K, 55] raw frames, same layout as batch.history.

    Trained only on ground-truth history, the student learns to continue a trajectory that already
    anticipates the sound; fed its own (later) outputs it then lags further at every frame."""
    B, S, _ = h.shape
    L = batch.lookahead
    lo, hi = frame_limits()
    history = batch.history[:, 0].clone()
    emotion = batch.emotion
    la = torch.full((B,), L, dtype=torch.long)
    out = torch.zeros_like(batch.history)
    for t in range(S):
        out[:, t] = history
        noise = torch.randn(B, model.cfg.face_dim, generator=gen)
        x0 = student_x0(model, noise, h[:, t], h[:, min(t + L, S - 1)], model.normalize(history), emotion, la)
        frame = torch.minimum(torch.maximum(model.denormalize(x0), lo), hi)
        history = torch.cat([history[:, 1:], frame[:, None]], dim=1)
    return out


def evaluate_teacher(model: FaceModel, clips, seed: int = 123, batches: int = 4) -> dict:
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    losses, aux = [], []
    with torch.no_grad():
        for _ in range(batches):
            batch = sample_batch(clips, 16, 100, model.cfg.history, int(rng.integers(0, 4)), rng, gain_db=0.0)
            h = model.encoder(batch.tokens)
            x0, hh, hist, _, emo, la = _select(batch, h, model, 0.0, gen)
            losses.append(v_loss(model.teacher, x0, hh, hist, emo, la, gen).mean().item())
            aux.append(aux_loss(model, batch, h).item())
    return {"val_v_loss": float(np.mean(losses)), "val_aux_mse": float(np.mean(aux))}


def train_only(model: torch.nn.Module, part: torch.nn.Module) -> list[torch.nn.Parameter]:
    """Freeze `model` but `part`; -> the parameters of `part` (what the optimiser gets)."""
    for p in model.parameters():
        p.requires_grad_(False)
    params = list(part.parameters())
    for p in params:
        p.requires_grad_(True)
    return params


def training_clips(corpus: str, limit: int | None, copies: int, seed: int, augment: str,
                   model_config: dict) -> list:
    """The train split with `copies` augmented copies of each clip (seeded by `seed`), through the model's level
    normaliser if it has one."""

    if augment not in ("basic", "room"):
        raise ValueError(f"unknown augment {augment!r} (basic, room)")
    augmenter = None
    if augment == "room" and copies:  # no augmented copies: no rooms to build
        from talkface_ros.data.augment import RoomAugmenter

        t0 = time.time()
        augmenter = RoomAugmenter.from_corpus(corpus, seed)
        log.info("room augmentation: %d rooms, %d talkers (%.0f s)", len(augmenter.rirs), len(augmenter.talkers),
                 time.time() - t0)
    return load_clips(corpus, "train", limit, copies, np.random.default_rng([seed, 7]),
                      front_end_config(model_config), augmenter)


def train(corpus: str, out: str, tcfg: TrainConfig, mcfg: ModelConfig, resume: bool = True,
          limit: int | None = None) -> FaceModel:
    torch.set_num_threads(tcfg.threads)
    torch.manual_seed(tcfg.seed)
    out_dir = Path(out)
    clips = training_clips(corpus, limit, tcfg.audio_copies, tcfg.seed, tcfg.augment, mcfg.to_dict())
    val = load_clips(corpus, "val", limit, front_end=front_end_config(mcfg.to_dict())) or clips[:8]
    if not clips:
        raise ValueError(f"no training utterances in {corpus}")
    start_step, extra, card = 0, {}, {}
    if resume and (out_dir / "model.safetensors").is_file():
        model, card, extra = load_checkpoint(out_dir)
        start_step = int(card.get("train", {}).get("step", 0))
        log.info("resuming from %s at step %d", out_dir, start_step)
    else:
        model = FaceModel(mcfg)
        fm, fs, am, as_ = feature_stats(clips)
        model.encoder.feat_mean.copy_(torch.from_numpy(fm))
        model.encoder.feat_std.copy_(torch.from_numpy(fs))
        model.face_mean.copy_(torch.from_numpy(am))
        model.face_std.copy_(torch.from_numpy(as_))
    model.train()
    named = {n: p for n, p in model.named_parameters() if not n.startswith("student.")}
    params = list(named.values())
    opt = torch.optim.AdamW(params, lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    _restore_optimizer(opt, params, extra)
    average = None
    if tcfg.ema > 0.0:  # a checkpoint holds the average as its weights and the raw ones as extra tensors
        average = WeightAverage(named, tcfg.ema, start_step)
        if start_step and all(f"raw/{n}" in extra for n in named):
            with torch.no_grad():
                for n, p in named.items():
                    p.copy_(extra[f"raw/{n}"])
    rng = np.random.default_rng(tcfg.seed + start_step)
    gen = torch.Generator().manual_seed(tcfg.seed + start_step)
    t0 = time.time()
    elapsed_before = float(card.get("train", {}).get("wall_s", 0.0))
    from tqdm import tqdm

    bar = tqdm(range(start_step, tcfg.steps), initial=start_step, total=tcfg.steps, desc="train", mininterval=5)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, tcfg.steps, tcfg.lr, tcfg.warmup)
        batch = sample_batch(clips, tcfg.batch, tcfg.seq, mcfg.history, int(rng.integers(0, mcfg.max_lookahead + 1)), rng,
                             gain_db=0.0 if mcfg.level_norm else 12.0)  # the normaliser undoes a level shift
        batch = jitter_tokens(batch, rng, tcfg.spec_warp, tcfg.spec_tilt)
        h = model.encoder(batch.tokens)
        if tcfg.causal_history > 0.0:
            chosen = torch.rand(batch.history.shape[0], generator=gen) < tcfg.causal_history
            batch = replace(batch, history=mix_crops(chosen, causal_history(model, batch, h.detach()), batch.history))
        x0, hh, hist, _, emo, la = _select(batch, h, model, tcfg.history_noise, gen)
        hist = drop_history(model, hist, tcfg.history_drop, gen)
        drop = torch.rand(emo.shape[0], generator=gen) < tcfg.cfg_drop
        emo = emo.masked_fill(drop[:, None], 0.0)
        diff = v_loss(model.teacher, x0, hh, hist, emo, la, gen).mean()
        aux = aux_loss(model, batch, h)
        loss = diff + tcfg.aux_weight * aux
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if average is not None:
            average.update()
        bar.set_postfix(v=f"{diff.item():.3f}", aux=f"{aux.item():.3f}", refresh=False)
        last = step + 1 == tcfg.steps
        if (step + 1) % tcfg.save_every == 0 or last:
            raw = {f"raw/{n}": p.detach().clone() for n, p in named.items()} if average is not None else {}
            if average is not None:
                average.swap()
            model.eval()
            metrics = evaluate_teacher(model, val) if last else {}
            model.train()
            card = {**card, "train": {"step": step + 1, "corpus": str(corpus), "clips": len(clips),
                                      "minutes": round(sum(len(c.tokens) for c in clips) / 3000.0, 1),
                                      "config": asdict(tcfg), "wall_s": round(elapsed_before + time.time() - t0, 1),
                                      "last_loss": {"v": diff.item(), "aux": aux.item()}, **metrics},
                    "git_commit": git_commit()}
            save_checkpoint(model, out_dir, card, {**_optimizer_state(opt, params), **raw})
            if average is not None and not last:
                average.swap()
    model.eval()
    return model


def distill(teacher_dir: str, corpus: str, out: str, dcfg: DistillConfig, resume: bool = True,
            limit: int | None = None) -> FaceModel:
    torch.set_num_threads(dcfg.threads)
    torch.manual_seed(dcfg.seed)
    out_dir = Path(out)
    clips = training_clips(corpus, limit, dcfg.audio_copies, dcfg.seed, dcfg.augment,
                           read_json(Path(teacher_dir) / CONFIG))
    start_step = 0
    if resume and (out_dir / "model.safetensors").is_file() and read_json(out_dir / CARD).get("distill"):
        model, card, extra = load_checkpoint(out_dir)
        start_step = int(card["distill"].get("step", 0))
        log.info("resuming distillation from %s at step %d", out_dir, start_step)
    else:
        model, card, extra = load_checkpoint(teacher_dir)
        if dcfg.student_layers and dcfg.student_layers != model.cfg.den_layers:
            if not 0 < dcfg.student_layers < model.cfg.den_layers:
                raise ValueError(f"student_layers {dcfg.student_layers} must be between 1 and the teacher's "
                                 f"{model.cfg.den_layers}")
            model.cfg.student_layers = dcfg.student_layers
            model.student = Denoiser(model.cfg, dcfg.student_layers)
        teacher_state = model.teacher.state_dict()
        model.student.load_state_dict({k: v for k, v in teacher_state.items() if k in model.student.state_dict()})
        model.cfg.residual_student = dcfg.residual
        if dcfg.residual:  # it starts as the aux head's estimate (the teacher's output would come on top of it)
            torch.nn.init.zeros_(model.student.out.weight)
            torch.nn.init.zeros_(model.student.out.bias)
        extra = {}
    params = train_only(model, model.student)
    opt = torch.optim.AdamW(params, lr=dcfg.lr, weight_decay=0.0)
    _restore_optimizer(opt, params, extra)
    rng = np.random.default_rng(dcfg.seed + start_step)
    gen = torch.Generator().manual_seed(dcfg.seed + start_step)
    model.eval()
    model.student.train()
    t0 = time.time()
    elapsed_before = float(card.get("distill", {}).get("wall_s", 0.0))
    from tqdm import tqdm

    bar = tqdm(range(start_step, dcfg.steps), initial=start_step, total=dcfg.steps, desc="distill", mininterval=5)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, dcfg.steps, dcfg.lr, 50)
        L = int(rng.integers(0, model.cfg.max_lookahead + 1))
        batch = sample_batch(clips, dcfg.batch, dcfg.seq, model.cfg.history, L, rng,
                             gain_db=0.0 if model.cfg.level_norm else 12.0)
        batch = jitter_tokens(batch, rng, dcfg.spec_warp, dcfg.spec_tilt)
        with torch.no_grad():
            h = model.encoder(batch.tokens)
        if dcfg.own_history > 0.0:
            own = torch.rand(batch.history.shape[0], generator=gen) < dcfg.own_history
            model.student.eval()
            mixed = mix_crops(own, own_history(model, batch, h, gen), batch.history)
            model.student.train()
            batch = replace(batch, history=mixed)
        if dcfg.causal_history > 0.0:
            chosen = torch.rand(batch.history.shape[0], generator=gen) < dcfg.causal_history
            batch = replace(batch, history=mix_crops(chosen, causal_history(model, batch, h), batch.history))
        x0, hh, hist, hist_clean, emo, la = _select(batch, h, model, dcfg.history_noise, gen)
        pick = torch.randperm(x0.shape[0], generator=gen)[: dcfg.frames_per_batch]
        x0, hh, hist, hist_clean, emo, la = x0[pick], hh[pick], hist[pick], hist_clean[pick], emo[pick], la[pick]
        h_frame = h[batch.valid][pick]  # the encoding at t itself (hh is at t + L)
        with torch.no_grad():  # the aux head's estimate of frame t, from h[t] (never h[t + L]): lag-free
            aux_target = model.aux_head(h_frame)[:, ARTICULATION_IDX]
        hist = drop_history(model, hist, dcfg.history_drop, gen)
        noise = torch.randn(x0.shape, generator=gen)
        target = ddim_sample(model.teacher, noise, hh, hist, emo, la, dcfg.teacher_steps, dcfg.guidance)
        pred = student_x0(model, noise, h_frame, hh, hist, emo, la)
        distill_loss = F.mse_loss(pred, target)
        gt_loss = F.mse_loss(pred, x0)
        prev, prev2 = hist_clean[:, -1], hist_clean[:, -2]
        velocity = F.mse_loss(pred - prev, x0 - prev)
        jitter = F.mse_loss(pred - 2 * prev + prev2, x0 - 2 * prev + prev2)
        aux = F.mse_loss(pred[:, ARTICULATION_IDX], aux_target)
        aux_weight = dcfg.aux_weight if L <= dcfg.aux_max_lookahead else 0.0
        loss = (distill_loss + dcfg.gt_weight * gt_loss + dcfg.velocity_weight * velocity
                + dcfg.jitter_weight * jitter + aux_weight * aux)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        bar.set_postfix(d=f"{distill_loss.item():.3f}", gt=f"{gt_loss.item():.3f}", refresh=False)
        last = step + 1 == dcfg.steps
        if (step + 1) % dcfg.save_every == 0 or last:
            card = {**card, "distill": {"step": step + 1, "teacher": str(teacher_dir), "config": asdict(dcfg),
                                        "wall_s": round(elapsed_before + time.time() - t0, 1),
                                        "nfe_teacher": dcfg.teacher_steps * (2 if dcfg.guidance != 1.0 else 1),
                                        "nfe_student": 1,
                                        "last_loss": {"distill": distill_loss.item(), "gt": gt_loss.item(),
                                                      "velocity": velocity.item(), "jitter": jitter.item(),
                                                      "aux": aux.item()}},
                    "git_commit": git_commit()}
            save_checkpoint(model, out_dir, card, _optimizer_state(opt, params))
    model.eval()
    return model
