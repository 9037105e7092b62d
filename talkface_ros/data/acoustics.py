"""Room acoustics and microphone faults, seeded: what a robot's microphone does to speech.

Every function takes float audio (16 kHz mono, [-1, 1]) and a `numpy.random.Generator`, so a degradation
is a pure function of its seed. Used twice: by `talkface eval --condition ...` (fixed seeds, fixed targets)
and by the trainer's augmentation (random draws from the training ranges).

- `room_impulse_response`: a random shoebox room (size, absorption, speaker and microphone positions)
  from pyroomacoustics' image-source model, its absorption fitted so that the RIR's measured RT60 (T20
  extrapolated, Schroeder integration) hits the target; trimmed so that the direct path is sample 0
  (reverberation does not move the phones against their labels).
- `reverberate`: convolve, same length, same RMS as the dry input (level is a condition of its own).
- `mix_at_snr`, `babble`: additive noise or other talkers at a given SNR (speech and noise power over the
  whole clip).
- `gain`, `hard_clip`: a quiet or an overdriven microphone.
- `servo_noise`: robot self-noise, a motor whine (a drifting harmonic tone with on/off bursts) over mains
  hum (50 or 60 Hz and harmonics).
- `telephone_band`: 300-3400 Hz.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.signal import butter, fftconvolve, sosfilt

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE as SAMPLE_RATE

log = logging.getLogger(__name__)

SPEED_OF_SOUND = 343.0


@dataclass(frozen=True)
class RoomConfig:
    """Random shoebox rooms. Sizes in metres; RT60 in seconds."""

    length_m: tuple[float, float] = (3.0, 10.0)
    width_m: tuple[float, float] = (3.0, 8.0)
    height_m: tuple[float, float] = (2.4, 3.5)
    wall_margin_m: float = 0.5  # speaker and microphone at least this far from every wall
    min_distance_m: float = 0.5  # speaker to microphone
    max_distance_m: float = 3.0
    fit_iterations: int = 2  # re-fit the absorption to the measured RT60 this many times
    sample_rate: int = SAMPLE_RATE


def measure_rt60(rir: np.ndarray, sample_rate: int = SAMPLE_RATE, decay_db: float = 20.0) -> float:
    """RT60 of an impulse response: Schroeder backward integration, the time from -5 dB to -(5 + decay_db) dB
    extrapolated to 60 dB."""
    energy = np.asarray(rir, np.float64) ** 2
    edc = np.cumsum(energy[::-1])[::-1]
    if edc[0] <= 0:
        raise ValueError("the impulse response is silent")
    edc_db = 10.0 * np.log10(edc / edc[0] + 1e-300)
    start = int(np.argmax(edc_db <= -5.0))
    stop = int(np.argmax(edc_db <= -5.0 - decay_db))
    if stop <= start:
        raise ValueError(f"the impulse response does not decay by {5 + decay_db} dB")
    return (stop - start) / sample_rate * 60.0 / decay_db


def _positions(rng: np.random.Generator, dims: np.ndarray, config: RoomConfig) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.full(3, config.wall_margin_m), dims - config.wall_margin_m
    for _ in range(100):
        source, mic = rng.uniform(lo, hi), rng.uniform(lo, hi)
        if config.min_distance_m <= np.linalg.norm(source - mic) <= config.max_distance_m:
            return source, mic
    return source, mic


def _shoebox_rir(dims: np.ndarray, source: np.ndarray, mic: np.ndarray, rt60: float, fs: int) -> np.ndarray:
    import pyroomacoustics as pra

    absorption, max_order = pra.inverse_sabine(rt60, dims)
    room = pra.ShoeBox(dims, fs=fs, materials=pra.Material(float(min(absorption, 0.99))), max_order=max_order)
    room.add_source(source)
    room.add_microphone(mic)
    room.compute_rir()
    return np.asarray(room.rir[0][0], np.float64)


def room_impulse_response(rng: np.random.Generator, rt60: float, config: RoomConfig = RoomConfig()) -> np.ndarray:
    """A random room's RIR (float32, unit energy) whose measured RT60 is close to `rt60` (seconds), the direct
    path at sample 0."""
    if not 0.05 <= rt60 <= 3.0:
        raise ValueError(f"rt60 {rt60} s outside 0.05..3 s")
    dims = np.array([rng.uniform(*config.length_m), rng.uniform(*config.width_m), rng.uniform(*config.height_m)])
    source, mic = _positions(rng, dims, config)
    design = rt60
    rir = _shoebox_rir(dims, source, mic, design, config.sample_rate)
    for _ in range(config.fit_iterations):  # Sabine's formula overestimates the image model's absorption
        measured = measure_rt60(rir, config.sample_rate)
        if abs(measured - rt60) < 0.03 * rt60:
            break
        design = float(np.clip(design * rt60 / measured, 0.05, 3.0))
        rir = _shoebox_rir(dims, source, mic, design, config.sample_rate)
    direct = int(np.argmax(np.abs(rir)))  # the direct path is the strongest arrival
    rir = rir[direct:]
    edc = np.cumsum(rir[::-1] ** 2)[::-1]
    rir = rir[: max(1, int(np.argmax(edc <= edc[0] * 1e-7)))]  # nothing after -70 dB
    return (rir / np.sqrt(np.sum(rir**2))).astype(np.float32)


@lru_cache(maxsize=64)
def fixed_rir(rt60: float, index: int, seed: int = 0) -> np.ndarray:
    """The index-th RIR of a fixed pool for an eval condition: the same rooms every run."""
    return room_impulse_response(np.random.default_rng([seed, index, int(round(rt60 * 1000))]), rt60)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2)))


def reverberate(audio: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Convolve with `rir`, keep the length and the dry input's RMS."""
    x = np.asarray(audio, np.float32)
    if len(x) == 0:
        return x
    wet = fftconvolve(x, rir)[: len(x)].astype(np.float32)
    dry, out = _rms(x), _rms(wet)
    return wet * (dry / out) if out > 0 else wet


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """speech + noise scaled so that 10 log10(P_speech / P_noise) = snr_db (powers over the whole clip).
    `noise` must be at least as long as `speech`."""
    speech = np.asarray(speech, np.float32)
    noise = np.asarray(noise, np.float32)[: len(speech)]
    if len(noise) < len(speech):
        raise ValueError(f"noise ({len(noise)}) shorter than speech ({len(speech)})")
    p_speech, p_noise = _rms(speech) ** 2, _rms(noise) ** 2
    if p_speech <= 0 or p_noise <= 0:
        return speech.copy()
    scale = np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))
    return (speech + scale * noise).astype(np.float32)


