"""The teacher: timed phones (+ audio) -> 50 Hz ARKit-52 + head-pose curves.

Lip sync: phone -> viseme pose; coarticulation by Cohen-Massaro dominance functions (each phone pulls the
face toward its pose with a weight that decays away from the phone, so lips anticipate and release
smoothly); bilabial closures (p b m) are then enforced (jaw nearly shut, lips together).
Not lip sync: blinks, brow raises on prominent (loud + long) vowels, small head motion following the
energy envelope, a per-speaker style (amplitude, smile bias), and the 7 emotions with intensity, which
change the upper face and the mouth corners. Emotions go in before the closure enforcement, so they never
break a bilabial closure.

Frame convention (contract A): T = ceil(samples / 320); frame t is the face at (t + 0.5) * 20 ms.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE as SAMPLE_RATE
from talkface_ros.data.phones import Phone
from talkface_ros.face.arkit import FRAME_SIZE, INDEX, NUM_BLENDSHAPES, sanitize_frames
from talkface_ros.face.emotion import EMOTIONS
from talkface_ros.face.visemes import (
    BILABIAL,
    VISEME_INDEX,
    VISEME_POSES,
    ipa_phone_class,
    ipa_viseme,
    vowel_letters,
)

HOP = 320
FRAME_RATE = SAMPLE_RATE / HOP

# Mouth-only channels scaled by speaker amplitude.
MOUTH_NAMES = (
    "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthStretchLeft", "mouthStretchRight",
    "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight", "mouthRollLower",
    "mouthRollUpper", "mouthShrugUpper", "mouthPressLeft", "mouthPressRight", "tongueOut",
)
MOUTH_IDX = np.array([INDEX[n] for n in MOUTH_NAMES])

# Emotion overlays at intensity 1 (added to the lip-sync face). Upper face + mouth corners only.
EMOTION_OVERLAYS: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": {"mouthSmileLeft": 0.6, "mouthSmileRight": 0.6, "cheekSquintLeft": 0.4, "cheekSquintRight": 0.4,
              "eyeSquintLeft": 0.25, "eyeSquintRight": 0.25, "mouthDimpleLeft": 0.2, "mouthDimpleRight": 0.2},
    "sad": {"mouthFrownLeft": 0.55, "mouthFrownRight": 0.55, "browInnerUp": 0.6, "browDownLeft": 0.15,
            "browDownRight": 0.15, "eyeLookDownLeft": 0.2, "eyeLookDownRight": 0.2, "mouthShrugLower": 0.2},
    "angry": {"browDownLeft": 0.75, "browDownRight": 0.75, "noseSneerLeft": 0.3, "noseSneerRight": 0.3,
              "eyeSquintLeft": 0.35, "eyeSquintRight": 0.35, "mouthPressLeft": 0.15, "mouthPressRight": 0.15,
              "mouthFrownLeft": 0.2, "mouthFrownRight": 0.2},
    "surprised": {"browInnerUp": 0.7, "browOuterUpLeft": 0.7, "browOuterUpRight": 0.7, "eyeWideLeft": 0.65,
                  "eyeWideRight": 0.65, "jawOpen": 0.08},
    "fearful": {"browInnerUp": 0.65, "browOuterUpLeft": 0.25, "browOuterUpRight": 0.25, "eyeWideLeft": 0.5,
                "eyeWideRight": 0.5, "mouthStretchLeft": 0.4, "mouthStretchRight": 0.4},
    "disgusted": {"noseSneerLeft": 0.6, "noseSneerRight": 0.6, "mouthUpperUpLeft": 0.3, "mouthUpperUpRight": 0.3,
                  "browDownLeft": 0.4, "browDownRight": 0.4, "eyeSquintLeft": 0.2, "eyeSquintRight": 0.2,
                  "mouthFrownLeft": 0.25, "mouthFrownRight": 0.25},
}
# How much each emotion scales mouth movement.
EMOTION_MOUTH_GAIN = {"neutral": 1.0, "happy": 1.05, "sad": 0.8, "angry": 1.1, "surprised": 1.1, "fearful": 0.9, "disgusted": 0.9}


def emotion_overlay(label: str) -> np.ndarray:
    vec = np.zeros(FRAME_SIZE, np.float32)
    for name, value in EMOTION_OVERLAYS[label].items():
        vec[INDEX[name]] = value
    return vec


@dataclass(frozen=True)
class SpeakerStyle:
    amplitude: float = 1.0  # mouth movement gain
    smile_bias: float = 0.0  # resting smile
    head_motion: float = 1.0  # head motion gain
    blink_interval_s: float = 3.5  # mean time between blinks
    brow_gain: float = 1.0

    @staticmethod
    def random(rng: np.random.Generator) -> "SpeakerStyle":
        return SpeakerStyle(
            amplitude=float(rng.uniform(0.75, 1.25)),
            smile_bias=float(rng.uniform(0.0, 0.15)),
            head_motion=float(rng.uniform(0.5, 1.5)),
            blink_interval_s=float(rng.uniform(2.5, 5.0)),
            brow_gain=float(rng.uniform(0.5, 1.5)),
        )


@dataclass(frozen=True)
class TeacherConfig:
    theta_s: float = 0.035  # dominance decay scale outside a phone (s)
    bilabial_dominance: float = 2.0
    vowel_dominance: float = 1.0
    consonant_dominance: float = 0.7
    weak_dominance: float = 0.15  # h, glottal stop: take the neighbours' shape
    silence_dominance: float = 0.6
    closure_jaw_max: float = 0.04  # jawOpen cap on bilabial frames
    blink_duration_s: float = 0.22
    brow_raise: float = 0.3
    head_amplitude_rad: float = 0.06


@dataclass
class TeacherOutput:
    frames: np.ndarray  # float32 [T, 55]
    phone_class: np.ndarray  # uint8 [T]
    viseme: np.ndarray  # int8 [T]


@dataclass
class _Segment:
    viseme: int
    phone_class: int
    start: float
    end: float
    dominance: float


def num_frames_for(num_samples: int) -> int:
    return -(-int(num_samples) // HOP)


def frame_times(num_frames: int) -> np.ndarray:
    return (np.arange(num_frames) + 0.5) / FRAME_RATE


def _segments(phones: list[Phone], config: TeacherConfig) -> list[_Segment]:
    """Phones -> viseme segments; diphthongs split into one segment per vowel letter."""
    out: list[_Segment] = []
    for phone in phones:
        vowels = vowel_letters(phone.symbol)
        parts = list(vowels) if len(vowels) >= 2 else [phone.symbol]
        step = phone.duration / len(parts)
        for k, part in enumerate(parts):
            viseme = ipa_viseme(part)
            pclass = ipa_phone_class(part)
            base = phone.symbol.strip()
            if viseme == 0:
                dom = config.silence_dominance
            elif pclass & BILABIAL:
                dom = config.bilabial_dominance
            elif base[:1] in ("h", "ɦ", "ʔ"):
                dom = config.weak_dominance
            elif vowels:
                dom = config.vowel_dominance
            else:
                dom = config.consonant_dominance
            out.append(_Segment(viseme, pclass, phone.start + k * step, phone.start + (k + 1) * step, dom))
    return out


def lip_sync(phones: list[Phone], num_frames: int, config: TeacherConfig = TeacherConfig()) -> TeacherOutput:
    """Phones -> mouth curves by dominance-function coarticulation, plus per-frame labels."""
    times = frame_times(num_frames)
    frames = np.zeros((num_frames, FRAME_SIZE), np.float32)
    phone_class = np.zeros(num_frames, np.uint8)
    viseme = np.zeros(num_frames, np.int8)
    segments = _segments(phones, config)
    if not segments or num_frames == 0:
        return TeacherOutput(frames, phone_class, viseme)
    starts = np.array([s.start for s in segments])
    ends = np.array([s.end for s in segments])
    alpha = np.array([s.dominance for s in segments])
    centers = (starts + ends) / 2
    half = np.maximum((ends - starts) / 2, 1e-3)
    # Distance outside the phone's core (inner 60%): full dominance inside, exponential decay outside.
    outside = np.maximum(np.abs(times[:, None] - centers[None, :]) - 0.6 * half[None, :], 0.0)
    dominance = alpha[None, :] * np.exp(-outside / config.theta_s)  # [T, N]
    poses = VISEME_POSES[[s.viseme for s in segments]]  # [N, 52]
    weights = dominance / np.maximum(dominance.sum(axis=1, keepdims=True), 1e-9)
    frames[:, :NUM_BLENDSHAPES] = weights @ poses
    viseme[:] = np.array([s.viseme for s in segments], np.int8)[np.argmax(dominance, axis=1)]
    # Label each frame by the segment containing its centre.
    seg_index = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(segments) - 1)
    inside = (times >= starts[seg_index]) & (times < ends[seg_index])
    classes = np.array([s.phone_class for s in segments], np.uint8)
    phone_class[inside] = classes[seg_index[inside]]
    return TeacherOutput(frames, phone_class, viseme)


def enforce_closures(frames: np.ndarray, phone_class: np.ndarray, config: TeacherConfig = TeacherConfig()) -> np.ndarray:
    """On bilabial frames: jaw nearly shut and the lips together (mouthClose cancels the jaw gap)."""
    closed = (phone_class & BILABIAL) != 0
    if not closed.any():
        return frames
    f = frames[closed]
    jaw = np.minimum(f[:, INDEX["jawOpen"]], config.closure_jaw_max)
    f[:, INDEX["jawOpen"]] = jaw
    f[:, INDEX["mouthClose"]] = jaw
    for name in ("mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight", "mouthFunnel", "tongueOut"):
        f[:, INDEX[name]] = np.minimum(f[:, INDEX[name]], 0.05)
    frames[closed] = f
    return frames


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    if width <= 1:
        return x
    kernel = np.hanning(width + 2)[1:-1]
    kernel /= kernel.sum()
    return np.convolve(x, kernel, mode="same")


def energy_envelope(audio: np.ndarray, num_frames: int) -> np.ndarray:
    """Per-frame RMS (int16 full scale = 1), normalised to [0, 1] by the utterance's 95th percentile."""
    x = audio.astype(np.float32) / 32768.0
    pad = num_frames * HOP - len(x)
    x = np.pad(x, (0, max(0, pad)))[: num_frames * HOP]
    rms = np.sqrt(np.mean(x.reshape(num_frames, HOP) ** 2, axis=1)) if num_frames else np.zeros(0)
    top = np.percentile(rms, 95) if num_frames else 1.0
    return np.clip(rms / max(top, 1e-6), 0.0, 1.0).astype(np.float32)


