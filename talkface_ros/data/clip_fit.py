"""Does a transcript fit its recording? espeak-ng reads it, the reading is warped onto the recording, and two
measures say how well they agree.

Real clips collected by games and paint programs are not always what their text files say: a translation is
edited after the recording was made, or a file holds another stamp's words. Such a clip would teach (or
score) the model with phones that were never said. `read_along` aligns a clip the way `world_prompts` does
(espeak-ng's reading at the speaker's pace, DTW on the shipped encoder's features, `dtw_align`) and keeps two
measures: the pace (the recording's speech span over the reading's at 150 wpm: a text that lost or gained a
sentence moves it far from 1) and the warp's mean feature distance (what is said differs from the text).
`misfit` turns them into a reason to leave a clip out, or None.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE
from talkface_ros.data.alignment_cache import alignment_cache_dir, cached_json, phones_from_json, phones_to_json
from talkface_ros.data.phones import Phone

log = logging.getLogger(__name__)

READ_ALONG_VERSION = "read-along-1"  # part of the cache key: change it when read_along changes
REFERENCE_WPM = 150


@dataclass(frozen=True)
class ReadAlong:
    phones: list[Phone]  # espeak-ng's phones on the recording's time
    pace: float  # the recording's speech span / the reading's at REFERENCE_WPM
    cost: float  # mean encoder-feature distance along the warp path


@dataclass(frozen=True)
class FitConfig:
    """Measured on 436 Tux Paint and Fish Fillets clips (30 per speaker) with their own text and with another
    clip's text of the same speaker (docs/data.md): these limits keep 92 % of the first (no warp included)
    and drop 31 % of the second. The two measures only catch texts that are grossly wrong; both also spread
    widely for one-word clips."""

    min_seconds: float = 0.4
    max_seconds: float = 15.0  # longer clips make a large warp matrix and are mostly several sentences
    min_pace: float = 0.4  # the speaker at most 2.5x faster than espeak-ng at 150 wpm ...
    max_pace: float = 3.0  # ... and at most 3x slower (children, careful one-word readings)
    max_cost: float = 14.5  # the 96th percentile of clips with their own text, the 86th with another's


def read_along(audio: np.ndarray, text: str, language: str) -> ReadAlong | None:
    """espeak-ng's reading of `text` in `language` (at the speaker's pace) warped onto `audio` (int16 16 kHz).
    None when either side has under 0.2 s of speech or espeak gives no phones; ValueError when no warp fits
    (the tempo limit of dtw_align.dtw_path)."""
    from talkface_ros.data import dtw_align
    from talkface_ros.data.espeak import EspeakVoice
    from talkface_ros.data.synth import _synth

    reference = _synth().synth(text, EspeakVoice(language, "", REFERENCE_WPM, 50))
    real_span, reference_span = dtw_align.speech_span_s(audio), dtw_align.speech_span_s(reference.audio)
    if not reference.phones or reference_span < 0.2 or real_span < 0.2:
        return None
    # read at the speaker's pace, so that the warp only has to follow local tempo changes
    rate = int(np.clip(round(REFERENCE_WPM * reference_span / real_span), 80, 400))
    reference = _synth().synth(text, EspeakVoice(language, "", rate, 50))
    phones, cost = dtw_align.align_to_reference_scored(audio, reference.audio, reference.phones,
                                                       features=dtw_align.encoder_features, frame_s=dtw_align.ENCODER_FRAME_S)
    return ReadAlong(phones, real_span / reference_span, cost)


def cached_read_along(audio: np.ndarray, text: str, language: str, cache_dir: Path | None = None) -> ReadAlong | None:
    """`read_along` through the alignment cache (keyed by the audio's bytes, text, language and version); a
    clip that cannot be warped is None, cached too."""
    key = hashlib.sha256(np.ascontiguousarray(audio, np.int16).tobytes()
                         + f"\0{text}\0{language}\0{READ_ALONG_VERSION}".encode()).hexdigest()

    def compute() -> dict | None:
        try:
            fit = read_along(audio, text, language)
        except ValueError as error:
            log.debug("%s: %s", text, error)
            return None
        return None if fit is None else {"phones": phones_to_json(fit.phones), "pace": fit.pace, "cost": fit.cost}

    stored = cached_json((cache_dir or alignment_cache_dir()) / f"fit-{key[:40]}.json", compute)
    return None if stored is None else ReadAlong(phones_from_json(stored["phones"]), stored["pace"], stored["cost"])


def length_misfit(seconds: float, config: FitConfig = FitConfig()) -> str | None:
    """Why a clip of this length is not aligned, or None."""
    if seconds < config.min_seconds:
        return "too short"
    if seconds > config.max_seconds:
        return "too long"
    return None


def misfit(fit: ReadAlong | None, config: FitConfig = FitConfig()) -> str | None:
    """Why the text does not fit the recording (a short reason, for counting), or None when it does."""
    if fit is None:
        return "no warp"
    if fit.pace < config.min_pace:
        return "text too long for the audio"
    if fit.pace > config.max_pace:
        return "text too short for the audio"
    if fit.cost > config.max_cost:
        return "audio unlike the text"
    return None


def seconds_of(audio: np.ndarray) -> float:
    return len(audio) / MODEL_SAMPLE_RATE
