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