def loop_to_length(x: np.ndarray, n: int, offset: int = 0) -> np.ndarray:
    """x repeated from `offset` on to n samples."""
    x = np.asarray(x, np.float32)
    if len(x) == 0:
        return np.zeros(n, np.float32)
    idx = (offset + np.arange(n)) % len(x)
    return x[idx]


def babble(rng: np.random.Generator, talkers: list[np.ndarray], length: int) -> np.ndarray:
    """The sum of `talkers` (each looped from a random offset to `length`, each at the same RMS)."""
    if not talkers:
        raise ValueError("babble needs at least one talker")
    out = np.zeros(length, np.float32)
    for talker in talkers:
        t = loop_to_length(talker, length, int(rng.integers(0, max(1, len(talker)))))
        rms = _rms(t)
        if rms > 0:
            out += t / rms
    return out


def gain(audio: np.ndarray, db: float) -> np.ndarray:
    return (np.asarray(audio, np.float32) * np.float32(10 ** (db / 20))).astype(np.float32)


def hard_clip(audio: np.ndarray, db: float, level: float = 1.0) -> np.ndarray:
    """Amplify by `db`, then clip at +-level (an overdriven ADC)."""
    return np.clip(gain(audio, db), -level, level).astype(np.float32)


def servo_noise(rng: np.random.Generator, length: int, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Motor whine (fundamental 150-900 Hz drifting +-10 %, 6 harmonics falling off, gated in bursts of
    0.2-1.5 s) plus mains hum (50 or 60 Hz, odd harmonics) and a little broadband gear noise. Unit RMS."""
    t = np.arange(length) / sample_rate
    f0 = rng.uniform(150.0, 900.0)
    drift = 1.0 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t + rng.uniform(0, 2 * np.pi))
    phase = 2 * np.pi * np.cumsum(f0 * drift) / sample_rate
    whine = sum((0.7 ** k) * np.sin((k + 1) * phase + rng.uniform(0, 2 * np.pi)) for k in range(6))
    gate = np.zeros(length)
    pos = 0
    on = bool(rng.random() < 0.7)
    while pos < length:
        run = int(rng.uniform(0.2, 1.5) * sample_rate)
        gate[pos:pos + run] = 1.0 if on else 0.15
        pos, on = pos + run, not on
    gate = np.convolve(gate, np.ones(160) / 160, mode="same")  # 10 ms ramps
    mains = rng.choice([50.0, 60.0])
    hum = sum((0.5 ** k) * np.sin(2 * np.pi * mains * (2 * k + 1) * t + rng.uniform(0, 2 * np.pi)) for k in range(4))
    grit = sosfilt(butter(2, [1000, 6000], btype="bandpass", fs=sample_rate, output="sos"), rng.standard_normal(length))
    noise = whine * gate + 0.5 * hum + 0.2 * grit * gate
    rms = _rms(noise)
    return (noise / rms if rms > 0 else noise).astype(np.float32)


def telephone_band(audio: np.ndarray, low_hz: float = 300.0, high_hz: float = 3400.0) -> np.ndarray:
    sos = butter(6, [low_hz, high_hz], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    return sosfilt(sos, np.asarray(audio, np.float64)).astype(np.float32)


def to_int16(audio: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(audio, np.float64) * 32767.0), -32768, 32767).astype(np.int16)


def to_float(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio)
    return audio.astype(np.float32) / 32768.0 if audio.dtype == np.int16 else audio.astype(np.float32)
