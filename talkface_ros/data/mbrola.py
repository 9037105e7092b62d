"""MBROLA voices: diphone databases cut from recordings of real people, spoken through espeak-ng.

Each is one speaker (Debian non-free `mbrola-<name>`, installed by `tools/install_system_deps.sh`), so
every voice here is another real vocal tract in the corpus, which espeak-ng's formant variants are not.
espeak-ng makes the phones and their timings in the voice's language; `EspeakSynth` renders them through
the voice (`mb-<name>`). All are training voices: the held-out voices stay espeak's variants and
Festival's ked, so the held-out numbers keep meaning what they meant.

Licence: the MBROLA databases are free for non-commercial, non-military use with the MBROLA program only.
They are used here only to synthesise training audio, and only when asked: `--mbrola-share 0.25` (default 0).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from talkface_ros.data.espeak import EspeakVoice

MBROLA_DIRS = (Path("/usr/share/mbrola"), Path("/usr/share/mbrola/voices"))


@dataclass(frozen=True)
class MbrolaVoice:
    name: str  # the database, e.g. "us1"
    language: str  # espeak-ng's language name in the manifest, e.g. "en-us"
    text_language: str  # wordfreq's


def _voices(spec: str) -> dict[str, MbrolaVoice]:
    out = {}
    for item in spec.split():
        name, language, text_language = item.split(":")
        out[name] = MbrolaVoice(name, language, text_language)
    return out


# Voices whose language the corpus trains on (none of the held-out languages ca, sl, mk or their close
# neighbours: no Croatian), and not es3, mx2, it4, in2, which lacked diphones for nearly every
# sentence tried. Each English voice is drawn twice as often as any other voice: the real eval set is English.
MBROLA_VOICES: dict[str, MbrolaVoice] = _voices(
    "us1:en-us:en us2:en-us:en us3:en-us:en en1:en:en "
    "de1:de:de de2:de:de de4:de:de de5:de:de de6:de:de de7:de:de "
    "fr1:fr:fr fr2:fr:fr fr4:fr:fr fr6:fr:fr es1:es:es es2:es:es "
    "it3:it:it br1:pt-br:pt br3:pt-br:pt br4:pt-br:pt pt1:pt:pt "
    "nl2:nl:nl nl3:nl:nl sw1:sv:sv sw2:sv:sv pl1:pl:pl cz2:cs:cs hu1:hu:hu "
    "tr1:tr:tr tr2:tr:tr gr2:el:el ro1:ro:ro id1:id:id in1:hi:hi ir1:fa:fa"
)
ENGLISH_WEIGHT = 2.0


def voice_installed(name: str) -> bool:
    return any((d / name / name).is_file() for d in MBROLA_DIRS)


def installed_voices() -> tuple[str, ...]:
    return tuple(name for name in MBROLA_VOICES if voice_installed(name))


def debian_packages() -> list[str]:
    return ["mbrola"] + [f"mbrola-{name}" for name in MBROLA_VOICES]


def choose(rng: np.random.Generator, names: tuple[str, ...]) -> tuple[MbrolaVoice, EspeakVoice]:
    """A voice (English weighted up) and random prosody for one sentence."""
    weights = np.array([ENGLISH_WEIGHT if MBROLA_VOICES[n].text_language == "en" else 1.0 for n in names])
    voice = MBROLA_VOICES[str(rng.choice(list(names), p=weights / weights.sum()))]
    prosody = EspeakVoice(language=f"mb-{voice.name}", rate_wpm=int(rng.integers(130, 211)),
                          pitch=int(rng.integers(30, 71)), pitch_range=int(rng.integers(20, 81)))
    return voice, prosody
