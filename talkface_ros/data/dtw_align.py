"""Phone alignment of real speech in any espeak-ng language: synthesise the transcript, align by DTW.

pocketsphinx (sphinx_align.py) knows English only. For another language the transcript is spoken by
espeak-ng, whose phone events give the synthetic phones' times; dynamic time warping between the two
recordings' features maps every synthetic boundary onto the real recording. The phones are espeak's
reading of the text (its lexicon and rules), the times the real speaker's.

Features: `encoder_features`, the shipped model's audio encodings (what `world_prompts` uses: far better
across speakers), or `cepstra`, 12 cepstra of the mel bins below `max_hz` with per-utterance mean and
variance normalisation (no torch needed; good enough between two readings by one voice). The warp is a
slope-constrained symmetric DTW computed one anti-diagonal at a time in numpy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.fft import dct

from talkface_ros.data.phones import Phone
from talkface_ros.model.features import HOP, MEL_CENTRES_HZ, SAMPLE_RATE, log_mel

FRAME_S = HOP / SAMPLE_RATE  # 10 ms


@dataclass(frozen=True)
class DtwConfig:
    max_hz: float = 3800.0  # telephone band: Asterisk's prompts are 8 kHz recordings
    n_cepstra: int = 12


def cepstra(audio: np.ndarray, config: DtwConfig = DtwConfig()) -> np.ndarray:
    """int16 16 kHz -> [frames, n_cepstra] normalised cepstra at 10 ms (c0, the loudness, left out)."""
    mel = log_mel(audio)[:, MEL_CENTRES_HZ < config.max_hz]
    c = dct(mel, type=2, norm="ortho", axis=1)[:, 1 : 1 + config.n_cepstra]
    return (c - c.mean(axis=0)) / (c.std(axis=0) + 1e-6)


def dtw_path(cost: np.ndarray) -> np.ndarray:
    """Slope-constrained symmetric DTW (Sakoe-Chiba, P = 1: steps (1,1), (1,2), (2,1), so the local tempo
    ratio stays within [1/2, 2] and no phone of either side is skipped) over a [n, m] local cost matrix;
    returns the path as [k, 2] index pairs from (0, 0) to (n - 1, m - 1). ValueError when no path fits (the
    two lengths more than a factor 2 apart)."""
    n, m = cost.shape
    total = np.full((n, m), np.inf)
    step = np.zeros((n, m), np.int8)  # 0: from (i-1, j-1); 1: from (i-1, j-2) via (i, j-1); 2: from (i-2, j-1) via (i-1, j)
    total[0, 0] = 2 * cost[0, 0]
    big = np.inf
    for k in range(2, n + m - 1):  # anti-diagonal i + j = k depends on k - 2 and k - 3 only
        i = np.arange(max(1, k - m + 1), min(n, k))
        j = k - i
        ok = j >= 1
        i, j = i[ok], j[ok]
        c = cost[i, j]
        diag = total[i - 1, j - 1] + 2 * c
        wide = np.where(j >= 2, total[i - 1, np.maximum(j - 2, 0)] + 2 * cost[i, j - 1] + c, big)
        tall = np.where(i >= 2, total[np.maximum(i - 2, 0), j - 1] + 2 * cost[i - 1, j] + c, big)
        options = np.stack([diag, wide, tall])
        choice = np.argmin(options, axis=0)
        total[i, j] = options[choice, np.arange(len(i))]
        step[i, j] = choice
    if not np.isfinite(total[n - 1, m - 1]):
        raise ValueError(f"no warp within tempo ratio 1/2..2 between {n} and {m} frames")
    path = [(n - 1, m - 1)]
    i, j = n - 1, m - 1
    while i > 0 or j > 0:
        s = step[i, j]
        if s == 0:
            i, j = i - 1, j - 1
        elif s == 1:
            path.append((i, j - 1))
            i, j = i - 1, j - 2
        else:
            path.append((i - 1, j))
            i, j = i - 2, j - 1
        path.append((i, j))
    return np.array(path[::-1])


def warp_phones(reference: list[Phone], path: np.ndarray, real_seconds: float, frame_s: float = FRAME_S) -> list[Phone]:
    """Carry the reference's phone boundaries along the path: a boundary before reference frame b goes to
    the first real frame matched to b. Contiguous phones covering [0, real_seconds]; a phone squeezed to
    nothing is dropped (its neighbours meet)."""
    ref_frames, real_frames = path[:, 0], path[:, 1]
    last = int(ref_frames.max())
    first_real = np.full(last + 1, np.inf)
    np.minimum.at(first_real, ref_frames, real_frames)

    def to_real(t: float) -> float:
        b = min(max(int(round(t / frame_s)), 0), last)
        return float(first_real[b] * frame_s)

    out: list[Phone] = []
    start = 0.0
    for k, phone in enumerate(reference):
        end = real_seconds if k == len(reference) - 1 else min(max(to_real(phone.end), start), real_seconds)
        if end > start:
            if out and out[-1].symbol == phone.symbol == "":
                out[-1] = Phone("", out[-1].start, end)
            else:
                out.append(Phone(phone.symbol, start, end))
            start = end
    return out


def pad_with_silence(audio: np.ndarray, phones: list[Phone], before_s: float, after_s: float) -> tuple[np.ndarray, list[Phone]]:
    """Digital silence before and after, as "" phones."""
    before, after = int(round(before_s * SAMPLE_RATE)), int(round(after_s * SAMPLE_RATE))
    before_s = before / SAMPLE_RATE
    total = (len(audio) + before + after) / SAMPLE_RATE
    shifted = [Phone(p.symbol, p.start + before_s, p.end + before_s) for p in phones]
    body_end = shifted[-1].end if shifted else before_s
    padded = ([Phone("", 0.0, before_s)] if before else []) + shifted + ([Phone("", body_end, total)] if after else [])
    return np.pad(audio, (before, after)), padded


def align_to_reference(real_audio: np.ndarray, reference_audio: np.ndarray, reference_phones: list[Phone],
                       config: DtwConfig = DtwConfig(), features=None, frame_s: float = FRAME_S) -> list[Phone]:
    """The reference recording's phones moved onto the real one (both int16 16 kHz). The reference gets as
    much silence before and after its speech as the recording has (the warp's tempo limit would otherwise
    stretch a short reference pause over the recording's speech, or the other way round)."""
    return align_to_reference_scored(real_audio, reference_audio, reference_phones, config, features, frame_s)[0]


def align_to_reference_scored(real_audio: np.ndarray, reference_audio: np.ndarray, reference_phones: list[Phone],
                              config: DtwConfig = DtwConfig(), features=None,
                              frame_s: float = FRAME_S) -> tuple[list[Phone], float]:
    """`align_to_reference`, and the mean feature distance along the warp path: how alike the two recordings
    are once aligned (higher where the recording says something else than the reference)."""
    features = features or (lambda audio: cepstra(audio, config))
    (real_start, real_end), (ref_start, ref_end) = speech_bounds_s(real_audio), speech_bounds_s(reference_audio)
    real_tail = len(real_audio) / SAMPLE_RATE - real_end
    ref_tail = len(reference_audio) / SAMPLE_RATE - ref_end
    reference_audio, reference_phones = pad_with_silence(reference_audio, reference_phones,
                                                         max(real_start - ref_start, 0.0), max(real_tail - ref_tail, 0.0))
    a, b = features(reference_audio), features(real_audio)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("audio too short to align")
    cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))
    path = dtw_path(cost)
    return (warp_phones(reference_phones, path, len(real_audio) / SAMPLE_RATE, frame_s),
            float(cost[path[:, 0], path[:, 1]].mean()))


