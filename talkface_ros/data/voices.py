"""The voice plan: which espeak-ng languages and variants the corpus uses, and the split of each.

Held-out languages and held-out voice variants never appear in train or val.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from talkface_ros.data.espeak import EspeakVoice

# espeak-ng voice -> wordfreq language
TRAIN_LANGUAGES: dict[str, str] = {
    "en-us": "en", "en": "en", "de": "de", "fr": "fr", "es": "es", "it": "it", "pt-br": "pt", "nl": "nl",
    "sv": "sv", "da": "da", "nb": "nb", "fi": "fi", "pl": "pl", "cs": "cs", "ru": "ru", "uk": "uk", "tr": "tr",
    "el": "el", "hu": "hu", "ro": "ro", "id": "id", "vi": "vi", "hi": "hi", "bg": "bg", "sk": "sk", "lt": "lt",
    "ms": "ms", "fa": "fa",
}
HELDOUT_LANGUAGES: dict[str, str] = {"ca": "ca", "sl": "sl", "mk": "mk"}
# espeak-ng voice variants (espeak-ng-data/voices/!v): formant/pitch/breathiness/Klatt settings.
TRAIN_VARIANTS: tuple[str, ...] = (
    "", "m1", "m2", "m3", "m4", "m5", "m6", "m8", "f1", "f2", "f3", "f5", "klatt", "klatt3", "Andy", "Annie",
    "aunty", "belinda", "benjamin", "david", "edward", "grandma", "grandpa", "iven2", "john", "linda", "max",
    "michel", "norbert", "quincy", "rob", "shelby", "steph", "travis", "victor",
)
HELDOUT_VARIANTS: tuple[str, ...] = ("m7", "f4", "Alicia", "boris", "steph2")
HELDOUT_LANG_SHARE = 0.06
HELDOUT_VOICE_SHARE = 0.06
VAL_SHARE = 0.04


@dataclass(frozen=True)
class VoiceChoice:
    voice: EspeakVoice
    text_language: str
    split: str


def choose_voice(rng: np.random.Generator) -> VoiceChoice:
    r = rng.random()
    if r < HELDOUT_LANG_SHARE:
        lang = str(rng.choice(sorted(HELDOUT_LANGUAGES)))
        text_lang, variant, split = HELDOUT_LANGUAGES[lang], str(rng.choice(TRAIN_VARIANTS)), "heldout_lang"
    else:
        lang = str(rng.choice(sorted(TRAIN_LANGUAGES)))
        text_lang = TRAIN_LANGUAGES[lang]
        if r < HELDOUT_LANG_SHARE + HELDOUT_VOICE_SHARE:
            variant, split = str(rng.choice(HELDOUT_VARIANTS)), "heldout_voice"
        else:
            variant = str(rng.choice(TRAIN_VARIANTS))
            split = "val" if rng.random() < VAL_SHARE else "train"
    voice = EspeakVoice(
        language=lang, variant=variant, rate_wpm=int(rng.integers(120, 231)), pitch=int(rng.integers(20, 81)),
        pitch_range=int(rng.integers(15, 86)),
    )
    return VoiceChoice(voice, text_lang, split)
