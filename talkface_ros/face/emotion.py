"""Emotion labels and the `label[:intensity]` syntax used by the topic, the parameter and the CLI."""
from __future__ import annotations

from dataclasses import dataclass

EMOTIONS: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "surprised", "fearful", "disgusted")
EMOTION_INDEX: dict[str, int] = {name: i for i, name in enumerate(EMOTIONS)}


@dataclass(frozen=True)
class Emotion:
    label: str = "neutral"
    intensity: float = 1.0

    @property
    def index(self) -> int:
        return EMOTION_INDEX[self.label]


def parse_emotion(text: str) -> Emotion:
    """'happy' -> Emotion('happy', 1.0); 'sad:0.6' -> Emotion('sad', 0.6). Raises ValueError with a reason."""
    label, _, intensity_text = text.strip().partition(":")
    label = label.strip().lower()
    if label not in EMOTION_INDEX:
        raise ValueError(f"unknown emotion {label!r}; expected one of {', '.join(EMOTIONS)}")
    intensity = 1.0
    if intensity_text.strip():
        try:
            intensity = float(intensity_text)
        except ValueError:
            raise ValueError(f"emotion intensity {intensity_text!r} is not a number") from None
        if not 0.0 <= intensity <= 1.0:
            raise ValueError(f"emotion intensity {intensity} is outside [0, 1]")
    return Emotion(label, intensity)


class EmotionRamp:
    """Moves the emotion fed to the model smoothly toward a target, one frame at a time.

    Same label: the intensity slides to the new value. Another label: the old one fades out, then the new
    one fades in, each half of `transition_s`; from neutral the new label starts at once from 0."""

    def __init__(self, transition_s: float = 0.2, frame_rate: float = 50.0, start: Emotion | None = None) -> None:
        self.transition_s = max(0.0, transition_s)
        self.frame_rate = frame_rate
        self.current = start or Emotion()
        self.target = self.current

    def set_target(self, emotion: Emotion) -> None:
        self.target = emotion

    def _step_size(self) -> float:
        frames = self.transition_s * self.frame_rate
        return 1.0 if frames <= 1 else 2.0 / frames

    def step(self) -> Emotion:
        """Advance one frame; returns the emotion to use for it."""
        step = self._step_size()
        current, target = self.current, self.target
        if current.label != target.label:
            if current.label == "neutral" or current.intensity <= step:
                current = Emotion(target.label, 0.0)
            else:
                current = Emotion(current.label, current.intensity - step)
        if current.label == target.label:
            delta = target.intensity - current.intensity
            current = Emotion(current.label, target.intensity if abs(delta) <= step else current.intensity + step * (1 if delta > 0 else -1))
        self.current = current
        return current
