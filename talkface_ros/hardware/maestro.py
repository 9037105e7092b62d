"""Pololu Maestro USB servo controllers over pyserial (user's guide 0J40, sections 4.b, 5.a, 5.e).

Wire units are quarter-microseconds; calibration raw units are microseconds. Two packet forms:
compact (`0x84, channel, low7, high7`) and Pololu (`0xAA, device, 0x04, channel, low7, high7`) for daisy
chains. Mini Maestros (12/18/24 channels) take Set Multiple Targets (one packet per contiguous run of
channels); the Micro Maestro (6 channels) gets one Set Target per channel, all in one write.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Mapping, Sequence

from talkface_ros.hardware.bus import (BusProtocolError, BusTimeout, SerialServoBus, ServoFault,
                                       contiguous_runs)
from talkface_ros.hardware.calibration import JointCalibration

log = logging.getLogger(__name__)

SET_TARGET = 0x84
SET_SPEED = 0x87
SET_ACCELERATION = 0x89
GET_POSITION = 0x90
GET_MOVING_STATE = 0x93
SET_MULTIPLE_TARGETS = 0x9F
GET_ERRORS = 0xA1
GO_HOME = 0xA2
POLOLU_START = 0xAA
DEFAULT_DEVICE_NUMBER = 12
MAX_14BIT = 0x3FFF

ERROR_BITS = (
    "serial signal error",
    "serial overrun error",
    "serial RX buffer full",
    "serial CRC error",
    "serial protocol error",
    "serial timeout error",
    "script stack error",
    "script call stack error",
    "script program counter error",
)

MODELS = {"micro6": 6, "mini12": 12, "mini18": 18, "mini24": 24}


# -- encoding (pure functions, byte-exact against the guide) ------------------------------------------------------
def split14(value: int) -> bytes:
    """A 14-bit value as (low 7 bits, high 7 bits)."""
    if not 0 <= value <= MAX_14BIT:
        raise ValueError(f"value {value} does not fit in 14 bits")
    return bytes((value & 0x7F, (value >> 7) & 0x7F))


def packet(command: int, data: bytes = b"", device: int | None = None) -> bytes:
    """Compact protocol when `device` is None, otherwise the Pololu protocol addressed to `device`."""
    if any(b & 0x80 for b in data):
        raise ValueError("Maestro data bytes must have the high bit clear")
    if device is None:
        return bytes((command,)) + data
    if not 0 <= device <= 127:
        raise ValueError(f"device number must be 0-127, got {device}")
    return bytes((POLOLU_START, device, command & 0x7F)) + data


def _channel(channel: int) -> int:
    if not 0 <= channel <= 23:
        raise ValueError(f"Maestro channel must be 0-23, got {channel}")
    return channel


def set_target(channel: int, quarter_us: int, device: int | None = None) -> bytes:
    return packet(SET_TARGET, bytes((_channel(channel),)) + split14(quarter_us), device)


def set_multiple_targets(first_channel: int, quarter_us: Sequence[int], device: int | None = None) -> bytes:
    if not quarter_us:
        raise ValueError("no targets")
    _channel(first_channel + len(quarter_us) - 1)
    data = bytes((len(quarter_us), _channel(first_channel))) + b"".join(split14(q) for q in quarter_us)
    return packet(SET_MULTIPLE_TARGETS, data, device)


def set_speed(channel: int, speed: int, device: int | None = None) -> bytes:
    """speed in (0.25 us)/(10 ms); 0 = unlimited."""
    return packet(SET_SPEED, bytes((_channel(channel),)) + split14(speed), device)


def set_acceleration(channel: int, acceleration: int, device: int | None = None) -> bytes:
    """acceleration 0-255 in (0.25 us)/(10 ms)/(80 ms); 0 = unlimited."""
    if not 0 <= acceleration <= 255:
        raise ValueError(f"acceleration must be 0-255, got {acceleration}")
    return packet(SET_ACCELERATION, bytes((_channel(channel),)) + split14(acceleration), device)


def get_position(channel: int, device: int | None = None) -> bytes:
    return packet(GET_POSITION, bytes((_channel(channel),)), device)


def get_errors(device: int | None = None) -> bytes:
    return packet(GET_ERRORS, b"", device)


def go_home(device: int | None = None) -> bytes:
    return packet(GO_HOME, b"", device)


def decode_errors(code: int) -> tuple[str, ...]:
    """Names of the set error bits (unknown bits as 'bit N')."""
    return tuple(ERROR_BITS[bit] if bit < len(ERROR_BITS) else f"bit {bit}"
                 for bit in range(16) if code & (1 << bit))


def us_to_quarter(us: float) -> int:
    return int(round(us * 4.0))


def speed_units(calibration: JointCalibration) -> int:
    """The calibration's max_speed as a Maestro speed ((0.25 us)/(10 ms)), at least 1 (0 would mean unlimited)."""
    us_per_s = calibration.speed_to_raw(calibration.max_speed)
    return int(min(max(round(us_per_s * 4.0 / 100.0), 1), MAX_14BIT))


