"""How well do a synthesizer's phone timings match its own audio? Measured at silence boundaries.

For every boundary between silence and speech in the phone list (utterance start/end, pauses), the
audio's own boundary is found from a 5 ms energy envelope (first/last 5 ms frame above -35 dB of the
utterance peak, searched within +-150 ms). Boundaries next to stops (p b t d k g ...) are skipped: a
stop's closure is silent by nature, so there the audio says nothing about the event's accuracy.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE
from talkface_ros.data.phones import Phone

log = logging.getLogger(__name__)

_STOPS = set("pbtdkgqɡʔcɟʈɖ")
WINDOW_S = 0.005
SEARCH_S = 0.15
THRESHOLD_DB = -35.0


@dataclass(frozen=True)
class Boundary:
    time: float  # seconds, from the phone events
    onset: bool  # True: silence -> speech


def silence_boundaries(phones: list[Phone], min_pause_s: float = 0.05) -> list[Boundary]:
    out: list[Boundary] = []
    speech = [bool(p.symbol) for p in phones]
    for i, p in enumerate(phones):
        if not p.symbol:
            continue
        if p.symbol.strip()[:1] in _STOPS:
            continue
        prev_silent = i == 0 or (not speech[i - 1] and phones[i - 1].duration >= min_pause_s)
        next_silent = i == len(phones) - 1 or (not speech[i + 1] and phones[i + 1].duration >= min_pause_s)
        if prev_silent:
            out.append(Boundary(p.start, True))
        if next_silent:
            out.append(Boundary(p.end, False))
    return out


def boundary_errors(audio: np.ndarray, sample_rate: int, phones: list[Phone]) -> list[float]:
    """Absolute errors (s) between event boundaries and energy boundaries."""
    x = audio.astype(np.float64)
    hop = int(WINDOW_S * sample_rate)
    n = len(x) // hop
    if n < 4:
        return []
    energy = 10 * np.log10(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-9)
    active = energy > energy.max() + THRESHOLD_DB
    errors = []
    for b in silence_boundaries(phones):
        centre = int(b.time / WINDOW_S)
        lo, hi = max(0, centre - int(SEARCH_S / WINDOW_S)), min(n, centre + int(SEARCH_S / WINDOW_S) + 1)
        # Before the first and after the last sample counts as silence.
        padded = np.concatenate([[0], active.astype(np.int8), [0]])
        # Frame indices where the envelope switches on (onset) or off (offset), nearest to the event.
        change = np.flatnonzero(np.diff(padded[lo : hi + 2]) == (1 if b.onset else -1)) + lo
        if len(change) == 0:
            continue
        times = change * WINDOW_S
        audio_t = times[np.argmin(np.abs(times - b.time))]
        errors.append(abs(audio_t - b.time))
    return errors


def summarize(errors: list[float]) -> dict:
    if not errors:
        return {"boundaries": 0, "median_ms": None, "p90_ms": None}
    e = np.array(errors) * 1000
    return {"boundaries": int(len(e)), "median_ms": round(float(np.median(e)), 1), "p90_ms": round(float(np.percentile(e, 90)), 1)}


def check_languages(languages: list[str], sentences: int = 20, seed: int = 0) -> dict:
    """espeak-ng: per-language boundary error (median, p90) over random sentences and voices."""
    from talkface_ros.data.espeak import EspeakSynth, EspeakVoice
    from talkface_ros.data.texts import random_sentence
    from talkface_ros.data.voices import HELDOUT_LANGUAGES, TRAIN_LANGUAGES

    table = {**TRAIN_LANGUAGES, **HELDOUT_LANGUAGES}
    synth = EspeakSynth()
    report: dict = {"synth": "espeak-ng", "languages": {}}
    everything: list[float] = []
    for lang in languages:
        if lang not in table:
            raise ValueError(f"no text language for espeak voice {lang!r}")
        rng = np.random.default_rng([seed, sum(map(ord, lang))])
        errors: list[float] = []
        for _ in range(sentences):
            voice = EspeakVoice(lang, str(rng.choice(["", "m3", "f2"])), int(rng.integers(130, 220)), int(rng.integers(30, 70)))
            result = synth.synth(random_sentence(table[lang], rng), voice)
            errors += boundary_errors(result.audio, MODEL_SAMPLE_RATE, result.phones)
        report["languages"][lang] = summarize(errors)
        everything += errors
    report["all"] = summarize(everything)
    return report


def check_festival(voices: tuple[str, ...] = ("kal", "ked", "slt"), sentences: int = 20, seed: int = 0) -> dict:
    """Festival: per-voice boundary error of the `utt.save.segs` phone times against the audio."""
    from talkface_ros.data.festival import FESTIVAL_VOICES, FestivalVoice, synth_batch
    from talkface_ros.data.texts import random_sentence

    report: dict = {"synth": "festival", "voices": {}}
    everything: list[float] = []
    for name in voices:
        rng = np.random.default_rng([seed, sum(map(ord, name))])
        texts = [random_sentence(FESTIVAL_VOICES[name].language, rng) for _ in range(sentences)]
        errors: list[float] = []
        for result in synth_batch(texts, FestivalVoice(name)):
            errors += boundary_errors(result.audio, MODEL_SAMPLE_RATE, result.phones)
        report["voices"][name] = summarize(errors)
        everything += errors
    report["all"] = summarize(everything)
    return report


def check_piper(sentences: int = 20, seed: int = 0) -> dict:
    """Piper: per-voice boundary error of the phones made from its token durations (data/piper_tts.py),
    two clauses per sentence so that there are pauses inside them too."""
    from talkface_ros.data import piper_tts
    from talkface_ros.data.texts import random_sentence

    report: dict = {"synth": "piper", "voices": {}}
    everything: list[float] = []
    for name in piper_tts.installed_voices():
        rng = np.random.default_rng([seed, sum(map(ord, name))])
        errors: list[float] = []
        for _ in range(sentences):
            text = random_sentence("en", rng, max_words=8) + ", " + random_sentence("en", rng, max_words=5)
            result = piper_tts.synth(text, name, piper_tts.choose_prosody(rng))
            if result is not None:
                errors += boundary_errors(result.audio, MODEL_SAMPLE_RATE, result.phones)
        report["voices"][name] = summarize(errors)
        everything += errors
    report["all"] = summarize(everything)
    return report
