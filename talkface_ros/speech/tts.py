"""Text -> speech audio (int16, 16 kHz mono) and, where the engine gives them, phone timings.

Engines:
- `espeak`: espeak-ng through libespeak-ng (`talkface_ros.data.espeak`): any espeak-ng voice (`en-us`,
  `de+f3`, `mb-us1` ...), phone timings from its phoneme events (exact for its own voices);
- `piper`: Piper (VITS) when the `piper-tts` package is installed: `piper_model` is a voice file (`.onnx` with
  its `.onnx.json` beside it) or the name of an installed voice package (`joe`, with phone timings through
  Piper's alignment output). Nothing is downloaded: a missing voice is an error, never a fetch.
`make_engine` picks one (`auto`: Piper when a Piper voice is configured and usable, else espeak-ng) and says
why it fell back, so a node can log a warning and keep a working voice.
"""
from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE, float_to_int16
from talkface_ros.data.phones import Phone
from talkface_ros.speech.text import split_sentences

log = logging.getLogger(__name__)

ENGINES = ("auto", "espeak", "piper")
DEFAULT_ESPEAK_VOICE = "en-us"


class TtsError(RuntimeError):
    """The engine cannot speak this (unknown voice, missing package or file, synthesis failure)."""


@dataclass(frozen=True)
class TtsConfig:
    engine: str = "auto"            # auto | espeak | piper
    voice: str = DEFAULT_ESPEAK_VOICE  # espeak-ng voice: language[+variant]
    rate_wpm: int = 175             # espeak-ng speaking rate
    pitch: int = 50                 # espeak-ng pitch 0..100
    piper_model: str = ""           # Piper voice: .onnx path or installed voice package name ('' = none)
    length_scale: float = 1.0       # Piper: > 1 speaks slower


@dataclass
class Utterance:
    """What the robot will say: the audio and, if known, when each phone sounds (seconds from sample 0)."""

    text: str
    audio: np.ndarray               # int16 [N] at 16 kHz
    phones: list[Phone] | None      # None: the engine gives no timings
    engine: str

    @property
    def duration_s(self) -> float:
        return len(self.audio) / MODEL_SAMPLE_RATE


class TtsEngine(Protocol):
    name: str

    def synth_sentence(self, sentence: str) -> tuple[np.ndarray, list[Phone] | None]:
        """One sentence -> (int16 16 kHz audio, phones or None)."""


class EspeakEngine:
    name = "espeak"

    def __init__(self, voice: str = DEFAULT_ESPEAK_VOICE, rate_wpm: int = 175, pitch: int = 50) -> None:
        from talkface_ros.data.espeak import EspeakError, EspeakSynth, EspeakVoice

        language, _, variant = voice.partition("+")
        if not language:
            raise TtsError(f"empty espeak-ng voice name {voice!r}")
        self.voice = EspeakVoice(language, variant, rate_wpm=int(rate_wpm), pitch=int(pitch))
        self._error = EspeakError
        try:
            self._synth = EspeakSynth()
            self._synth.synth("test", self.voice)  # an unknown voice fails here, at start-up, not mid-sentence
        except EspeakError as error:
            raise TtsError(str(error)) from None

    def synth_sentence(self, sentence: str) -> tuple[np.ndarray, list[Phone] | None]:
        try:
            result = self._synth.synth(sentence, self.voice)
        except self._error as error:
            raise TtsError(str(error)) from None
        return result.audio, result.phones