def add_blinks(frames: np.ndarray, rng: np.random.Generator, style: SpeakerStyle, config: TeacherConfig, emotion: str) -> None:
    num_frames = len(frames)
    interval = style.blink_interval_s * (1.6 if emotion in ("surprised", "fearful") else 1.0)
    t = float(rng.uniform(0.2, interval))
    duration = max(2, int(round(config.blink_duration_s * FRAME_RATE)))
    profile = np.sin(np.linspace(0, np.pi, duration + 2)[1:-1]) ** 0.7
    while t * FRAME_RATE < num_frames:
        start = int(t * FRAME_RATE)
        seg = profile[: num_frames - start]
        for name in ("eyeBlinkLeft", "eyeBlinkRight"):
            col = INDEX[name]
            frames[start : start + len(seg), col] = np.maximum(frames[start : start + len(seg), col], seg)
        t += float(rng.gamma(4.0, interval / 4.0)) + config.blink_duration_s


def add_prosody(frames: np.ndarray, phones: list[Phone], energy: np.ndarray, rng: np.random.Generator, style: SpeakerStyle, config: TeacherConfig) -> None:
    """Brow raises on prominent vowels (loud and long), head motion following the energy envelope."""
    num_frames = len(frames)
    times = frame_times(num_frames)
    vowels = [p for p in phones if vowel_letters(p.symbol)]
    if vowels and num_frames:
        scores = []
        for p in vowels:
            a, b = int(p.start * FRAME_RATE), max(int(p.start * FRAME_RATE) + 1, int(p.end * FRAME_RATE))
            scores.append(float(energy[a:b].mean()) * p.duration if a < num_frames else 0.0)
        scores = np.array(scores)
        threshold = np.quantile(scores, 0.8)
        brow = np.zeros(num_frames, np.float32)
        for p, s in zip(vowels, scores):
            if s >= threshold and s > 0 and rng.random() < 0.7:
                center = (p.start + p.end) / 2
                brow = np.maximum(brow, np.exp(-0.5 * ((times - center) / 0.12) ** 2))
        brow *= config.brow_raise * style.brow_gain
        for name, gain in (("browInnerUp", 1.0), ("browOuterUpLeft", 0.8), ("browOuterUpRight", 0.8)):
            frames[:, INDEX[name]] += gain * brow
    # Head: smooth random walk, gated by speech energy, plus nods (pitch) on loud frames.
    if num_frames:
        gate = _smooth(energy, 15)
        for k, name in enumerate(("headYaw", "headPitch", "headRoll")):
            noise = _smooth(rng.standard_normal(num_frames + 50).astype(np.float32), 40)[25 : 25 + num_frames]
            noise /= max(float(np.std(noise)), 1e-6)
            amp = config.head_amplitude_rad * style.head_motion * (0.5 if name == "headRoll" else 1.0)
            frames[:, INDEX[name]] += amp * noise * (0.3 + 0.7 * gate)
        frames[:, INDEX["headPitch"]] += 0.03 * style.head_motion * _smooth(energy, 9)


