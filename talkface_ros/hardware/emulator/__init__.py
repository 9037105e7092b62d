"""Servo controllers emulated on pseudo-terminals, speaking the real protocols, with fault injection."""
from talkface_ros.hardware.emulator.base import PtyEmulator
from talkface_ros.hardware.emulator.dynamixel import DynamixelEmulator
from talkface_ros.hardware.emulator.for_face import emulator_for_face
from talkface_ros.hardware.emulator.maestro import MaestroEmulator

__all__ = ["PtyEmulator", "MaestroEmulator", "DynamixelEmulator", "emulator_for_face"]