class PiperEngine:
    """A Piper voice file, or an installed voice package by name (with phone timings)."""

    name = "piper"

    def __init__(self, model: str, length_scale: float = 1.0) -> None:
        if importlib.util.find_spec("piper") is None:
            raise TtsError("piper-tts is not installed (pip install piper-tts)")
        from talkface_ros.data import piper_tts

        self.length_scale = float(length_scale)
        self._package_voice: str | None = None
        self._voice = None
        if model in piper_tts.PIPER_VOICE_PACKAGES:
            try:
                piper_tts.load_voice(model)
            except piper_tts.PiperError as error:
                raise TtsError(str(error)) from None
            self._package_voice = model
            return
        path = Path(model).expanduser()
        config = Path(str(path) + ".json")
        if path.suffix != ".onnx" or not path.is_file():
            raise TtsError(f"piper voice {model!r} is neither an .onnx file nor an installed voice "
                           f"({sorted(piper_tts.PIPER_VOICE_PACKAGES)})")
        if not config.is_file():
            raise TtsError(f"piper voice {path} has no {config.name} beside it")
        from piper.voice import PiperVoice

        try:
            self._voice = PiperVoice.load(str(path), config_path=str(config))
        except Exception as error:  # a broken file: onnxruntime / json errors of any kind
            raise TtsError(f"cannot load piper voice {path}: {error}") from None

    def synth_sentence(self, sentence: str) -> tuple[np.ndarray, list[Phone] | None]:
        from scipy.signal import resample_poly

        if self._package_voice is not None:
            from talkface_ros.data import piper_tts

            result = piper_tts.synth(sentence, self._package_voice, piper_tts.PiperProsody(length_scale=self.length_scale))
            if result is None:
                return np.zeros(0, np.int16), None
            return result.audio, result.phones
        from piper.config import SynthesisConfig

        pieces, rate = [], MODEL_SAMPLE_RATE
        for chunk in self._voice.synthesize(sentence, syn_config=SynthesisConfig(length_scale=self.length_scale)):
            pieces.append(np.asarray(chunk.audio_float_array, np.float32))
            rate = int(chunk.sample_rate)
        audio = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        if rate != MODEL_SAMPLE_RATE and len(audio):
            audio = resample_poly(audio, MODEL_SAMPLE_RATE, rate)
        return float_to_int16(audio), None


def make_engine(config: TtsConfig) -> tuple[TtsEngine, list[str]]:
    """The engine `config` asks for, or the best one that works: -> (engine, warnings about fallbacks).
    Raises TtsError only when not even espeak-ng with its default voice works."""
    if config.engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {config.engine!r}")
    warnings: list[str] = []
    wants_piper = config.engine == "piper" or (config.engine == "auto" and config.piper_model)
    if wants_piper:
        try:
            if not config.piper_model:
                raise TtsError("engine is piper but piper_model is empty")
            return PiperEngine(config.piper_model, config.length_scale), warnings
        except TtsError as error:
            warnings.append(f"{error}; speaking with espeak-ng instead")
    try:
        return EspeakEngine(config.voice, config.rate_wpm, config.pitch), warnings
    except TtsError as error:
        if config.voice == DEFAULT_ESPEAK_VOICE:
            raise
        warnings.append(f"{error}; speaking with espeak-ng voice {DEFAULT_ESPEAK_VOICE!r} instead")
    return EspeakEngine(DEFAULT_ESPEAK_VOICE, config.rate_wpm, config.pitch), warnings


def synthesize(engine: TtsEngine, text: str) -> Utterance:
    """Text -> one utterance, a sentence per engine call, phones shifted onto the joined audio. Empty or
    unspeakable text gives an utterance with no samples."""
    audio: list[np.ndarray] = []
    phones: list[Phone] | None = []
    offset = 0
    for sentence in split_sentences(text):
        samples, sentence_phones = engine.synth_sentence(sentence)
        samples = np.asarray(samples, np.int16).reshape(-1)
        if phones is not None and sentence_phones is not None:
            t0 = offset / MODEL_SAMPLE_RATE
            phones.extend(Phone(p.symbol, p.start + t0, p.end + t0) for p in sentence_phones)
        else:
            phones = None
        audio.append(samples)
        offset += len(samples)
    joined = np.concatenate(audio) if audio else np.zeros(0, np.int16)
    return Utterance(text=text, audio=joined, phones=phones if audio else None, engine=engine.name)
