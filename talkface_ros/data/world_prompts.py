"""The Asterisk PBX's prompts in Spanish, French, Italian and Russian: more real speakers, with transcripts.

Debian's asterisk-core-sounds-{es,fr,it,ru}-wav (CC-BY-SA-3.0, like the English ones), transcripts in
asterisk-core-sounds-{es,fr,it,ru}. Three speakers the corpus has no other recording of (June, Canadian
French, female; Carlo, Italian, male; the Russian "IvrvoiceRU", female) and Allison's Spanish. Telephone band
(8 kHz). pocketsphinx has no model for these languages, so the phones are espeak-ng's reading of the
transcript carried onto the recording by DTW (`dtw_align`). Training speech only: no eval set is made of
them (the eval sets are English).
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE
from talkface_ros.data.alignment_cache import alignment_cache_dir, cached_phones
from talkface_ros.data.asterisk import AlignedPrompt, read_transcripts
from talkface_ros.data.phones import Phone

log = logging.getLogger(__name__)

SOUNDS_DIR = Path("/usr/share/asterisk/sounds")
DOC_DIR = Path("/usr/share/doc")
ALIGNER_VERSION = "espeak-dtw-encoder-2"  # part of the cache key: change it when the alignment changes
MAX_SECONDS = 6.0  # the corpus's longest sentence (espeak.MAX_SENTENCE_S): longer prompts are not aligned


@dataclass(frozen=True)
class PromptVoice:
    name: str  # the corpus's voice name
    directory: str  # under SOUNDS_DIR
    package: str  # the Debian package with the transcripts (core-sounds-XX.txt.gz)
    espeak_language: str  # the reference reading


PROMPT_VOICES: tuple[PromptVoice, ...] = (
    PromptVoice("asterisk:june-fr", "fr_CA_f_June", "asterisk-core-sounds-fr", "fr"),
    PromptVoice("asterisk:carlo-it", "it_IT_m_Carlo", "asterisk-core-sounds-it", "it"),
    PromptVoice("asterisk:ivrvoice-ru", "ru_RU_f_IvrvoiceRU", "asterisk-core-sounds-ru", "ru"),
    PromptVoice("asterisk:allison-es", "es_MX_f_Allison", "asterisk-core-sounds-es", "es-419"),
)


def debian_packages() -> list[str]:
    return sorted(p for v in PROMPT_VOICES for p in (v.package, v.package + "-wav"))


def transcripts_path(voice: PromptVoice) -> Path:
    return DOC_DIR / voice.package / f"core-sounds-{voice.package.rsplit('-', 1)[-1]}.txt.gz"


def installed(voice: PromptVoice) -> bool:
    return (SOUNDS_DIR / voice.directory).is_dir() and transcripts_path(voice).is_file()


def spoken_text(text: str) -> str | None:
    """A transcript line as what is said: bracketed descriptions ("[ascending tones]") and parenthesised glosses
    ("(You are now muted.)") removed; None when nothing with letters is left. Digits stay: espeak-ng reads them
    in the voice's language."""
    text = re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", text)
    text = re.sub(r"\s+", " ", text.replace("...", " ").replace("…", " ")).strip(" .,;:")
    return text if re.search(r"[^\W\d_]", text) else None


def _align(audio: np.ndarray, text: str, language: str) -> list[Phone] | None:
    from talkface_ros.data.clip_fit import read_along

    fit = read_along(audio, text, language)
    return None if fit is None else fit.phones


def cached_align(audio: np.ndarray, text: str, language: str, cache_dir: Path | None = None) -> list[Phone] | None:
    key = hashlib.sha256(np.ascontiguousarray(audio, np.int16).tobytes()
                         + f"\0{text}\0{language}\0{ALIGNER_VERSION}".encode()).hexdigest()

    def align() -> list[Phone] | None:
        try:
            return _align(audio, text, language)
        except ValueError as error:
            log.debug("%s: %s", text, error)
            return None

    return cached_phones((cache_dir or alignment_cache_dir()) / f"dtw-{key[:40]}.json", align)


def aligned_prompts(voice: PromptVoice, cache_dir: Path | None = None,
                    stems: list[str] | None = None) -> tuple[list[AlignedPrompt], dict[str, int]]:
    """A voice's prompts (all, or just `stems`) up to MAX_SECONDS, aligned, and how many were left out, by why."""
    from talkface_ros.audio.wav import load_wav_16k

    directory = SOUNDS_DIR / voice.directory
    out: list[AlignedPrompt] = []
    skipped = {"no audio": 0, "too long": 0, "no alignment": 0}
    said = read_transcripts(transcripts_path(voice), spoken_text)
    for stem, text in sorted(said.items()) if stems is None else [(s, said[s]) for s in stems if s in said]:
        path = directory / f"{stem}.wav"
        if not path.is_file():
            skipped["no audio"] += 1
            continue
        audio = load_wav_16k(path)
        if len(audio) > MAX_SECONDS * MODEL_SAMPLE_RATE:
            skipped["too long"] += 1
            continue
        phones = cached_align(audio, text, voice.espeak_language, cache_dir)
        if phones:
            out.append(AlignedPrompt(stem, audio, phones))
        else:
            skipped["no alignment"] += 1
    return out, skipped


def make_world_prompt_utterances(seed: int, neutral_share: float, copy: int = 0, cache_dir: Path | None = None,
                                 voices: tuple[PromptVoice, ...] = PROMPT_VOICES, stems: list[str] | None = None) -> list:
    """The installed voices' prompts (all, or just `stems`) as corpus utterances (the teacher's faces drawn per
    `copy`, so copies differ in their faces, not their audio). [] when none is installed."""
    from talkface_ros.data.espeak import SynthResult
    from talkface_ros.data.synth import _finish, speaker_style

    out = []
    for voice in voices:
        if not installed(voice):
            log.info("%s: not installed (%s, %s-wav)", voice.name, voice.package, voice.package)
            continue
        style = speaker_style(seed, voice.name, 50)
        prompts, skipped = aligned_prompts(voice, cache_dir, stems)
        log.info("%s: %d prompts (left out: %s)", voice.name, len(prompts), skipped)
        for prompt in prompts:
            rng = np.random.default_rng([seed, 78, copy, int(hashlib.sha256((voice.name + prompt.stem).encode()).hexdigest()[:8], 16)])
            uid = f"wp-{voice.name.split(':')[1]}-{prompt.stem.replace('/', '_')}-{copy}"
            utt = _finish(rng, uid, SynthResult(prompt.audio, prompt.phones), style, neutral_share,
                          language=voice.espeak_language, voice=voice.name, synth="asterisk", split="train")
            if utt is not None:
                out.append(utt)
    return out