# -- the driver ---------------------------------------------------------------------------------------------------
class MaestroBus(SerialServoBus):
    """A Pololu Maestro on a serial port (USB command port, usually /dev/ttyACM0).

    model: "mini12" | "mini18" | "mini24" | "micro6", or "auto" (probe channel 6 at connect: a Micro
    Maestro does not answer). device_number: None for the compact protocol, else the Pololu protocol.
    acceleration: 0-255 applied to every channel at connect (0 = unlimited); speeds come from max_speed.
    """

    BUS_NAME = "maestro"

    def __init__(self, port: str, calibrations: Sequence[JointCalibration], baud: int = 115200,
                 timeout: float = 0.05, retries: int = 2, model: str = "auto", device_number: int | None = None,
                 acceleration: int = 0) -> None:
        super().__init__(port, calibrations, baud, timeout, retries)
        if model != "auto" and model not in MODELS:
            raise ValueError(f"model must be 'auto' or one of {sorted(MODELS)}, got {model!r}")
        if not 0 <= acceleration <= 255:
            raise ValueError(f"acceleration must be 0-255, got {acceleration}")
        for c in calibrations:
            _channel(c.channel)
            if not (64.0 <= c.raw_min and c.raw_max <= 4000.0):
                raise ValueError(f"joint {c.joint!r}: pulse range {c.raw_min}-{c.raw_max} us is outside 64-4000 us")
        self.requested_model = model
        self.model = model
        self.device_number = device_number
        self.acceleration = acceleration
        self._serial = None
        # Quarter-us bounds per channel: rounding can never step outside the calibrated pulse range.
        self._bounds = {c.channel: (math.ceil(c.raw_min * 4.0), math.floor(c.raw_max * 4.0)) for c in calibrations}

    @property
    def uses_multiple_targets(self) -> bool:
        return self.model != "micro6"

    # -- port ---------------------------------------------------------------------------------------------------
    def _open(self) -> None:
        import serial

        self._serial = serial.Serial(self.port, baudrate=self.baud, timeout=self.timeout, write_timeout=1.0)
        self._drain()
        faults = self._read_faults()  # clears the error register left from before us
        if faults:
            log.warning("Maestro on %s had errors before connect: %s", self.port, "; ".join(map(str, faults)))
        if self.requested_model == "auto":
            self.model = self._probe_model()
            log.info("Maestro on %s: %s", self.port, self.model)
        highest = max(self._bounds)
        if highest >= MODELS.get(self.model, 24):
            raise BusProtocolError(f"channel {highest} does not exist on a {self.model} Maestro")
        setup = b"".join(set_speed(c.channel, speed_units(c), self.device_number) +
                         set_acceleration(c.channel, self.acceleration, self.device_number)
                         for c in self.calibrations.values())
        self._send(setup)

    def _close(self) -> None:
        if self._serial is not None:
            serial_port, self._serial = self._serial, None
            serial_port.close()

    def _probe_model(self) -> str:
        """A Mini Maestro answers Get Position on channel 6; a Micro Maestro (6 channels) does not."""
        for _attempt in range(1 + self.retries):  # a slow reply must not make a Mini look like a Micro
            try:
                self._query(get_position(6, self.device_number), 2)
                break
            except BusTimeout:
                continue
        else:
            self._read_faults()  # the probes set the protocol error bit: clear it
            return "micro6"
        return "mini24" if max(self._bounds) >= 18 else ("mini18" if max(self._bounds) >= 12 else "mini12")

    # -- bytes ----------------------------------------------------------------------------------------------------
    def _drain(self) -> int:
        """Discard unsolicited input (garbage, late replies); returns the byte count."""
        assert self._serial is not None
        waiting = self._serial.in_waiting
        if waiting:
            dropped = len(self._serial.read(waiting))
            self.stats.garbage_bytes += dropped
            log.debug("discarded %d unexpected bytes from %s", dropped, self.port)
            return dropped
        return 0

    def _send(self, data: bytes) -> None:
        assert self._serial is not None
        # pyserial's write hands every byte to the kernel (or raises); no tcdrain: waiting for the
        # device to read would only add latency to the control tick.
        written = self._serial.write(data)
        if written is not None and written != len(data):
            raise BusTimeout(f"wrote {written} of {len(data)} bytes")

    def _query(self, request: bytes, reply_length: int) -> bytes:
        assert self._serial is not None
        self._drain()
        self._send(request)
        deadline = time.monotonic() + self.timeout
        reply = b""
        while len(reply) < reply_length:
            chunk = self._serial.read(reply_length - len(reply))
            if not chunk and time.monotonic() >= deadline:
                break
            reply += chunk
        if len(reply) < reply_length:
            # A partial reply: whatever comes after is drained as garbage by the next query.
            raise BusTimeout(f"{self.port}: {len(reply)} of {reply_length} reply bytes")
        return reply

    # -- raw layer ------------------------------------------------------------------------------------------------
    def encode_targets(self, targets_quarter_us: Mapping[int, int]) -> bytes:
        """The bytes for one transaction: Set Multiple Targets per contiguous run, or one Set Target each."""
        if self.uses_multiple_targets:
            return b"".join(set_multiple_targets(run[0], [targets_quarter_us[ch] for ch in run], self.device_number)
                            for run in contiguous_runs(targets_quarter_us))
        return b"".join(set_target(ch, targets_quarter_us[ch], self.device_number)
                        for ch in sorted(targets_quarter_us))

    def _write_raw(self, targets: Mapping[int, float]) -> dict[int, float]:
        quarters: dict[int, int] = {}
        for channel, us in targets.items():
            low, high = self._bounds[channel]
            quarters[channel] = min(max(us_to_quarter(us), low), high)
        self._send(self.encode_targets(quarters))
        return {channel: q / 4.0 for channel, q in quarters.items()}

    def _read_raw(self, channels: Sequence[int]) -> dict[int, float]:
        request = b"".join(get_position(ch, self.device_number) for ch in channels)
        reply = self._query(request, 2 * len(channels))
        positions: dict[int, float] = {}
        for i, channel in enumerate(channels):
            quarter = reply[2 * i] | (reply[2 * i + 1] << 8)
            if quarter == 0:
                continue  # pulses off: no position to report
            if quarter > 4 * 4095:
                raise BusProtocolError(f"{self.port}: implausible position {quarter} on channel {channel}")
            positions[channel] = quarter / 4.0
        return positions

    def _read_faults(self) -> list[ServoFault]:
        reply = self._query(get_errors(self.device_number), 2)
        code = reply[0] | (reply[1] << 8)
        if code >> len(ERROR_BITS):
            raise BusProtocolError(f"{self.port}: implausible error register 0x{code:04x}")
        return [ServoFault(None, code, decode_errors(code))] if code else []

    def _set_torque(self, channels: Sequence[int], enabled: bool) -> None:
        """Hobby servos hold whatever target they get; relaxing means target 0 (no pulses)."""
        if enabled:
            return
        self._send(self.encode_targets({channel: 0 for channel in channels}))
