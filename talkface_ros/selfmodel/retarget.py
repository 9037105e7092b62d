"""Blendshape stream -> safe motor commands at the control rate, without ROS.

Frames arrive at ~50 Hz (possibly jittered, possibly bad); the control loop ticks at e.g. 100 Hz. Each
new frame is retargeted once (the amortised inverse, ~tens of microseconds); ticks interpolate from the
previous frame's motors to the newest over one frame period, and everything goes through the
SafetyLayer. When frames stop for `stale_s`, the face returns smoothly to neutral. An optional gaze
controller (talkface_ros/face/gaze.py, a look-at target) takes over the eyes, neck and lids on top.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from talkface_ros.face.arkit import FRAME_NAMES, FRAME_SIZE, INDEX
from talkface_ros.face.gaze import GazeController
from talkface_ros.selfmodel.model import SelfModel
from talkface_ros.selfmodel.safety import SafetyLayer, SafetyLimits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetargetConfig:
    frame_period_s: float = 0.02
    stale_s: float = 0.3
    # False: a new frame's motor targets apply at once (lowest latency; the safety layer's slew limit
    # smooths). True: ramp from the previous targets over one frame period (smoother, ~half a frame later).
    interpolate: bool = False
    # delay compensation: each frame's motor targets are extrapolated this many frames ahead along the
    # change from the previous frame (a phase lead for the servo and skin lag, ~13 ms in the sim: with 1,
    # `talkface eval --system robot` measures ~3 ms and +0.02 open-vs-bilabial AUC; 0 = off)
    lead_frames: float = 1.0


def frame_from_named(names: Sequence[str], values: Sequence[float]) -> np.ndarray:
    """A JointState-like (names, values) -> a frame [55] in FRAME_NAMES order; absent names are 0 (neutral),
    unknown names are ignored. Raises ValueError on mismatched lengths or non-finite values."""
    if len(names) != len(values):
        raise ValueError(f"{len(names)} names but {len(values)} values")
    frame = np.zeros(FRAME_SIZE)
    known = 0
    for name, value in zip(names, values):
        index = INDEX.get(name)
        if index is None:
            continue
        value = float(value)
        if not np.isfinite(value):
            raise ValueError(f"{name} is not finite ({value})")
        frame[index] = value
        known += 1
    if known == 0:
        raise ValueError(f"none of the names is a face frame name (expected e.g. {FRAME_NAMES[:3]})")
    return frame


def blink_lid_targets(model: SelfModel, lid_motors: Sequence[int]) -> dict[int, float]:
    """The lid motors' closed positions: what the self-model sends for eyeBlinkLeft = eyeBlinkRight = 1."""
    frame = np.zeros(FRAME_SIZE)
    frame[INDEX["eyeBlinkLeft"]] = frame[INDEX["eyeBlinkRight"]] = 1.0
    closed = model.retarget(frame)
    return {int(i): float(closed[i]) for i in lid_motors if abs(closed[i] - model.neutral[i]) > 1e-6}


class Retargeter:
    def __init__(self, model: SelfModel, limits: SafetyLimits, config: RetargetConfig = RetargetConfig(),
                 gaze: GazeController | None = None) -> None:
        self.model = model
        self.gaze = gaze  # a look-at target overrides eyes, neck and lids while it is fresh
        self.config = config
        self.safety = SafetyLayer(limits, watchdog_s=config.stale_s)
        self._previous = limits.neutral.copy()
        self._latest = limits.neutral.copy()
        self._latest_time: float | None = None
        self._last_raw: np.ndarray | None = None
        self.enabled = True

    def push_frame(self, frame: np.ndarray, now: float) -> bool:
        """A new blendshape frame [55] received at `now`. Returns False (and changes nothing) if it is bad."""
        frame = np.asarray(frame, dtype=np.float64)
        if not self.enabled:
            return False
        if frame.shape != (FRAME_SIZE,) or not np.all(np.isfinite(frame)):
            log.warning("dropped a bad blendshape frame (shape %s)", frame.shape)
            return False
        motors = self.model.retarget(frame)
        if self.config.lead_frames > 0:
            raw = motors
            if self._last_raw is not None:
                motors = np.clip(motors + self.config.lead_frames * (motors - self._last_raw),
                                 self.model.lower, self.model.upper)
            self._last_raw = raw
        self._previous = self._interpolated(now) if self._latest_time is not None else self.safety.sent.copy()
        self._latest, self._latest_time = motors, now
        return True

    def _interpolated(self, now: float) -> np.ndarray:
        if not self.config.interpolate:
            return self._latest
        alpha = 1.0 if self._latest_time is None else np.clip((now - self._latest_time) / self.config.frame_period_s, 0, 1)
        return self._previous + alpha * (self._latest - self._previous)

    def go_neutral(self) -> None:
        self._latest_time = None
        self._last_raw = None
        if self.gaze is not None:
            self.gaze.release()
        self.safety.go_neutral()

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        if not enabled:
            self.go_neutral()
            if self.gaze is not None:
                self.gaze.reset()

    @property
    def streaming(self) -> bool:
        return self._latest_time is not None

    def tick(self, now: float) -> np.ndarray:
        """The command to send at `now` (always within limits and slew rates)."""
        fresh = self._latest_time is not None and now - self._latest_time <= self.config.stale_s
        target = self._interpolated(now) if fresh else None
        if self.gaze is not None and self.enabled:
            target = self.gaze.apply(target, now)  # None stays None unless a look-at target is fresh
        return self.safety.step(target, now)
