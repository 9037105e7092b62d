"""A Pololu Maestro on a pty: compact and Pololu protocols, targets, speed, positions, error register.

Behaviour follows the user's guide: a byte with the high bit set starts a command; a command byte where a
data byte was expected, or an unknown command, sets the protocol error bit (4). The Micro Maestro model
has 6 channels and no Set Multiple Targets. Every target received is recorded (channel, quarter-us), so
tests can assert that nothing outside the limits ever reached the device.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from talkface_ros.hardware import maestro as proto
from talkface_ros.hardware.emulator.base import PtyEmulator

PROTOCOL_ERROR = 1 << 4


@dataclass
class _Channel:
    target: int = 0  # quarter-us; 0 = off
    position: float = 0.0
    speed: int = 0
    acceleration: int = 0
    min_target: int | None = None
    max_target: int | None = None


@dataclass
class _Parser:
    command: int | None = None
    data: bytearray = field(default_factory=bytearray)
    pololu_stage: int = 0  # 0: not Pololu; 1: want device number; 2: want command


class MaestroEmulator(PtyEmulator):
    name = "Maestro"

    def __init__(self, link_path=None, model: str = "mini12", device_number: int = 12,
                 record_limit: int | None = 100_000) -> None:
        super().__init__(link_path)
        if model not in proto.MODELS:
            raise ValueError(f"model must be one of {sorted(proto.MODELS)}")
        self.model = model
        self.channel_count = proto.MODELS[model]
        self.device_number = device_number
        self.channels = [_Channel() for _ in range(self.channel_count)]
        self.error_bits = 0
        # (monotonic time, channel, quarter-us), newest last; record_limit None = unbounded, 0 = off.
        self.received_targets: deque[tuple[float, int, int]] = deque(maxlen=record_limit)
        self.record = record_limit != 0
        self.targets_received = 0
        self.commands_received = 0
        self._parser = _Parser()
        self._last_update = time.monotonic()

    # -- test helpers ----------------------------------------------------------------------------------------------
    def set_error_bits(self, bits: int) -> None:
        with self._lock:
            self.error_bits |= bits

    def targets(self) -> list[int]:
        with self._lock:
            return [c.target for c in self.channels]

    def received(self) -> list[tuple[float, int, int]]:
        """A snapshot of the recorded (time, channel, quarter-us) targets, safe while the device runs."""
        with self._lock:
            return list(self.received_targets)

    def target_range(self, channel: int) -> tuple[int | None, int | None]:
        """Smallest and largest non-zero target ever received on a channel (quarter-us)."""
        with self._lock:
            c = self.channels[channel]
            return c.min_target, c.max_target

    # -- protocol ----------------------------------------------------------------------------------------------------
    _DATA_LENGTH = {proto.SET_TARGET: 3, proto.SET_SPEED: 3, proto.SET_ACCELERATION: 3, proto.GET_POSITION: 1,
                    proto.GET_MOVING_STATE: 0, proto.GET_ERRORS: 0, proto.GO_HOME: 0}

    def handle_bytes(self, data: bytes) -> None:
        self._advance()
        p = self._parser
        for byte in data:
            if byte == proto.POLOLU_START:
                p.command, p.data, p.pololu_stage = None, bytearray(), 1
                continue
            if byte & 0x80:
                if p.command is not None or p.pololu_stage in (1, 2):
                    self.error_bits |= PROTOCOL_ERROR  # a new command interrupted the previous one
                p.command, p.data, p.pololu_stage = None, bytearray(), 0
                self._start(byte)
                continue
            if p.pololu_stage == 1:
                p.pololu_stage = 2 if byte == self.device_number else 3  # 3: not for us, ignore until next start
                continue
            if p.pololu_stage == 2:
                p.pololu_stage = 0
                self._start(byte | 0x80)
                continue
            if p.pololu_stage == 3 or p.command is None:
                if p.pololu_stage != 3:
                    self.error_bits |= PROTOCOL_ERROR  # a data byte with no command
                continue
            p.data.append(byte)
            self._maybe_execute()

    def _start(self, command: int) -> None:
        p = self._parser
        if command not in self._DATA_LENGTH and not (command == proto.SET_MULTIPLE_TARGETS
                                                     and self.model != "micro6"):
            self.error_bits |= PROTOCOL_ERROR
            p.command = None
            return
        p.command, p.data = command, bytearray()
        self._maybe_execute()

    def _maybe_execute(self) -> None:
        p = self._parser
        command, data = p.command, p.data
        if command == proto.SET_MULTIPLE_TARGETS:
            if len(data) < 2 or len(data) < 2 + 2 * data[0]:
                return
        elif len(data) < self._DATA_LENGTH[command]:
            return
        p.command, p.data = None, bytearray()
        self.commands_received += 1
        self._execute(command, bytes(data))

    def _execute(self, command: int, data: bytes) -> None:
        if command == proto.SET_TARGET:
            self._set_target(data[0], data[1] | (data[2] << 7))
        elif command == proto.SET_MULTIPLE_TARGETS:
            count, first = data[0], data[1]
            for i in range(count):
                self._set_target(first + i, data[2 + 2 * i] | (data[3 + 2 * i] << 7))
        elif command == proto.SET_SPEED:
            if self._valid(data[0]):
                self.channels[data[0]].speed = data[1] | (data[2] << 7)
        elif command == proto.SET_ACCELERATION:
            if self._valid(data[0]):
                self.channels[data[0]].acceleration = data[1] | (data[2] << 7)
        elif command == proto.GET_POSITION:
            if self._valid(data[0]):
                position = int(round(self.channels[data[0]].position))
                self.reply(bytes((position & 0xFF, position >> 8)))
        elif command == proto.GET_MOVING_STATE:
            moving = any(c.target and abs(c.position - c.target) > 0.5 for c in self.channels)
            self.reply(bytes((1 if moving else 0,)))
        elif command == proto.GET_ERRORS:
            code, self.error_bits = self.error_bits, 0
            self.reply(bytes((code & 0xFF, code >> 8)))
        elif command == proto.GO_HOME:
            for c in self.channels:
                c.target = 0
                c.position = 0.0

    def _valid(self, channel: int) -> bool:
        if channel >= self.channel_count:
            self.error_bits |= PROTOCOL_ERROR
            return False
        return True

    def _set_target(self, channel: int, quarter_us: int) -> None:
        if not self._valid(channel):
            return
        c = self.channels[channel]
        c.target = quarter_us
        self.targets_received += 1
        if quarter_us:
            c.min_target = quarter_us if c.min_target is None else min(c.min_target, quarter_us)
            c.max_target = quarter_us if c.max_target is None else max(c.max_target, quarter_us)
            if c.position == 0.0 or c.speed == 0:
                c.position = float(quarter_us)
        else:
            c.position = 0.0
        if self.record:
            self.received_targets.append((time.monotonic(), channel, quarter_us))

    def _advance(self) -> None:
        """Move each channel's pulse toward its target at its speed limit ((0.25 us)/(10 ms))."""
        now = time.monotonic()
        ticks = (now - self._last_update) / 0.01
        self._last_update = now
        for c in self.channels:
            if c.target == 0 or c.position == c.target:
                continue
            step = c.speed * ticks
            if c.speed == 0 or abs(c.target - c.position) <= step:
                c.position = float(c.target)
            else:
                c.position += step if c.target > c.position else -step
