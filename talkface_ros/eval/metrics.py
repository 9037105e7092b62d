"""Lip-sync metrics (contract C). All take 50 Hz frames [T, 55] in FRAME_NAMES order.

- core_mask: the middle 60 % of each run of equal labels (real speech is scored there and in full).
- lip_sync_aucs: scale-free ROC-AUCs. jawOpen on open-vowel frames vs bilabial frames (a system that opens
  for vowels and closes for p/b/m scores 1; constant output scores 0.5), and mouthFunnel+mouthPucker on
  rounded vs spread vowel frames.
- mouth_mae: mean absolute error over the mouth group vs a reference (the teacher).
- lag_frames: the shift (frames, positive = prediction late) maximising the cross-correlation of jawOpen.
- jaw_correlation: Pearson correlation of jawOpen with the reference (scale-free).
- jitter: mean absolute second difference of the mouth group (per frame^2), lower is smoother.
- upper_face_diversity: mean std across seeds of the upper-face channels (non-deterministic systems > 0).
- emotion_classifiability: leave-one-out nearest-centroid accuracy of the emotion label from the mean
  non-mouth face of each utterance (chance = 1/7).
"""
from __future__ import annotations

import numpy as np

from talkface_ros.face.arkit import ARKIT_NAMES, INDEX
from talkface_ros.face.visemes import BILABIAL, OPEN_VOWEL, ROUNDED_VOWEL, SPREAD_VOWEL