_ENCODER = None


def encoder_features(audio: np.ndarray) -> np.ndarray:
    """int16 16 kHz -> [frames, d] the shipped model's audio encoding at 20 ms, normalised per utterance.

    Measured against the synthesizer's own phones on 30 sentences each of Festival ked, slt and the Piper
    voice, aligned from espeak-ng's en-us reading: the shipped model's open/bilabial AUC is 0.960 / 0.978 /
    0.958 with these alignments against 0.823 / 0.759 / 0.804 with `cepstra` (truth 0.946 / 0.986 / 0.945,
    pocketsphinx 0.906 / 0.952 / 0.929; docs/data.md): the encoder was trained to read phones from many
    voices, which is what a cross-speaker warp needs. Needs torch (the `train` extra)."""
    global _ENCODER
    import torch

    from talkface_ros.model.features import front_end_config, model_tokens

    if _ENCODER is None:
        from talkface_ros.model.checkpoint import load_checkpoint
        from talkface_ros.model.streamer import default_model_dir

        model = load_checkpoint(default_model_dir())[0]
        _ENCODER = (model.encoder.eval(), front_end_config(model.cfg.to_dict()))
    encoder, front_end = _ENCODER
    with torch.no_grad():
        h = encoder(torch.from_numpy(model_tokens(audio, front_end)).float()[None])[0].numpy().astype(np.float64)
    return (h - h.mean(axis=0)) / (h.std(axis=0) + 1e-6)


ENCODER_FRAME_S = 0.02


def speech_bounds_s(audio: np.ndarray, threshold_db: float = -35.0) -> tuple[float, float]:
    """(start, end) seconds of the first and last 10 ms frame within `threshold_db` of the loudest one;
    (0, 0) if silent."""
    x = np.asarray(audio, np.float64)
    n = len(x) // HOP
    if n == 0:
        return 0.0, 0.0
    energy = (x[: n * HOP].reshape(n, HOP) ** 2).mean(axis=1)
    if energy.max() <= 0:
        return 0.0, 0.0
    loud = np.flatnonzero(10 * np.log10(energy / energy.max() + 1e-12) > threshold_db)
    return float(loud[0] * FRAME_S), float((loud[-1] + 1) * FRAME_S)


def speech_span_s(audio: np.ndarray, threshold_db: float = -35.0) -> float:
    """Seconds from the first to the last loud 10 ms frame (0 if silent)."""
    start, end = speech_bounds_s(audio, threshold_db)
    return end - start
