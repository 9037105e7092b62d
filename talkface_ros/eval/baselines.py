"""Baselines behind the streaming interface every system shares (contract C):
`push(pcm int16 [N]) -> float32 [n_new_frames, 55]`, `reset()`.

A frame is emitted once its 320 samples (20 ms) have arrived; frame t covers samples [t*320, (t+1)*320).
- EnergyJaw: RMS level -> jawOpen with attack/release smoothing (what most animatronics do).
- MfccTemplates: uLipSync-style; MFCCs of the last 32 ms matched against vowel templates (A E I O U,
  calibrated on espeak-ng vowels), the match weights blend the viseme poses, scaled by loudness.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.fft import dct

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE as SAMPLE_RATE
from talkface_ros.face.arkit import FRAME_SIZE, INDEX, NUM_BLENDSHAPES
from talkface_ros.face.visemes import VISEME_INDEX, VISEME_POSES

HOP = 320


class _Framer:
    """Buffers PCM and hands out whole 320-sample hops together with a trailing analysis window."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.reset()

    def reset(self) -> None:
        self.history = np.zeros(self.window, np.float32)
        self.pending = np.zeros(0, np.float32)

    def push(self, pcm: np.ndarray) -> list[np.ndarray]:
        pcm = np.asarray(pcm)
        if pcm.ndim != 1:
            raise ValueError(f"pcm must be 1-D, got shape {pcm.shape}")
        x = pcm.astype(np.float32) / 32768.0 if pcm.dtype == np.int16 else pcm.astype(np.float32)
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
        self.pending = np.concatenate([self.pending, x])
        windows = []
        while len(self.pending) >= HOP:
            hop, self.pending = self.pending[:HOP], self.pending[HOP:]
            self.history = np.concatenate([self.history[HOP:], hop]) if self.window > HOP else hop[-self.window :]
            windows.append(self.history.copy())
        return windows


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-10))


@dataclass(frozen=True)
class EnergyConfig:
    floor_db: float = -50.0  # silence
    ceil_db: float = -18.0  # fully open
    max_jaw: float = 0.7
    attack: float = 0.6  # per-frame smoothing toward a larger value
    release: float = 0.3


class EnergyJaw:
    def __init__(self, config: EnergyConfig = EnergyConfig()) -> None:
        self.config = config
        self._framer = _Framer(HOP)
        self._jaw = 0.0

    def reset(self) -> None:
        self._framer.reset()
        self._jaw = 0.0

    def push(self, pcm: np.ndarray) -> np.ndarray:
        c = self.config
        out = []
        for window in self._framer.push(pcm):
            level = np.clip((_db(window) - c.floor_db) / (c.ceil_db - c.floor_db), 0.0, 1.0) * c.max_jaw
            rate = c.attack if level > self._jaw else c.release
            self._jaw += rate * (level - self._jaw)
            frame = np.zeros(FRAME_SIZE, np.float32)
            frame[INDEX["jawOpen"]] = self._jaw
            out.append(frame)
        return np.array(out, np.float32).reshape(-1, FRAME_SIZE)


