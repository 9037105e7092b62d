"""Real recordings with a transcript, in any language: load, check the text fits, align.

A source (`tuxpaint`, `fillets`) finds its clips (`RealClip`: file, text, espeak-ng language, speaker); this
module turns them into phones on the recording's time. Every clip's fit is judged the same way
(`clip_fit.misfit`, espeak-ng's reading warped onto it); the phones are then pocketsphinx's for English (its
model is English only, and its dictionary must know every word) and the warped reading's for the rest.
"""
from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from talkface_ros.data.clip_fit import FitConfig, cached_read_along, length_misfit, misfit, seconds_of
from talkface_ros.data.phones import Phone

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RealClip:
    id: str  # unique within its source, stable across machines
    path: Path
    text: str  # what is said, as the source writes it
    language: str  # espeak-ng language of the reading ("fr", "pt-br", "en-gb", ...)
    speaker: str  # the source's speaker (or its stated proxy for one)


@dataclass(frozen=True)
class AlignedClip:
    clip: RealClip
    audio: np.ndarray  # int16, 16 kHz
    phones: list[Phone]


def is_english(language: str) -> bool:
    return language == "en" or language.startswith("en-")


def align_clip(clip: RealClip, config: FitConfig = FitConfig(), cache_dir: Path | None = None) -> AlignedClip | str:
    """The clip aligned, or the reason it is left out."""
    from talkface_ros.audio.wav import load_wav_16k

    try:
        audio = load_wav_16k(clip.path)
    except (RuntimeError, OSError) as error:  # soundfile's LibsndfileError is a RuntimeError
        log.debug("%s: %s", clip.path, error)
        return "unreadable audio"
    reason = length_misfit(seconds_of(audio), config)
    if reason:
        return reason
    fit = cached_read_along(audio, clip.text, clip.language, cache_dir)
    reason = misfit(fit, config)
    if reason:
        return reason
    if not is_english(clip.language):
        return AlignedClip(clip, audio, fit.phones)
    from talkface_ros.data.sphinx_align import cached_force_align, shared_aligner, words_of

    words = " ".join(words_of(clip.text))
    if not shared_aligner().knows(words):
        return "not in the dictionary"
    phones = cached_force_align(audio, words, cache_dir)
    return AlignedClip(clip, audio, phones) if phones else "no alignment"


def clip_order(clip: RealClip) -> str:
    """A fixed, well-mixed order (a hash of the id), so that a capped set is a fair sample of a speaker."""
    return hashlib.sha256(clip.id.encode()).hexdigest()


def align_clips(clips: Iterable[RealClip], max_per_speaker: int | None = None, config: FitConfig = FitConfig(),
                cache_dir: Path | None = None) -> tuple[list[AlignedClip], Counter]:
    """The clips that fit, aligned (at most `max_per_speaker` per speaker, taken in `clip_order`), and how many
    were left out, by why. Returned in clip_order."""
    aligned: list[AlignedClip] = []
    dropped: Counter = Counter()
    per_speaker: Counter = Counter()
    for clip in sorted(clips, key=clip_order):
        if max_per_speaker is not None and per_speaker[clip.speaker] >= max_per_speaker:
            continue
        result = align_clip(clip, config, cache_dir)
        if isinstance(result, str):
            dropped[result] += 1
        else:
            aligned.append(result)
            per_speaker[clip.speaker] += 1
    return aligned, dropped
