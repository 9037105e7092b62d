"""An emulator sized for a face description's joints on one bus (for `talkface bringup --hardware
emulated-maestro|emulated-dynamixel` and for tests)."""
from __future__ import annotations

from typing import Sequence

from talkface_ros.hardware.calibration import JointCalibration
from talkface_ros.hardware.emulator.base import PtyEmulator
from talkface_ros.hardware.emulator.dynamixel import DynamixelEmulator
from talkface_ros.hardware.emulator.maestro import MaestroEmulator


def emulator_for_face(bus: str, calibrations: Sequence[JointCalibration], link_path: str | None = None,
                      record_limit: int | None = 0) -> PtyEmulator:
    """A Maestro with enough channels, or Dynamixels with the face's IDs; not started (use `with` or .start()).
    record_limit 0 keeps no per-target log (long runs); tests pass None or a number to assert on it."""
    mine = [c for c in calibrations if c.bus == bus]
    if not mine:
        raise ValueError(f"the face has no joints on a {bus} bus")
    if bus == "maestro":
        highest = max(c.channel for c in mine)
        if highest >= 24:
            raise ValueError(f"channel {highest} does not exist on any Maestro")
        model = "micro6" if highest < 6 else "mini12" if highest < 12 else "mini18" if highest < 18 else "mini24"
        return MaestroEmulator(link_path, model=model, record_limit=record_limit)
    if bus == "dynamixel":
        return DynamixelEmulator(link_path, ids=tuple(sorted(c.channel for c in mine)), record_limit=record_limit)
    raise ValueError(f"unknown bus {bus!r}")
