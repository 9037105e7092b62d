"""ROBOTIS Dynamixel X-series servos (Protocol 2.0, position mode) through `dynamixel-sdk`.

The SDK is imported when the port opens, so the package imports without it (extra `dynamixel`).
Raw units are position ticks (0-4095 per turn). Each control tick is one Sync Write of Goal Position;
feedback is one Sync Read of Present Position; faults come from Hardware Error Status (address 70).
"""
from __future__ import annotations

import logging
import math
from typing import Mapping, Sequence

from talkface_ros.hardware import dynamixel_protocol as dx
from talkface_ros.hardware.bus import BusDisconnected, BusProtocolError, BusTimeout, SerialServoBus, ServoFault
from talkface_ros.hardware.calibration import JointCalibration

log = logging.getLogger(__name__)

DEFAULT_BAUD = 57600
# what dynamixel-sdk's PortHandler accepts
SUPPORTED_BAUDS = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000,
                   2000000, 2500000, 3000000, 3500000, 4000000)


def import_sdk():
    try:
        import dynamixel_sdk
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError("the Dynamixel driver needs dynamixel-sdk: pip install 'talkface_ros[dynamixel]'") from error
    return dynamixel_sdk


def profile_velocity_units(calibration: JointCalibration) -> int:
    """max_speed as Profile Velocity units (0.229 rpm), at least 1 (0 would mean unlimited)."""
    ticks_per_s = calibration.speed_to_raw(calibration.max_speed)
    return int(min(max(round(ticks_per_s / dx.PROFILE_VELOCITY_UNIT_TICKS_PER_S), 1), 32767))