MOUTH_GROUP: tuple[str, ...] = tuple(n for n in ARKIT_NAMES if n.startswith(("jaw", "mouth", "tongue", "cheekPuff")))
MOUTH_IDX = np.array([INDEX[n] for n in MOUTH_GROUP])
UPPER_FACE: tuple[str, ...] = tuple(n for n in ARKIT_NAMES if n.startswith(("brow", "eye", "cheekSquint", "noseSneer")))
UPPER_IDX = np.array([INDEX[n] for n in UPPER_FACE])
# What carries emotion: the upper face and the mouth corners.
EMOTION_IDX = np.array([INDEX[n] for n in UPPER_FACE + ("mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight", "mouthStretchLeft", "mouthStretchRight")])


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(score(pos) > score(neg)) + 0.5 P(tie), by ranks (Mann-Whitney). NaN if a side is empty."""
    positive, negative = np.asarray(positive, np.float64), np.asarray(negative, np.float64)
    if len(positive) == 0 or len(negative) == 0:
        return float("nan")
    scores = np.concatenate([positive, negative])
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average ranks for ties
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = ranks[: len(positive)].sum()
    u = rank_sum - len(positive) * (len(positive) + 1) / 2
    return float(u / (len(positive) * len(negative)))


def _check(frames: np.ndarray, phone_class: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    frames = np.asarray(frames, np.float32)
    phone_class = np.asarray(phone_class)
    if frames.ndim != 2 or frames.shape[1] != 55:
        raise ValueError(f"frames must be [T, 55], got {frames.shape}")
    n = min(len(frames), len(phone_class))
    if abs(len(frames) - len(phone_class)) > 2:
        raise ValueError(f"frames ({len(frames)}) and phone_class ({len(phone_class)}) lengths differ")
    return frames[:n], phone_class[:n].astype(np.uint8)


def core_mask(phone_class: np.ndarray, keep: float = 0.6) -> np.ndarray:
    """True on the middle `keep` share of every run of equal labels (at least its centre frame)."""
    phone_class = np.asarray(phone_class)
    mask = np.zeros(len(phone_class), dtype=bool)
    start = 0
    for end in range(1, len(phone_class) + 1):
        if end == len(phone_class) or phone_class[end] != phone_class[start]:
            length = end - start
            trim = int(np.floor(length * (1.0 - keep) / 2.0 + 1e-9))
            lo, hi = start + trim, end - trim
            if hi <= lo:
                lo, hi = start + (length - 1) // 2, start + (length - 1) // 2 + 1
            mask[lo:hi] = True
            start = end
    return mask


def lip_sync_aucs(pred_frames: np.ndarray, phone_class: np.ndarray, core_only: bool = False) -> dict:
    """core_only: score only the middle 60 % of each labelled run (`core_mask`), away from boundaries
    that aligners place to +-20 ms."""
    frames, pc = _check(pred_frames, phone_class)
    if core_only:
        keep = core_mask(pc)
        frames, pc = frames[keep], pc[keep]
    jaw = frames[:, INDEX["jawOpen"]]
    rounding = frames[:, INDEX["mouthFunnel"]] + frames[:, INDEX["mouthPucker"]]
    open_vowel, bilabial = (pc & OPEN_VOWEL) != 0, (pc & BILABIAL) != 0
    rounded, spread = (pc & ROUNDED_VOWEL) != 0, (pc & SPREAD_VOWEL) != 0
    return {
        "open_vs_bilabial_auc": roc_auc(jaw[open_vowel], jaw[bilabial]),
        "rounded_vs_spread_auc": roc_auc(rounding[rounded], rounding[spread]),
    }


def mouth_mae(pred_frames: np.ndarray, ref_frames: np.ndarray) -> float:
    n = min(len(pred_frames), len(ref_frames))
    return float(np.mean(np.abs(np.asarray(pred_frames)[:n, MOUTH_IDX] - np.asarray(ref_frames)[:n, MOUTH_IDX])))


def lag_frames(pred: np.ndarray, ref: np.ndarray, max_lag: int = 10, channel: str = "jawOpen") -> int:
    """Positive: the prediction is late by that many frames."""
    n = min(len(pred), len(ref))
    a = np.asarray(pred, np.float64)[:n, INDEX[channel]]
    b = np.asarray(ref, np.float64)[:n, INDEX[channel]]
    a, b = a - a.mean(), b - b.mean()
    best, best_score = 0, -np.inf
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            x, y = a[lag:], b[: n - lag]
        else:
            x, y = a[: n + lag], b[-lag:]
        if len(x) < 3:
            continue
        denom = np.sqrt((x * x).sum() * (y * y).sum())
        score = (x * y).sum() / denom if denom > 0 else 0.0
        if score > best_score:
            best, best_score = lag, score
    return best


def jaw_correlation(pred: np.ndarray, ref: np.ndarray) -> float:
    """Pearson correlation of jawOpen with the reference (scale-free; NaN if either is constant)."""
    n = min(len(pred), len(ref))
    a = np.asarray(pred, np.float64)[:n, INDEX["jawOpen"]]
    b = np.asarray(ref, np.float64)[:n, INDEX["jawOpen"]]
    if n < 3 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def jitter(frames: np.ndarray) -> float:
    frames = np.asarray(frames, np.float64)
    if len(frames) < 3:
        return 0.0
    return float(np.mean(np.abs(np.diff(frames[:, MOUTH_IDX], n=2, axis=0))))


def upper_face_diversity(runs: list[np.ndarray]) -> float:
    """runs: the same utterance animated with different seeds, each [T, 55]."""
    if len(runs) < 2:
        return 0.0
    n = min(len(r) for r in runs)
    stack = np.stack([np.asarray(r)[:n, UPPER_IDX] for r in runs])
    return float(stack.std(axis=0).mean())


def emotion_classifiability(features: list[np.ndarray], labels: list[str]) -> float:
    """Leave-one-out nearest-centroid accuracy; features are per-utterance [T, 55] frames."""
    if len(features) != len(labels) or len(features) < 2:
        raise ValueError("need >= 2 utterances with one label each")
    x = np.stack([np.asarray(f)[:, EMOTION_IDX].mean(axis=0) for f in features])
    return nearest_centroid_accuracy(x, labels)


def nearest_centroid_accuracy(x: np.ndarray, labels: list[str]) -> float:
    """Leave-one-out nearest-centroid accuracy of `labels` from feature rows x [N, D]."""
    x, y = np.asarray(x, np.float64), np.array(labels)
    correct = 0
    for i in range(len(x)):
        mask = np.arange(len(x)) != i
        classes = sorted(set(y[mask]))
        centroids = np.stack([x[mask & (y == c)].mean(axis=0) for c in classes])
        pred = classes[int(np.argmin(np.linalg.norm(centroids - x[i], axis=1)))]
        correct += pred == y[i]
    return correct / len(x)
