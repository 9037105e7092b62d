"""The last thing before the motors: limits, slew rate, tendon pull-only, bad input, watchdog.

`SafetyLayer.step(command, now)` takes whatever came from upstream (possibly None, the wrong length or
NaN) and returns the command it actually sends: always finite, within [lower, upper] (tendons therefore
never below 0 pull: they never push), and never further from the previous sent command than
max_speed * dt. A bad command holds the last safe target; no valid command for `watchdog_s` sends the
face smoothly to neutral.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SafetyLimits:
    lower: np.ndarray
    upper: np.ndarray
    neutral: np.ndarray
    max_speed: np.ndarray
    tendon: np.ndarray              # bool per motor

    @classmethod
    def from_description(cls, description) -> "SafetyLimits":
        return cls(description.lower_limits(), description.upper_limits(), description.neutral_positions(),
                   description.max_speeds(), description.tendon_mask())

    def __post_init__(self) -> None:
        n = self.lower.size
        for name in ("upper", "neutral", "max_speed", "tendon"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"SafetyLimits.{name} must have {n} entries")
        if np.any(self.lower >= self.upper) or np.any(self.max_speed <= 0):
            raise ValueError("SafetyLimits: need lower < upper and max_speed > 0 for every motor")
        if np.any(self.lower[self.tendon] < 0):
            raise ValueError("SafetyLimits: tendon lower limits must be >= 0 (a string cannot push)")


class SafetyLayer:
    def __init__(self, limits: SafetyLimits, watchdog_s: float = 0.5) -> None:
        self.limits = limits
        self.watchdog_s = watchdog_s
        self.sent = limits.neutral.copy()
        self.target = limits.neutral.copy()
        self._last_valid: float | None = None
        self._last_time: float | None = None
        self.rejected = 0
        self.watchdog_tripped = False

    @property
    def size(self) -> int:
        return self.limits.lower.size

    def reset(self) -> None:
        self.sent = self.limits.neutral.copy()
        self.target = self.limits.neutral.copy()
        self._last_valid = self._last_time = None

    def go_neutral(self) -> None:
        self.target = self.limits.neutral.copy()

    def _accept(self, command) -> bool:
        try:
            values = np.asarray(command, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            return False
        if values.size != self.size or not np.all(np.isfinite(values)):
            return False
        self.target = np.clip(values, self.limits.lower, self.limits.upper)
        return True

    def step(self, command, now: float) -> np.ndarray:
        """One control tick at time `now` (seconds, monotonic). Returns the command sent (a copy)."""
        if command is not None:
            if self._accept(command):
                self._last_valid = now
                self.watchdog_tripped = False
            else:
                self.rejected += 1
                log.warning("rejected a motor command (wrong length or not finite): holding the last safe one")
        stale = self._last_valid is None or now - self._last_valid > self.watchdog_s
        if stale and self._last_valid is not None and not self.watchdog_tripped:
            log.warning("no valid command for %.2f s: returning to neutral", self.watchdog_s)
            self.watchdog_tripped = True
        if stale:
            self.target = self.limits.neutral.copy()
        dt = 0.0 if self._last_time is None else max(0.0, min(now - self._last_time, 1.0))
        if not math.isfinite(dt):
            dt = 0.0
        self._last_time = now
        step = self.limits.max_speed * dt
        moved = self.sent + np.clip(self.target - self.sent, -step, step)
        self.sent = np.clip(moved, self.limits.lower, self.limits.upper)
        return self.sent.copy()
