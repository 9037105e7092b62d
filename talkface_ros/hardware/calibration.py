"""Per-joint calibration: joint units (radians, or metres of tendon) <-> driver units.

Driver units are microseconds of pulse width for a Pololu Maestro and position ticks for a Dynamixel.
The map is linear between two measured points, (lower, raw_at_lower) and (upper, raw_at_upper); the raw
values may decrease as the joint increases (a servo mounted the other way round). Both directions clamp
to the joint limits, so nothing outside [lower, upper] can come out of `to_raw`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

BUSES = ("maestro", "dynamixel")
KINDS = ("rigid", "tendon")


class CalibrationError(ValueError):
    """A calibration that cannot be used (limits the wrong way round, a flat map, a bad bus name)."""


@dataclass(frozen=True)
class JointCalibration:
    """How one joint maps onto one servo channel (contract D).

    joint: the joint name (controller order comes from the face description).
    bus: "maestro" or "dynamixel".
    channel: Maestro channel number, or Dynamixel ID.
    kind: "rigid" (radians) or "tendon" (metres of pull).
    lower, upper, neutral: joint limits and rest pose, in joint units.
    max_speed: joint units per second.
    raw_at_lower, raw_at_upper: driver units measured at the two limits.
    """

    joint: str
    bus: str
    channel: int
    kind: str
    lower: float
    upper: float
    neutral: float
    max_speed: float
    raw_at_lower: float
    raw_at_upper: float

    def __post_init__(self) -> None:
        where = f"joint {self.joint!r}"
        if not self.joint:
            raise CalibrationError("a joint calibration needs a joint name")
        if self.bus not in BUSES:
            raise CalibrationError(f"{where}: bus must be one of {BUSES}, got {self.bus!r}")
        if self.kind not in KINDS:
            raise CalibrationError(f"{where}: kind must be one of {KINDS}, got {self.kind!r}")
        if isinstance(self.channel, bool) or not isinstance(self.channel, int) or self.channel < 0:
            raise CalibrationError(f"{where}: channel must be a non-negative int, got {self.channel!r}")
        for name in ("lower", "upper", "neutral", "max_speed", "raw_at_lower", "raw_at_upper"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise CalibrationError(f"{where}: {name} must be a finite number, got {value!r}")
        if not self.lower < self.upper:
            raise CalibrationError(f"{where}: lower ({self.lower}) must be below upper ({self.upper})")
        if not self.lower <= self.neutral <= self.upper:
            raise CalibrationError(f"{where}: neutral {self.neutral} is outside [{self.lower}, {self.upper}]")
        if self.max_speed <= 0:
            raise CalibrationError(f"{where}: max_speed must be > 0, got {self.max_speed}")
        if self.raw_at_lower == self.raw_at_upper:
            raise CalibrationError(f"{where}: raw_at_lower equals raw_at_upper ({self.raw_at_lower}): a flat map")

    @property
    def raw_per_unit(self) -> float:
        """Driver units per joint unit (negative for a reversed servo)."""
        return (self.raw_at_upper - self.raw_at_lower) / (self.upper - self.lower)

    @property
    def raw_min(self) -> float:
        return min(self.raw_at_lower, self.raw_at_upper)

    @property
    def raw_max(self) -> float:
        return max(self.raw_at_lower, self.raw_at_upper)

    def clamp(self, position: float) -> float:
        """`position` limited to [lower, upper]; a non-finite position is an error, never a command."""
        if not math.isfinite(position):
            raise ValueError(f"joint {self.joint!r}: position {position!r} is not finite")
        return min(max(float(position), self.lower), self.upper)

    def to_raw(self, position: float) -> float:
        """Joint units -> driver units, clamped to the joint limits first."""
        clamped = self.clamp(position)
        return self.raw_at_lower + (clamped - self.lower) * self.raw_per_unit

    def from_raw(self, raw: float) -> float:
        """Driver units -> joint units, clamped to the joint limits."""
        if not math.isfinite(raw):
            raise ValueError(f"joint {self.joint!r}: raw value {raw!r} is not finite")
        position = self.lower + (float(raw) - self.raw_at_lower) / self.raw_per_unit
        return min(max(position, self.lower), self.upper)

    def speed_to_raw(self, speed: float) -> float:
        """A joint speed (units/s) as driver units per second (always >= 0)."""
        return abs(speed * self.raw_per_unit)
