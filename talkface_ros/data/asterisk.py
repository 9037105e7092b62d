"""The Asterisk PBX's English prompts: real connected speech with transcripts.

~570 prompts read by one professional US English speaker, Allison Smith (Debian asterisk-core-sounds-en-wav,
CC-BY-SA-3.0; the transcripts come with asterisk-core-sounds-en), telephone band (8 kHz). Each prompt
belongs to one half for good (`prompt_split`, by a hash of its name): "test" prompts are the `real-prompts`
eval set and are never trained on; "train" prompts may go into a corpus.
"""
from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ASTERISK_DIR = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
ASTERISK_TRANSCRIPTS = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
_DIGITS = "zero one two three four five six seven eight nine".split()


def prompt_words(text: str) -> str | None:
    """An Asterisk prompt's transcript as the words said, or None where that is not clear: a bracketed
    description ("[ascending tones]"), a number of more than one digit (read how?). "*" is "star", "#"
    "pound" (US telephone), a single digit its name."""
    text = text.strip().lower()
    if not text or text.startswith("[") or re.search(r"\d\d", text):
        return None
    text = text.replace("*", " star ").replace("#", " pound ")
    text = re.sub(r"\d", lambda m: f" {_DIGITS[int(m.group())]} ", text)
    words = re.findall(r"[a-z']+", text)
    return " ".join(words) or None


def read_transcripts(path: Path, words_of: Callable[[str], str | None]) -> dict[str, str]:
    """An Asterisk transcript file ("stem: text" lines, gzipped; ";" comments) -> stem -> words_of(text), for
    the lines where that is not None."""
    out: dict[str, str] = {}
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if line.startswith(";") or ":" not in line:
                continue
            stem, text = line.split(":", 1)
            words = words_of(text)
            if words is not None:
                out[stem.strip()] = words
    return out


def asterisk_transcripts(path: Path = ASTERISK_TRANSCRIPTS) -> dict[str, str]:
    """stem (relative to ASTERISK_DIR, e.g. "digits/1") -> the words said, for the prompts with clear words."""
    return read_transcripts(path, prompt_words)


def prompt_split(stem: str) -> str:
    """"train" or "test", fixed per prompt name (half each, whatever else changes)."""
    return "train" if hashlib.sha256(stem.encode()).digest()[0] % 2 == 0 else "test"


@dataclass(frozen=True)
class AlignedPrompt:
    stem: str
    audio: np.ndarray  # int16, 16 kHz
    phones: list  # data.phones.Phone, from pocketsphinx


def aligned_prompts(split: str | None, directory: Path = ASTERISK_DIR, transcripts: Path = ASTERISK_TRANSCRIPTS,
                    stems: list[str] | None = None, cache_dir: Path | None = None) -> tuple[list[AlignedPrompt], dict[str, int]]:
    """The prompts of `split` ("train", "test", None for both; or just `stems`) whose words are all in the
    aligner's dictionary and that align (alignments cached on disk), and how many were left out, by why."""
    from talkface_ros.data.sphinx_align import cached_force_align, shared_aligner
    from talkface_ros.audio.wav import load_wav_16k

    said = asterisk_transcripts(transcripts)
    aligner = shared_aligner()
    chosen = [stem for stem in sorted(said) if split is None or prompt_split(stem) == split] if stems is None else stems
    out: list[AlignedPrompt] = []
    skipped = {"not in the dictionary": 0, "no audio": 0, "no alignment": 0}
    for stem in chosen:
        words = said.get(stem)
        path = directory / f"{stem}.wav"
        if words is None or not aligner.knows(words):
            skipped["not in the dictionary"] += 1
        elif not path.is_file():
            skipped["no audio"] += 1
        else:
            audio = load_wav_16k(path)
            phones = cached_force_align(audio, words, cache_dir)
            if phones:
                out.append(AlignedPrompt(stem, audio, phones))
            else:
                skipped["no alignment"] += 1
    return out, skipped


def installed(directory: Path = ASTERISK_DIR, transcripts: Path = ASTERISK_TRANSCRIPTS) -> bool:
    return directory.is_dir() and transcripts.is_file()


def make_prompt_utterances(seed: int, neutral_share: float, copy: int = 0, directory: Path = ASTERISK_DIR,
                           transcripts: Path = ASTERISK_TRANSCRIPTS, cache_dir: Path | None = None) -> list:
    """The "train" prompts as corpus utterances (teacher curves with a random emotion and style drawn per
    `copy`, so copies differ in their faces, not their audio). [] when the packages are not installed."""
    from talkface_ros.data.espeak import SynthResult
    from talkface_ros.data.synth import _finish, speaker_style

    if not installed(directory, transcripts):
        return []
    style = speaker_style(seed, "asterisk:allison", 50)
    out = []
    for prompt in aligned_prompts("train", directory, transcripts, cache_dir=cache_dir)[0]:
        rng = np.random.default_rng([seed, 77, copy, int(hashlib.sha256(prompt.stem.encode()).hexdigest()[:8], 16)])
        utt = _finish(rng, f"ast-{prompt.stem.replace('/', '_')}-{copy}", SynthResult(prompt.audio, prompt.phones), style,
                      neutral_share, language="en-us", voice="asterisk:allison", synth="asterisk", split="train")
        if utt is not None:
            out.append(utt)
    return out
