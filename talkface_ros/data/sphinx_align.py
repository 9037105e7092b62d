"""Forced phone alignment with pocketsphinx's bundled US-English model: a transcript and its audio ->
contiguous IPA phones (10 ms resolution). Used for real recordings (the real eval set) and for synthetic
voices that give no timings (flite)."""
from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE
from talkface_ros.data.alignment_cache import alignment_cache_dir, cached_phones
from talkface_ros.data.phones import ARPABET_IPA, Phone

log = logging.getLogger(__name__)


def words_of(transcript: str) -> list[str]:
    return re.findall(r"[a-z']+", transcript.lower())


class AlignmentError(RuntimeError):
    pass


class SphinxAligner:
    """pocketsphinx forced alignment. Every alignment gets a fresh decoder (~0.4 s to load): a reused one
    carries state from the utterances it decoded before (its alignments moved by 10 ms with what came
    before), and an alignment must depend on its own audio alone. One decoder answers dictionary lookups."""

    def __init__(self) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:
            raise RuntimeError("forced alignment needs pocketsphinx: pip install pocketsphinx") from exc
        self._new_decoder = lambda: Decoder(samprate=MODEL_SAMPLE_RATE, loglevel="ERROR", cmn="batch")
        self.lexicon = self._new_decoder()

    def knows(self, transcript: str) -> bool:
        words = words_of(transcript)
        return bool(words) and all(self.lexicon.lookup_word(w) is not None for w in words)

    def align(self, audio: np.ndarray, transcript: str) -> list[Phone]:
        """int16 16 kHz audio + its transcript -> IPA phones, silence = "", covering the whole audio."""
        decoder = self._new_decoder()
        decoder.set_align_text(" ".join(words_of(transcript)))
        raw = audio.astype(np.int16).tobytes()
        try:
            decoder.start_utt(); decoder.process_raw(raw, full_utt=True); decoder.end_utt()  # noqa: E702
            decoder.set_alignment()
            decoder.start_utt(); decoder.process_raw(raw, full_utt=True); decoder.end_utt()  # noqa: E702
        except RuntimeError as exc:  # pocketsphinx: "Failed to stop utterance processing"
            raise AlignmentError(f"no alignment of {transcript!r}: {exc}") from None
        phones = []
        for word in decoder.get_alignment():
            for phone in word:
                name = phone.name.upper()
                if name not in ARPABET_IPA:
                    log.warning("unknown ARPAbet phone %s", name)
                phones.append(Phone(ARPABET_IPA.get(name, ""), phone.start / 100.0,
                                    (phone.start + phone.duration) / 100.0))
        end = len(audio) / MODEL_SAMPLE_RATE
        if phones and phones[-1].end < end:
            phones.append(Phone("", phones[-1].end, end))
        return trim_leading_silence(phones, audio)


_SHARED: SphinxAligner | None = None


def shared_aligner() -> SphinxAligner:
    """One aligner per process (its lexicon decoder takes ~0.4 s to load). RuntimeError without pocketsphinx."""
    global _SHARED
    if _SHARED is None:
        _SHARED = SphinxAligner()
    return _SHARED


def trim_leading_silence(phones: list[Phone], audio: np.ndarray, threshold_db: float = -35.0) -> list[Phone]:
    """pocketsphinx's alignment mode puts no silence before the first word, so the first phone absorbs the
    leading silence: start it at the audio onset (first 5 ms above threshold_db of the peak) instead."""
    if not phones or not phones[0].symbol or len(audio) < 80:
        return phones
    x = audio.astype(np.float64)
    n = len(x) // 80
    energy = 10 * np.log10(np.mean(x[: n * 80].reshape(n, 80) ** 2, axis=1) + 1e-9)
    active = np.flatnonzero(energy > energy.max() + threshold_db)
    if len(active) == 0:
        return phones
    onset = float(active[0] * 80 / MODEL_SAMPLE_RATE)
    first = phones[0]
    if onset - first.start > 0.01 and onset < first.end - 0.02:
        return [Phone("", first.start, onset), Phone(first.symbol, onset, first.end), *phones[1:]]
    return phones


def cached_force_align(audio: np.ndarray, transcript: str, cache_dir: Path | None = None) -> list[Phone] | None:
    """`shared_aligner().align` through an on-disk cache keyed by the audio's bytes and the transcript; None where
    pocketsphinx finds no alignment (cached too). The cache is only an optimisation: delete it at will."""
    key = hashlib.sha256(np.ascontiguousarray(audio, np.int16).tobytes() + b"\0" + transcript.encode()).hexdigest()

    def align() -> list[Phone] | None:
        try:
            return shared_aligner().align(audio, transcript)
        except AlignmentError as error:
            log.debug("%s", error)
            return None

    return cached_phones((cache_dir or alignment_cache_dir()) / f"{key[:40]}.json", align)
