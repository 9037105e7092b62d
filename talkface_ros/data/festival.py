"""Festival (Debian) speech with phone timings: diphone (kal, ked) and HTS (slt) US-English voices,
built from recordings of real people. One festival process synthesises a batch of sentences; for each,
`utt.save.wave` writes the audio and `utt.save.segs` the phone end times (ARPAbet-like "radio" phones).
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


from talkface_ros.data.espeak import SynthResult
from talkface_ros.data.phones import ARPABET_IPA, Phone

log = logging.getLogger(__name__)

FESTIVAL_VOICES: dict[str, str] = {"kal": "voice_kal_diphone", "ked": "voice_ked_diphone", "slt": "voice_cmu_us_slt_arctic_hts"}


class FestivalError(RuntimeError):
    pass


@dataclass(frozen=True)
class FestivalVoice:
    name: str  # key of FESTIVAL_VOICES
    duration_stretch: float = 1.0  # > 1 slower


def available() -> bool:
    return shutil.which("festival") is not None


def parse_segs(text: str) -> list[Phone]:
    """`utt.save.segs` output ('#' then 'END_TIME 100 PHONE' lines) -> contiguous IPA phones."""
    phones: list[Phone] = []
    start = 0.0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or line.startswith("#"):
            continue
        end, name = float(parts[0]), parts[2].upper()
        if name not in ARPABET_IPA:
            log.debug("festival phone %s not mapped", name)
        if end > start:
            phones.append(Phone(ARPABET_IPA.get(name, ""), start, end))
        start = end
    return phones


def _escape(text: str) -> str:
    return text.replace("\\", " ").replace('"', " ")


def synth_batch(texts: list[str], voice: FestivalVoice, timeout_s: float = 120.0) -> list[SynthResult]:
    """Synthesise sentences with one festival process. Audio resampled to 16 kHz int16."""
    if voice.name not in FESTIVAL_VOICES:
        raise FestivalError(f"unknown festival voice {voice.name!r}; known: {sorted(FESTIVAL_VOICES)}")
    if not available():
        raise FestivalError("festival is not installed (apt-get install festival festvox-kallpc16k ...)")
    from talkface_ros.eval.real_set import load_wav_16k

    with tempfile.TemporaryDirectory(prefix="talkface-festival-") as tmp:
        lines = [f"({FESTIVAL_VOICES[voice.name]})", f"(Parameter.set 'Duration_Stretch {voice.duration_stretch:.3f})"]
        for i, text in enumerate(texts):
            lines.append(f'(set! utt (utt.synth (Utterance Text "{_escape(text)}")))')
            lines.append(f'(utt.save.wave utt "{tmp}/{i}.wav" \'riff)')
            lines.append(f'(utt.save.segs utt "{tmp}/{i}.segs")')
        script = Path(tmp) / "batch.scm"
        script.write_text("\n".join(lines) + "\n", encoding="utf-8")
        proc = subprocess.run(["festival", "-b", str(script)], capture_output=True, text=True, timeout=timeout_s)
        results = []
        for i in range(len(texts)):
            wav, segs = Path(tmp) / f"{i}.wav", Path(tmp) / f"{i}.segs"
            if not wav.exists() or not segs.exists():
                raise FestivalError(f"festival made no output for sentence {i}: {proc.stderr[-500:]}")
            audio = load_wav_16k(wav)
            phones = parse_segs(segs.read_text(encoding="utf-8", errors="replace"))
            end = len(audio) / 16000
            if phones and phones[-1].end < end:
                phones.append(Phone("", phones[-1].end, end))
            results.append(SynthResult(audio=audio, phones=[p for p in phones if p.start < end]))
    return results
