"""Run a system over an eval set and compute the metrics table (pooled over all frames)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE
from talkface_ros.eval import metrics

log = logging.getLogger(__name__)
CHUNK = 320  # push 20 ms at a time, as the node does


@dataclass
class EvalItem:
    id: str
    audio: np.ndarray  # int16
    phone_class: np.ndarray  # uint8 [T]
    reference: np.ndarray | None = None  # teacher frames [T, 55], if any
    emotion: str = "neutral"
    intensity: float = 1.0
    speaker: str = ""  # the voice (variant) that spoke it, for per-voice tables; "" if not known


def speaker_of(voice: str) -> str:
    """A corpus manifest's `voice` ("en-us+Alicia@p40r180", "festival:ked@s1.1") -> the speaker ("Alicia",
    "festival:ked"): the espeak variant, or the whole name, without the rate/pitch suffix."""
    base = voice.split("@", 1)[0]
    return base.split("+", 1)[1] if "+" in base else base


@dataclass
class EvalResult:
    system: str
    set_name: str
    utterances: int
    seconds: float
    row: dict = field(default_factory=dict)
    condition: str = "clean"  # the acoustic condition the audio went through (eval/conditions.py)


def run_system(system, item: EvalItem) -> np.ndarray:
    """Stream the audio through the system; returns frames [T, 55] with T = ceil(N / 320)."""
    system.reset()
    if hasattr(system, "set_emotion"):
        system.set_emotion(item.emotion, item.intensity)
    T = -(-len(item.audio) // CHUNK)
    audio = np.pad(item.audio, (0, T * CHUNK - len(item.audio)))
    out = [system.push(audio[i : i + CHUNK]) for i in range(0, len(audio), CHUNK)]
    frames = np.concatenate(out) if out else np.zeros((0, 55), np.float32)
    if len(frames) < T:  # a system with latency: pad its tail with its last frame
        frames = np.concatenate([frames, np.repeat(frames[-1:] if len(frames) else np.zeros((1, 55), np.float32), T - len(frames), axis=0)])
    return frames[:T]


def evaluate(system_name: str, system, items: list[EvalItem], set_name: str, condition: str = "clean") -> EvalResult:
    preds, classes, refs, lags, jitters, feats, labels = [], [], [], [], [], [], []
    for item in items:
        frames = item.reference if system_name == "teacher" else run_system(system, item)
        preds.append(frames)
        classes.append(item.phone_class[: len(frames)])
        jitters.append(metrics.jitter(frames))
        if item.reference is not None:
            refs.append((frames, item.reference))
            lags.append(metrics.lag_frames(frames, item.reference))
        feats.append(frames)
        labels.append(item.emotion)
    pooled = np.concatenate(preds)
    aucs = metrics.lip_sync_aucs(pooled, np.concatenate(classes))
    # per utterance, so that no run spans two utterances
    core = [metrics.core_mask(c) for c in classes]
    core_aucs = metrics.lip_sync_aucs(np.concatenate([p[: len(m)][m] for p, m in zip(preds, core)]),
                                      np.concatenate([c[m] for c, m in zip(classes, core)]))
    row = {
        "open_vs_bilabial_auc": round(aucs["open_vs_bilabial_auc"], 3),
        "rounded_vs_spread_auc": round(aucs["rounded_vs_spread_auc"], 3),
        "open_vs_bilabial_auc_core60": round(core_aucs["open_vs_bilabial_auc"], 3),
        "rounded_vs_spread_auc_core60": round(core_aucs["rounded_vs_spread_auc"], 3),
        "mouth_mae": round(float(np.mean([metrics.mouth_mae(p, r) for p, r in refs])), 4) if refs else None,
        "jaw_corr": round(float(np.nanmean([metrics.jaw_correlation(p, r) for p, r in refs])), 3) if refs else None,
        "lag_ms": round(float(np.median(lags)) * 20, 1) if lags else None,
        "jitter": round(float(np.mean(jitters)), 5),
        "emotion_acc": None,
    }
    if len(set(labels)) > 1:
        row["emotion_acc"] = round(metrics.emotion_classifiability(feats, labels), 3)
    seconds = sum(len(i.audio) for i in items) / MODEL_SAMPLE_RATE
    return EvalResult(system_name, set_name, len(items), round(seconds, 1), row, condition)


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return str(value)


def format_table(results: list[EvalResult]) -> str:
    cols = ["system", "set", "condition", "utts", "seconds", "open_vs_bilabial_auc", "rounded_vs_spread_auc",
            "open_vs_bilabial_auc_core60", "rounded_vs_spread_auc_core60", "mouth_mae", "jaw_corr", "lag_ms", "jitter", "emotion_acc"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in results:
        values = [r.system, r.set_name, r.condition, r.utterances, r.seconds, *[r.row.get(c) for c in cols[5:]]]
        lines.append("| " + " | ".join(_cell(v) for v in values) + " |")
    return "\n".join(lines)
