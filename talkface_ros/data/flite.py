"""Flite (Debian) US/Scottish English speech: the clustergen voices awb, rms and slt, built from CMU ARCTIC
recordings of real speakers, and the kal16 diphone voice. Flite prints phones but no timings, so the
phones come from pocketsphinx's forced alignment of the transcript (`talkface_ros.data.sphinx_align`, the
aligner of the real eval set; 10 ms frames). Sentences with a word missing from pocketsphinx's dictionary
are skipped (the alignment would be guesswork).
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from talkface_ros.data.espeak import SynthResult

log = logging.getLogger(__name__)

FLITE_VOICES = ("awb", "rms", "slt", "kal16")


class FliteError(RuntimeError):
    pass


@dataclass(frozen=True)
class FliteVoice:
    name: str  # one of FLITE_VOICES
    duration_stretch: float = 1.0  # > 1 slower
    f0_mean: float | None = None  # Hz; None: the voice's own


def available() -> bool:
    return shutil.which("flite") is not None


def synth(text: str, voice: FliteVoice, aligner, timeout_s: float = 60.0) -> SynthResult | None:
    """-> audio (16 kHz int16) + aligned phones, or None when a word is not in the aligner's dictionary or
    the alignment fails."""
    if voice.name not in FLITE_VOICES:
        raise FliteError(f"unknown flite voice {voice.name!r}; known: {FLITE_VOICES}")
    if not available():
        raise FliteError("flite is not installed (apt-get install flite)")
    if not aligner.knows(text):
        return None
    from talkface_ros.audio.wav import load_wav_16k

    with tempfile.TemporaryDirectory(prefix="talkface-flite-") as tmp:
        wav = Path(tmp) / "out.wav"
        cmd = ["flite", "-voice", voice.name, "--setf", f"duration_stretch={voice.duration_stretch:.3f}"]
        if voice.f0_mean is not None:
            cmd += ["--setf", f"int_f0_target_mean={voice.f0_mean:.1f}"]
        proc = subprocess.run([*cmd, "-t", text, "-o", str(wav)], capture_output=True, text=True, timeout=timeout_s)
        if proc.returncode != 0 or not wav.exists():
            raise FliteError(f"flite failed ({proc.returncode}): {proc.stderr[-300:]}")
        audio = load_wav_16k(wav)
    from talkface_ros.data.sphinx_align import AlignmentError

    try:
        phones = aligner.align(audio, text)
    except AlignmentError as exc:
        log.debug("%s", exc)
        return None
    if not phones or not any(p.symbol for p in phones):
        log.debug("no alignment for %r", text)
        return None
    return SynthResult(audio=audio, phones=phones)
