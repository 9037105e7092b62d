"""Build the right `ServoBus` for a bus name, from the face description's calibrations."""
from __future__ import annotations

from typing import Sequence

from talkface_ros.hardware.bus import SerialServoBus
from talkface_ros.hardware.calibration import BUSES, JointCalibration

DEFAULT_BAUD = {"maestro": 115200, "dynamixel": 57600}


def calibrations_for_bus(calibrations: Sequence[JointCalibration], bus: str) -> list[JointCalibration]:
    if bus not in BUSES:
        raise ValueError(f"bus must be one of {BUSES}, got {bus!r}")
    return [c for c in calibrations if c.bus == bus]


def make_bus(bus: str, port: str, calibrations: Sequence[JointCalibration], baud: int = 0,
             **options) -> SerialServoBus:
    """A driver for the joints of `calibrations` that live on `bus` (others are ignored).
    baud 0 = the bus's usual default. Extra options go to the driver (e.g. model=, device_number= for Maestro)."""
    mine = calibrations_for_bus(calibrations, bus)
    if not mine:
        raise ValueError(f"the face description has no joints on a {bus} bus")
    baud = baud or DEFAULT_BAUD[bus]
    if bus == "maestro":
        from talkface_ros.hardware.maestro import MaestroBus

        return MaestroBus(port, mine, baud=baud, **options)
    from talkface_ros.hardware.dynamixel import DynamixelBus

    return DynamixelBus(port, mine, baud=baud, **options)
