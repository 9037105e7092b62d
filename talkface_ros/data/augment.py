"""Audio augmentation so models trained on synthetic speech transfer to real microphones and rooms.

`augment(audio_f32, rng) -> audio_f32` (16 kHz mono, [-1, 1]) applies a random chain: small speed change,
band limits (telephone / cheap mic), synthetic-RIR reverberation, additive noise at a random SNR, gain,
and a resampling round trip. Length is preserved (speed changes are cropped/padded) so frame labels stay
aligned. The speed change shifts phones against the labels (3 % of a 6 s sentence is 180 ms at the end),
so it is off by default (p_speed = 0); turn it on only where labels are not frame-exact.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE as SAMPLE_RATE



@dataclass(frozen=True)
class AugmentConfig:
    p_speed: float = 0.0  # off by default: it shifts phone timing against the labels
    max_speed_change: float = 0.03
    p_band: float = 0.4
    p_reverb: float = 0.4
    p_noise: float = 0.6
    snr_db: tuple[float, float] = (5.0, 35.0)
    gain_db: tuple[float, float] = (-18.0, 6.0)
    p_resample: float = 0.3
    rt60_s: tuple[float, float] = (0.15, 0.7)


def synthetic_rir(rng: np.random.Generator, rt60: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Exponentially decaying noise tail (decay 60 dB over rt60) after a direct path and early echoes."""
    length = int(rt60 * sample_rate)
    t = np.arange(length) / sample_rate
    tail = rng.standard_normal(length) * np.exp(-6.9 * t / rt60)
    tail[: int(0.003 * sample_rate)] = 0.0
    rir = 0.4 * tail / max(np.abs(tail).max(), 1e-9)
    rir[0] = 1.0
    for _ in range(4):
        rir[int(rng.uniform(0.003, 0.03) * sample_rate)] += float(rng.uniform(0.2, 0.6))
    return (rir / np.sqrt(np.sum(rir**2))).astype(np.float32)


def _fit_length(x: np.ndarray, n: int) -> np.ndarray:
    return x[:n] if len(x) >= n else np.pad(x, (0, n - len(x)))