class DynamixelBus(SerialServoBus):
    BUS_NAME = "dynamixel"

    def __init__(self, port: str, calibrations: Sequence[JointCalibration], baud: int = DEFAULT_BAUD,
                 timeout: float = 0.05, retries: int = 2) -> None:
        super().__init__(port, calibrations, baud, timeout, retries)
        if baud not in SUPPORTED_BAUDS:
            raise ValueError(f"Dynamixel baud rate must be one of {SUPPORTED_BAUDS}, got {baud}")
        for c in calibrations:
            if c.channel > 252:
                raise ValueError(f"joint {c.joint!r}: Dynamixel ID must be 0-252, got {c.channel}")
        self._ids = [c.channel for c in calibrations]
        self._bounds = {c.channel: (math.ceil(c.raw_min), math.floor(c.raw_max)) for c in calibrations}
        self._sdk = None
        self._port_handler = None
        self._packet_handler = None
        self.missing_ids: list[int] = []

    # -- port ---------------------------------------------------------------------------------------------------
    def _open(self) -> None:
        sdk = self._sdk = import_sdk()
        self._port_handler = sdk.PortHandler(self.port)
        self._packet_handler = sdk.PacketHandler(2.0)
        # setBaudRate opens the port (serial.Serial raises if the path is missing).
        if not self._port_handler.setBaudRate(self.baud):
            raise ValueError(f"dynamixel-sdk does not support {self.baud} baud")
        self.missing_ids = []
        for dxl_id in self._ids:
            for _attempt in range(1 + self.retries):
                _, result, _ = self._packet_handler.ping(self._port_handler, dxl_id)
                if result == sdk.COMM_SUCCESS:
                    break
            else:
                self.missing_ids.append(dxl_id)
        if self.missing_ids == self._ids:
            raise BusTimeout(f"no Dynamixel answers on {self.port} at {self.baud} baud (IDs {self._ids})")
        if self.missing_ids:
            log.warning("Dynamixel IDs %s do not answer on %s", self.missing_ids, self.port)
        present = [i for i in self._ids if i not in self.missing_ids]
        modes = self._retrying(lambda: self._sync_read(dx.OPERATING_MODE, present))
        if any(mode != dx.POSITION_MODE for mode in modes.values()):
            self._sync_write(dx.TORQUE_ENABLE, {i: 0 for i in present})  # EEPROM is writable only without torque
            self._sync_write(dx.OPERATING_MODE, {i: dx.POSITION_MODE for i in present})
        self._sync_write(dx.PROFILE_VELOCITY, {c.channel: profile_velocity_units(c)
                                               for c in self.calibrations.values() if c.channel in present})

    def _retrying(self, operation):
        """For set-up reads in _open (outside `_call`): timeouts and bad packets are retried and counted."""
        for attempt in range(1 + self.retries):
            try:
                return operation()
            except (BusTimeout, BusProtocolError) as error:
                if isinstance(error, BusTimeout):
                    self.stats.timeouts += 1
                else:
                    self.stats.protocol_errors += 1
                if attempt == self.retries:
                    raise

    def _close(self) -> None:
        if self._port_handler is not None and self._port_handler.ser is not None:
            handler, self._port_handler = self._port_handler, None
            handler.closePort()

    # -- transactions ----------------------------------------------------------------------------------------------
    def _drain(self) -> None:
        serial_port = self._port_handler.ser
        waiting = serial_port.in_waiting
        if waiting:
            self.stats.garbage_bytes += len(serial_port.read(waiting))

    def _check(self, result: int, what: str) -> None:
        sdk = self._sdk
        if result == sdk.COMM_SUCCESS:
            return
        text = self._packet_handler.getTxRxResult(result)
        if result == sdk.COMM_RX_TIMEOUT:
            raise BusTimeout(f"{what} on {self.port}: {text}")
        if result == sdk.COMM_PORT_BUSY:
            raise BusDisconnected(f"{what} on {self.port}: port left busy by an interrupted transfer")
        raise BusProtocolError(f"{what} on {self.port}: {text}")

    def _sync_write(self, field: tuple[int, int], values: Mapping[int, int]) -> None:
        address, size = field
        group = self._sdk.GroupSyncWrite(self._port_handler, self._packet_handler, address, size)
        for dxl_id, value in values.items():
            group.addParam(dxl_id, list(dx.le_bytes(value, size)))
        self._drain()
        self._check(group.txPacket(), f"sync write @{address}")

    def _sync_read(self, field: tuple[int, int], ids: Sequence[int]) -> dict[int, int]:
        address, size = field
        group = self._sdk.GroupSyncRead(self._port_handler, self._packet_handler, address, size)
        for dxl_id in ids:
            group.addParam(dxl_id)
        self._drain()
        self._check(group.txRxPacket(), f"sync read @{address}")
        values = {}
        for dxl_id in ids:
            if not group.isAvailable(dxl_id, address, size):
                raise BusProtocolError(f"sync read @{address}: no data from ID {dxl_id}")
            values[dxl_id] = group.getData(dxl_id, address, size)
        return values

    # -- raw layer ---------------------------------------------------------------------------------------------------
    def _live_ids(self) -> list[int]:
        return [i for i in self._ids if i not in self.missing_ids]

    def _write_raw(self, targets: Mapping[int, float]) -> dict[int, float]:
        ticks: dict[int, int] = {}
        for dxl_id, raw in targets.items():
            if dxl_id in self.missing_ids:
                continue
            low, high = self._bounds[dxl_id]
            ticks[dxl_id] = min(max(int(round(raw)), low), high)
        if ticks:
            self._sync_write(dx.GOAL_POSITION, ticks)
        return {dxl_id: float(value) for dxl_id, value in ticks.items()}

    def _read_raw(self, channels: Sequence[int]) -> dict[int, float]:
        live = [c for c in channels if c not in self.missing_ids]
        values = self._sync_read(dx.PRESENT_POSITION, live)
        return {dxl_id: float(dx.to_signed32(value)) for dxl_id, value in values.items()}

    def _read_faults(self) -> list[ServoFault]:
        faults = [ServoFault(dxl_id, 0, ("not answering",)) for dxl_id in self.missing_ids]
        for dxl_id, code in self._sync_read(dx.HARDWARE_ERROR_STATUS, self._live_ids()).items():
            if code:
                faults.append(ServoFault(dxl_id, code, dx.decode_hardware_error(code)))
        return faults

    def _set_torque(self, channels: Sequence[int], enabled: bool) -> None:
        live = [c for c in channels if c not in self.missing_ids]
        if live:
            self._sync_write(dx.TORQUE_ENABLE, {dxl_id: int(enabled) for dxl_id in live})

    def reboot(self, dxl_id: int) -> None:
        """Clear a hardware error (the servo restarts with torque off)."""
        def operation() -> None:
            result, _ = self._packet_handler.reboot(self._port_handler, dxl_id)
            self._check(result, f"reboot ID {dxl_id}")
        self._call(operation, retry=False)
