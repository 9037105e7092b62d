"""A face that is alive while nobody speaks: neutral with blinks and small head motion."""
from __future__ import annotations

import numpy as np

from talkface_ros.face.arkit import FRAME_SIZE, INDEX

BLINK_S = 0.15


class IdleFace:
    """Frames at `frame_rate`: random blinks every 2-6 s and slow head sway of a few degrees.
    `blend_from(frame)` fades from the last speaking frame into the idle face over `fade_s`."""

    def __init__(self, frame_rate: float = 50.0, seed: int = 0, head_amplitude_rad: float = 0.03,
                 fade_s: float = 0.3) -> None:
        self.frame_rate = frame_rate
        self.rng = np.random.default_rng(seed)
        self.head_amplitude = head_amplitude_rad
        self.fade_frames = max(1, int(round(fade_s * frame_rate)))
        self.phases = self.rng.uniform(0, 2 * np.pi, size=3)
        self.t = 0.0
        self.next_blink = self.rng.uniform(1.0, 4.0)
        self._from: np.ndarray | None = None
        self._fade_left = 0

    def blend_from(self, frame: np.ndarray) -> None:
        self._from = np.asarray(frame, dtype=np.float32).copy()
        self._fade_left = self.fade_frames

    def step(self) -> np.ndarray:
        frame = np.zeros(FRAME_SIZE, dtype=np.float32)
        since_blink = self.t - self.next_blink
        if 0.0 <= since_blink <= BLINK_S:
            closure = float(np.sin(np.pi * since_blink / BLINK_S))
            frame[INDEX["eyeBlinkLeft"]] = frame[INDEX["eyeBlinkRight"]] = closure
        elif since_blink > BLINK_S:
            self.next_blink = self.t + self.rng.uniform(2.0, 6.0)
        for axis, (name, freq) in enumerate((("headYaw", 0.11), ("headPitch", 0.07), ("headRoll", 0.05))):
            frame[INDEX[name]] = self.head_amplitude * np.sin(2 * np.pi * freq * self.t + self.phases[axis])
        if self._from is not None and self._fade_left > 0:
            weight = self._fade_left / (self.fade_frames + 1)
            frame = weight * self._from + (1 - weight) * frame
            self._fade_left -= 1
        self.t += 1.0 / self.frame_rate
        return frame.astype(np.float32)