def mel_filterbank(num_filters: int = 26, n_fft: int = 512, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    mel = lambda f: 2595 * np.log10(1 + f / 700.0)  # noqa: E731
    inv = lambda m: 700 * (10 ** (m / 2595.0) - 1)  # noqa: E731
    points = inv(np.linspace(mel(60.0), mel(sample_rate / 2), num_filters + 2))
    bins = np.floor((n_fft + 1) * points / sample_rate).astype(int)
    bank = np.zeros((num_filters, n_fft // 2 + 1))
    for i in range(num_filters):
        a, b, c = bins[i], bins[i + 1], max(bins[i + 2], bins[i + 1] + 1)
        bank[i, a:b] = (np.arange(a, b) - a) / max(b - a, 1)
        bank[i, b:c] = (c - np.arange(b, c)) / max(c - b, 1)
    return bank


_BANK = mel_filterbank()
_WINDOW = np.hanning(512)


def mfcc(window: np.ndarray, num_coefs: int = 12) -> np.ndarray:
    """One 512-sample window -> MFCC 1..num_coefs (c0 dropped: loudness is handled separately)."""
    x = np.append(window[0], window[1:] - 0.97 * window[:-1]) * _WINDOW
    power = np.abs(np.fft.rfft(x, 512)) ** 2
    logmel = np.log(_BANK @ power + 1e-10)
    return dct(logmel, type=2, norm="ortho")[1 : num_coefs + 1]


VOWEL_VISEMES = ("aa", "E", "ih", "oh", "ou")


@dataclass
class MfccTemplatesConfig:
    floor_db: float = -50.0
    ceil_db: float = -20.0
    temperature: float = 0.6  # softmax over negative normalised distances
    smoothing: float = 0.5


class MfccTemplates:
    """uLipSync-style matcher. Templates: dict viseme name -> (mean MFCC, std MFCC)."""

    def __init__(self, templates: dict[str, np.ndarray] | None = None, config: MfccTemplatesConfig | None = None) -> None:
        self.config = config or MfccTemplatesConfig()
        self.templates = templates if templates is not None else calibrate_vowel_templates()
        names = [n for n in VOWEL_VISEMES if n in self.templates]
        if not names:
            raise ValueError("no vowel templates")
        self._names = names
        self._means = np.stack([self.templates[n] for n in names])
        self._poses = VISEME_POSES[[VISEME_INDEX[n] for n in names]]
        self._framer = _Framer(512)
        self._state = np.zeros(NUM_BLENDSHAPES, np.float32)

    def reset(self) -> None:
        self._framer.reset()
        self._state[:] = 0

    def push(self, pcm: np.ndarray) -> np.ndarray:
        c = self.config
        out = []
        for window in self._framer.push(pcm):
            volume = float(np.clip((_db(window[-HOP:]) - c.floor_db) / (c.ceil_db - c.floor_db), 0.0, 1.0))
            coefs = mfcc(window)
            dist = np.linalg.norm(self._means - coefs[None, :], axis=1)
            dist = dist / max(float(dist.mean()), 1e-6)
            weights = np.exp(-(dist - dist.min()) / c.temperature)
            weights /= weights.sum()
            target = volume * (weights @ self._poses)
            self._state += c.smoothing * (target - self._state)
            frame = np.zeros(FRAME_SIZE, np.float32)
            frame[:NUM_BLENDSHAPES] = np.clip(self._state, 0, 1)
            out.append(frame)
        return np.array(out, np.float32).reshape(-1, FRAME_SIZE)


def calibrate_vowel_templates(voices: tuple[str, ...] = ("en-us", "en-us+f2", "de", "es+m3", "it+f3")) -> dict[str, np.ndarray]:
    """Mean MFCC of the middle of espeak-ng vowels (by viseme) over a few words and voices."""
    from talkface_ros.data.espeak import EspeakSynth, EspeakVoice
    from talkface_ros.face.visemes import ipa_viseme, vowel_letters

    texts = {"en": "father bed sheep boat blue car ten see go moon", "de": "Vater Bett Biene Boot Blut Mann See", "es": "casa mesa piso todo luna mano peso"}
    synth = EspeakSynth()
    collected: dict[str, list[np.ndarray]] = {n: [] for n in VOWEL_VISEMES}
    for name in voices:
        lang, _, variant = name.partition("+")
        text = texts.get(lang.split("-")[0], texts["en"])
        result = synth.synth(text, EspeakVoice(lang, variant))
        x = result.audio.astype(np.float32) / 32768.0
        for phone in result.phones:
            vowels = vowel_letters(phone.symbol)
            if len(vowels) != 1 or phone.duration < 0.05:
                continue
            viseme = [k for k, v in VISEME_INDEX.items() if v == ipa_viseme(phone.symbol)][0]
            if viseme not in collected:
                continue
            centre = int((phone.start + phone.end) / 2 * SAMPLE_RATE)
            if centre - 256 >= 0 and centre + 256 <= len(x):
                collected[viseme].append(mfcc(x[centre - 256 : centre + 256]))
    return {name: np.mean(vecs, axis=0) for name, vecs in collected.items() if vecs}
