"""Dynamixel X-series servos (Protocol 2.0) on a pty: ping, read, write, reboot, sync read, sync write.

Each emulated servo has a control table; with torque on, the present position moves toward the goal at
the profile velocity. Extra faults: corrupt_replies(n) (bad CRC) and set_hardware_error(id, bits)
(alert bit in every status packet, torque off, as the real servo does; REBOOT clears it).
"""
from __future__ import annotations

import time
from collections import deque

from talkface_ros.hardware import dynamixel_protocol as dx
from talkface_ros.hardware.emulator.base import PtyEmulator


class _Servo:
    def __init__(self, dxl_id: int) -> None:
        self.table = bytearray(256)
        self.present = 2048.0
        self._put(dx.MODEL_NUMBER, dx.XM430_W350)
        self._put(dx.FIRMWARE_VERSION, 45)
        self._put(dx.ID, dxl_id)
        self._put(dx.OPERATING_MODE, dx.POSITION_MODE)
        self._put(dx.GOAL_POSITION, 2048)
        self._put(dx.PRESENT_POSITION, 2048)

    def get(self, field: tuple[int, int]) -> int:
        address, size = field
        return int.from_bytes(self.table[address:address + size], "little")

    def _put(self, field: tuple[int, int], value: int) -> None:
        address, size = field
        self.table[address:address + size] = dx.le_bytes(value, size)

    def advance(self, seconds: float) -> None:
        if self.get(dx.TORQUE_ENABLE):
            goal = dx.to_signed32(self.get(dx.GOAL_POSITION))
            velocity = self.get(dx.PROFILE_VELOCITY) * dx.PROFILE_VELOCITY_UNIT_TICKS_PER_S
            step = velocity * seconds
            if velocity == 0 or abs(goal - self.present) <= step:
                self.present = float(goal)
            else:
                self.present += step if goal > self.present else -step
        self._put(dx.PRESENT_POSITION, int(round(self.present)))


class DynamixelEmulator(PtyEmulator):
    name = "Dynamixel"

    def __init__(self, link_path=None, ids: tuple[int, ...] = (1, 2, 3), record_limit: int | None = 100_000) -> None:
        super().__init__(link_path)
        self.servos = {dxl_id: _Servo(dxl_id) for dxl_id in ids}
        self.received_goals: deque[tuple[float, int, int]] = deque(maxlen=record_limit)
        self.record = record_limit != 0
        self.goal_range: dict[int, tuple[int, int]] = {}
        self.crc_errors = 0
        self._buffer = bytearray()
        self._corrupt = 0
        self._last_update = time.monotonic()

    # -- test helpers ----------------------------------------------------------------------------------------------
    def set_hardware_error(self, dxl_id: int, bits: int) -> None:
        with self._lock:
            servo = self.servos[dxl_id]
            servo._put(dx.HARDWARE_ERROR_STATUS, bits)
            servo._put(dx.TORQUE_ENABLE, 0)

    def corrupt_replies(self, count: int) -> None:
        with self._lock:
            self._corrupt += count

    def register(self, dxl_id: int, field: tuple[int, int]) -> int:
        with self._lock:
            return self.servos[dxl_id].get(field)

    # -- protocol ----------------------------------------------------------------------------------------------------
    def reply(self, data: bytes) -> None:
        if self._corrupt:
            self._corrupt -= 1
            data = data[:-1] + bytes((data[-1] ^ 0x5A,))
        super().reply(data)

    def handle_bytes(self, data: bytes) -> None:
        now = time.monotonic()
        for servo in self.servos.values():
            servo.advance(now - self._last_update)
        self._last_update = now
        self._buffer += data
        while True:
            start = self._buffer.find(dx.HEADER)
            if start < 0:
                del self._buffer[:-3]  # keep a possible partial header
                return
            del self._buffer[:start]
            if len(self._buffer) < 7:
                return
            total = 7 + (self._buffer[5] | (self._buffer[6] << 8))
            if len(self._buffer) < total:
                return
            packet = bytes(self._buffer[:total])
            del self._buffer[:total]
            if dx.crc16(packet[:-2]) != (packet[-2] | (packet[-1] << 8)):
                self.crc_errors += 1
                if packet[4] in self.servos:
                    self._status(packet[4], 3)  # CRC error
                continue
            body = dx.unstuff(packet[7:-2])
            self._dispatch(packet[4], body[0], body[1:])

    def _status(self, dxl_id: int, error: int = 0, params: bytes = b"") -> None:
        if self.servos[dxl_id].get(dx.HARDWARE_ERROR_STATUS):
            error |= dx.ALERT
        self.reply(dx.build_status(dxl_id, error, params))

    def _dispatch(self, dxl_id: int, instruction: int, params: bytes) -> None:
        ours = dxl_id in self.servos
        if instruction == dx.PING:
            for target in (sorted(self.servos) if dxl_id == dx.BROADCAST_ID else [dxl_id] if ours else []):
                servo = self.servos[target]
                self._status(target, 0, dx.le_bytes(servo.get(dx.MODEL_NUMBER), 2)
                             + bytes((servo.get(dx.FIRMWARE_VERSION),)))
        elif instruction == dx.READ and ours:
            address, length = params[0] | (params[1] << 8), params[2] | (params[3] << 8)
            if address + length > 256:
                self._status(dxl_id, 4)
            else:
                self._status(dxl_id, 0, bytes(self.servos[dxl_id].table[address:address + length]))
        elif instruction == dx.WRITE and ours:
            address = params[0] | (params[1] << 8)
            error = self._write(dxl_id, address, params[2:])
            self._status(dxl_id, error)
        elif instruction == dx.REBOOT and ours:
            self._status(dxl_id, 0)
            servo = self.servos[dxl_id]
            servo._put(dx.HARDWARE_ERROR_STATUS, 0)
            servo._put(dx.TORQUE_ENABLE, 0)
        elif instruction == dx.SYNC_READ and dxl_id == dx.BROADCAST_ID:
            address, length = params[0] | (params[1] << 8), params[2] | (params[3] << 8)
            for target in params[4:]:
                if target in self.servos:
                    self._status(target, 0, bytes(self.servos[target].table[address:address + length]))
        elif instruction == dx.SYNC_WRITE and dxl_id == dx.BROADCAST_ID:
            address, length = params[0] | (params[1] << 8), params[2] | (params[3] << 8)
            for offset in range(4, len(params) - length, length + 1):
                target = params[offset]
                if target in self.servos:
                    self._write(target, address, params[offset + 1:offset + 1 + length])
        elif ours:
            self._status(dxl_id, 2)  # instruction error

    def _write(self, dxl_id: int, address: int, data: bytes) -> int:
        """Apply a write; returns the status error (0 ok, 7 access: EEPROM while torque is on)."""
        servo = self.servos[dxl_id]
        if address + len(data) > 256:
            return 4
        if address < dx.TORQUE_ENABLE[0] and servo.get(dx.TORQUE_ENABLE):
            return 7
        if address == dx.TORQUE_ENABLE[0] and data and data[0] and servo.get(dx.HARDWARE_ERROR_STATUS):
            return 7  # a servo in shutdown refuses torque until rebooted
        servo.table[address:address + len(data)] = data
        goal_address = dx.GOAL_POSITION[0]
        if address <= goal_address and address + len(data) >= goal_address + 4:
            goal = dx.to_signed32(servo.get(dx.GOAL_POSITION))
            low, high = self.goal_range.get(dxl_id, (goal, goal))
            self.goal_range[dxl_id] = (min(low, goal), max(high, goal))
            if self.record:
                self.received_goals.append((time.monotonic(), dxl_id, goal))
        return 0