def animate(
    phones: list[Phone],
    audio: np.ndarray,
    rng: np.random.Generator,
    emotion: str = "neutral",
    intensity: float = 1.0,
    style: SpeakerStyle = SpeakerStyle(),
    config: TeacherConfig = TeacherConfig(),
) -> TeacherOutput:
    """The full teacher for one utterance (audio int16 16 kHz; phones in seconds)."""
    if emotion not in EMOTIONS:
        raise ValueError(f"unknown emotion {emotion!r}")
    intensity = float(np.clip(intensity, 0.0, 1.0))
    num_frames = num_frames_for(len(audio))
    out = lip_sync(phones, num_frames, config)
    frames = out.frames
    gain = style.amplitude * (1.0 + (EMOTION_MOUTH_GAIN[emotion] - 1.0) * intensity)
    frames[:, MOUTH_IDX] *= gain
    energy = energy_envelope(audio, num_frames)
    add_blinks(frames, rng, style, config, emotion)
    add_prosody(frames, phones, energy, rng, style, config)
    frames[:, INDEX["mouthSmileLeft"]] += style.smile_bias
    frames[:, INDEX["mouthSmileRight"]] += style.smile_bias
    frames += intensity * emotion_overlay(emotion)[None, :]
    frames = sanitize_frames(frames)
    frames = enforce_closures(frames, out.phone_class, config)
    return TeacherOutput(frames.astype(np.float32), out.phone_class, out.viseme)


__all__ = [
    "SpeakerStyle", "TeacherConfig", "TeacherOutput", "animate", "lip_sync", "enforce_closures",
    "emotion_overlay", "num_frames_for", "frame_times", "EMOTION_OVERLAYS", "VISEME_INDEX",
]