def band_limit(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    low = float(rng.uniform(80, 400))
    high = float(rng.uniform(3000, 7500))
    sos = butter(4, [low, high], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    return sosfilt(sos, x).astype(np.float32)


def add_noise(x: np.ndarray, rng: np.random.Generator, snr_db: float) -> np.ndarray:
    """White, pink-ish or babble-like (modulated) noise at snr_db relative to the speech power."""
    n = len(x)
    kind = rng.integers(3)
    noise = rng.standard_normal(n).astype(np.float32)
    if kind == 1:  # pink-ish: integrate white noise a bit
        noise = sosfilt(butter(1, 1000, fs=SAMPLE_RATE, output="sos"), noise).astype(np.float32)
    elif kind == 2:  # speech-shaped, amplitude-modulated at syllable rate
        noise = sosfilt(butter(2, [200, 3000], btype="bandpass", fs=SAMPLE_RATE, output="sos"), noise)
        noise = (noise * (1 + 0.8 * np.sin(2 * np.pi * rng.uniform(2, 6) * np.arange(n) / SAMPLE_RATE))).astype(np.float32)
    speech_power = float(np.mean(x**2))
    if speech_power <= 1e-12:
        return x
    noise *= np.sqrt(speech_power / (10 ** (snr_db / 10)) / max(float(np.mean(noise**2)), 1e-12))
    return x + noise


def augment(audio: np.ndarray, rng: np.random.Generator, config: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """audio float32 [-1, 1] (int16 is converted) -> augmented float32, same length, clipped to [-1, 1]."""
    x = np.asarray(audio)
    if x.ndim != 1:
        raise ValueError(f"audio must be 1-D, got shape {x.shape}")
    x = x.astype(np.float32) / 32768.0 if x.dtype == np.int16 else x.astype(np.float32)
    x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    n = len(x)
    if n == 0:
        return x
    if rng.random() < config.p_speed:
        factor = 1.0 + float(rng.uniform(-config.max_speed_change, config.max_speed_change))
        up = 100
        x = _fit_length(resample_poly(x, up, int(round(up * factor))).astype(np.float32), n)
    if rng.random() < config.p_reverb:
        rir = synthetic_rir(rng, float(rng.uniform(*config.rt60_s)))
        wet = fftconvolve(x, rir)[:n].astype(np.float32)
        mix = float(rng.uniform(0.3, 1.0))
        x = (1 - mix) * x + mix * wet
    if rng.random() < config.p_band:
        x = band_limit(x, rng)
    if rng.random() < config.p_noise:
        x = add_noise(x, rng, float(rng.uniform(*config.snr_db)))
    if rng.random() < config.p_resample:
        rate = int(rng.choice([8000, 11025, 22050]))
        g = np.gcd(rate, SAMPLE_RATE)
        x = _fit_length(resample_poly(resample_poly(x, rate // g, SAMPLE_RATE // g), SAMPLE_RATE // g, rate // g).astype(np.float32), n)
    peak = float(np.abs(x).max())
    if peak > 0:
        x = x / peak * min(peak, 0.9)  # normalise clipping headroom before gain
    x = x * 10 ** (float(rng.uniform(*config.gain_db)) / 20)
    return np.clip(x, -1.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class RoomAugmentConfig:
    """The room-acoustics chain (`RoomAugmenter`): what a robot's microphone hears (issue 18)."""

    rooms: int = 40  # a pool of pyroomacoustics rooms, drawn once per training from its seed
    rt60_s: tuple[float, float] = (0.2, 1.0)
    p_room: float = 0.5
    talkers: int = 300  # utterances of the corpus kept as babble talkers
    p_babble: float = 0.3
    babble_talkers: tuple[int, int] = (1, 6)
    babble_snr_db: tuple[float, float] = (0.0, 20.0)
    p_noise: float = 0.3
    snr_db: tuple[float, float] = (0.0, 30.0)
    p_servo: float = 0.15
    servo_snr_db: tuple[float, float] = (5.0, 25.0)
    p_band: float = 0.3
    p_resample: float = 0.2
    p_gain: float = 0.7
    gain_db: tuple[float, float] = (-40.0, 20.0)  # from the corpus level; above 0 dBFS it clips


class RoomAugmenter:
    """`augmenter(audio, rng) -> audio`: a reverberant room (from a seeded pool of pyroomacoustics RIRs), other
    talkers (babble of the corpus's own voices), noise, servo whine + hum, band limits, resampling, then a gain of
    -40..+20 dB with a hard clip at full scale. Same length, float32 in [-1, 1]; labels stay aligned (the RIRs
    start at their direct path)."""

    def __init__(self, rirs: list[np.ndarray], talkers: list[np.ndarray],
                 config: RoomAugmentConfig = RoomAugmentConfig()) -> None:
        self.rirs, self.talkers, self.config = rirs, talkers, config

    @classmethod
    def from_corpus(cls, corpus_dir: str, seed: int, config: RoomAugmentConfig = RoomAugmentConfig()) -> "RoomAugmenter":
        from dataclasses import replace as _replace

        from talkface_ros.data import acoustics
        from talkface_ros.data.corpus import Corpus

        rng = np.random.default_rng([seed, 18])
        room = _replace(acoustics.RoomConfig(), fit_iterations=1)
        rirs = [acoustics.room_impulse_response(rng, float(rng.uniform(*config.rt60_s)), room)
                for _ in range(config.rooms)]
        talkers = []
        for utt in Corpus(corpus_dir).utterances("train"):
            if len(talkers) >= config.talkers:
                break
            talkers.append(utt.audio)
        return cls(rirs, talkers, config)

    def __call__(self, audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        from talkface_ros.data import acoustics

        c = self.config
        x = acoustics.to_float(np.asarray(audio))
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
        n = len(x)
        if n == 0:
            return x
        if self.rirs and rng.random() < c.p_room:
            x = acoustics.reverberate(x, self.rirs[int(rng.integers(len(self.rirs)))])
        if self.talkers and rng.random() < c.p_babble:
            k = int(rng.integers(c.babble_talkers[0], c.babble_talkers[1] + 1))
            picks = rng.choice(len(self.talkers), size=min(k, len(self.talkers)), replace=False)
            noise = acoustics.babble(rng, [acoustics.to_float(self.talkers[int(i)]) for i in picks], n)
            x = acoustics.mix_at_snr(x, noise, float(rng.uniform(*c.babble_snr_db)))
        if rng.random() < c.p_noise:
            x = add_noise(x, rng, float(rng.uniform(*c.snr_db)))
        if rng.random() < c.p_servo:
            x = acoustics.mix_at_snr(x, acoustics.servo_noise(rng, n), float(rng.uniform(*c.servo_snr_db)))
        if rng.random() < c.p_band:
            x = band_limit(x, rng)
        if rng.random() < c.p_resample:
            rate = int(rng.choice([8000, 11025, 22050]))
            g = np.gcd(rate, SAMPLE_RATE)
            x = _fit_length(resample_poly(resample_poly(x, rate // g, SAMPLE_RATE // g), SAMPLE_RATE // g, rate // g)
                            .astype(np.float32), n)
        if rng.random() < c.p_gain:
            x = acoustics.gain(x, float(rng.uniform(*c.gain_db)))
        return np.clip(x, -1.0, 1.0).astype(np.float32)
