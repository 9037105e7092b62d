"""`ServoBus`: the interface every servo driver implements, and `SerialServoBus`, the shared logic of
drivers on a serial port (name <-> channel maps, unit conversion and clamping, retries, counters).

Callers speak joint units (radians, metres) by joint name; drivers speak raw units by channel. The only
way a target reaches the wire is through `SerialServoBus.write_positions`, which clamps every value to
its calibrated limits and returns what it actually sent.
"""
from __future__ import annotations

import logging
import math
import threading
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Callable, Iterable, Mapping, Sequence, TypeVar

from talkface_ros.hardware.calibration import JointCalibration

log = logging.getLogger(__name__)
T = TypeVar("T")


class BusError(RuntimeError):
    """Base class of servo bus problems."""


class BusDisconnected(BusError):
    """The port is gone (unplugged, never there, permission denied): reconnect later."""


class BusTimeout(BusError):
    """The device did not answer, or answered only in part."""


class BusProtocolError(BusError):
    """The device answered something that does not parse (garbage, bad CRC, implausible value)."""


@dataclass(frozen=True)
class ServoFault:
    """An error reported by the hardware. channel None: the controller itself (e.g. Maestro error bits)."""

    channel: int | None
    code: int
    names: tuple[str, ...]

    def __str__(self) -> str:
        where = "controller" if self.channel is None else f"channel {self.channel}"
        return f"{where}: 0x{self.code:04x} ({', '.join(self.names) or 'unknown'})"


@dataclass
class BusStats:
    """Counters a node reports in diagnostics."""

    connects: int = 0
    disconnects: int = 0
    writes: int = 0
    reads: int = 0
    timeouts: int = 0
    protocol_errors: int = 0
    garbage_bytes: int = 0
    retries: int = 0
    rejected_values: int = 0
    clamped_values: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class ServoBus(ABC):
    """A set of servos on one bus, addressed by joint name in joint units."""

    @property
    @abstractmethod
    def joint_names(self) -> tuple[str, ...]:
        """Joints on this bus, in calibration order."""

    @property
    @abstractmethod
    def is_connected(self) -> bool: ...

    @abstractmethod
    def connect(self) -> None:
        """Open the port and prepare the servos. Raises BusDisconnected when the port cannot be opened."""

    @abstractmethod
    def close(self) -> None:
        """Close the port (idempotent, never raises)."""

    @abstractmethod
    def write_positions(self, positions: Mapping[str, float]) -> dict[str, float]:
        """Send targets for some or all joints in ONE transaction; returns what was sent (joint units, clamped)."""

    @abstractmethod
    def read_positions(self) -> dict[str, float]:
        """Measured (or, for hobby servos, commanded) positions in joint units, for joints that report one."""

    @abstractmethod
    def read_faults(self) -> list[ServoFault]:
        """Hardware error flags, decoded. Reading may clear them (Maestro)."""

    @abstractmethod
    def enable_torque(self) -> None: ...

    @abstractmethod
    def relax(self) -> None:
        """Stop holding: torque off (Dynamixel) or pulses off (Maestro)."""

    def __enter__(self) -> "ServoBus":
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SerialServoBus(ServoBus):
    """Shared logic for drivers on a serial port. Subclasses implement the `_`-prefixed raw methods."""

    BUS_NAME = ""

    def __init__(self, port: str, calibrations: Sequence[JointCalibration], baud: int, timeout: float = 0.05,
                 retries: int = 2) -> None:
        if not calibrations:
            raise ValueError(f"{type(self).__name__}: no joints to drive")
        wrong = [c.joint for c in calibrations if c.bus != self.BUS_NAME]
        if wrong:
            raise ValueError(f"{type(self).__name__}: joints {wrong} are not on a {self.BUS_NAME} bus")
        names = [c.joint for c in calibrations]
        channels = [c.channel for c in calibrations]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate joint names: {names}")
        if len(set(channels)) != len(channels):
            raise ValueError(f"two joints share a channel: {dict(zip(names, channels))}")
        self.port = port
        self.baud = int(baud)
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.calibrations: dict[str, JointCalibration] = {c.joint: c for c in calibrations}
        self.channel_of: dict[str, int] = {c.joint: c.channel for c in calibrations}
        self.joint_of: dict[int, str] = {c.channel: c.joint for c in calibrations}
        self.stats = BusStats()
        self._names = tuple(names)
        self._connected = False
        self._lock = threading.RLock()

    # -- raw layer, per vendor ---------------------------------------------------------------------------------
    @abstractmethod
    def _open(self) -> None:
        """Open the port and set the device up (speed limits, modes). May raise OSError/SerialException."""

    @abstractmethod
    def _close(self) -> None: ...

    @abstractmethod
    def _write_raw(self, targets: Mapping[int, float]) -> dict[int, float]:
        """Send channel -> raw target in one transaction; returns the raw values actually put on the wire."""

    @abstractmethod
    def _read_raw(self, channels: Sequence[int]) -> dict[int, float]:
        """channel -> raw position; channels that report no position are left out."""

    @abstractmethod
    def _read_faults(self) -> list[ServoFault]: ...

    @abstractmethod
    def _set_torque(self, channels: Sequence[int], enabled: bool) -> None: ...

    def _disconnect_errors(self) -> tuple[type[BaseException], ...]:
        """Exceptions that mean the port is gone."""
        import termios

        import serial

        return (OSError, termios.error, serial.SerialException)

    # -- public API ----------------------------------------------------------------------------------------------
    @property
    def joint_names(self) -> tuple[str, ...]:
        return self._names

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self) -> None:
        with self._lock:
            if self._connected:
                return
            try:
                self._open()
            except self._disconnect_errors() as error:
                self._safe_close()
                hint = ""
                if "Permission denied" in str(error) or getattr(error, "errno", None) == 13:
                    hint = " (add the user to the 'dialout' group: see docs/hardware.md)"
                raise BusDisconnected(f"cannot open {self.port}: {error}{hint}") from error
            except BusError:
                self._safe_close()
                raise
            self._connected = True
            self.stats.connects += 1
            log.info("%s bus connected on %s (%d joints)", self.BUS_NAME, self.port, len(self._names))

    def close(self) -> None:
        with self._lock:
            self._safe_close()
            self._connected = False

    def _safe_close(self) -> None:
        try:
            self._close()
        except Exception as error:  # closing a vanished port may fail in many ways; it is closed either way
            log.debug("closing %s: %s", self.port, error)

    def clamp_targets(self, positions: Mapping[str, float]) -> dict[str, float]:
        """Joint name -> clamped position; unknown names are an error, non-finite values are dropped (counted)."""
        clamped: dict[str, float] = {}
        for name, value in positions.items():
            calibration = self.calibrations.get(name)
            if calibration is None:
                raise KeyError(f"joint {name!r} is not on this bus (have {list(self._names)})")
            value = float(value)
            if not math.isfinite(value):
                self.stats.rejected_values += 1
                continue
            limited = calibration.clamp(value)
            if limited != value:
                self.stats.clamped_values += 1
            clamped[name] = limited
        return clamped

    def write_positions(self, positions: Mapping[str, float]) -> dict[str, float]:
        clamped = self.clamp_targets(positions)
        raw: dict[int, float] = {}
        for name, value in clamped.items():
            raw[self.channel_of[name]] = self.calibrations[name].to_raw(value)
        if not raw:
            return {}
        sent = self._call(lambda: self._write_raw(raw), retry=False)
        self.stats.writes += 1
        return {self.joint_of[ch]: self.calibrations[self.joint_of[ch]].from_raw(value) for ch, value in sent.items()}

    def read_positions(self) -> dict[str, float]:
        channels = [self.channel_of[name] for name in self._names]
        raw = self._call(lambda: self._read_raw(channels), retry=True)
        self.stats.reads += 1
        return {self.joint_of[ch]: self.calibrations[self.joint_of[ch]].from_raw(value) for ch, value in raw.items()}

    def read_faults(self) -> list[ServoFault]:
        return self._call(self._read_faults, retry=True)

    def enable_torque(self) -> None:
        channels = [self.channel_of[name] for name in self._names]
        self._call(lambda: self._set_torque(channels, True), retry=False)

    def relax(self) -> None:
        channels = [self.channel_of[name] for name in self._names]
        self._call(lambda: self._set_torque(channels, False), retry=False)

    def _call(self, operation: Callable[[], T], retry: bool) -> T:
        """Run a raw operation: port errors -> BusDisconnected (and closed); timeouts and garbage are
        counted and retried (`retries` times) when the operation is a read."""
        with self._lock:
            if not self._connected:
                raise BusDisconnected(f"{self.port} is not connected")
            attempts = 1 + (self.retries if retry else 0)
            for attempt in range(attempts):
                try:
                    return operation()
                except self._disconnect_errors() as error:
                    self._safe_close()
                    self._connected = False
                    self.stats.disconnects += 1
                    raise BusDisconnected(f"{self.port} went away: {error}") from error
                except BusTimeout:
                    self.stats.timeouts += 1
                    if attempt + 1 >= attempts:
                        raise
                except BusProtocolError:
                    self.stats.protocol_errors += 1
                    if attempt + 1 >= attempts:
                        raise
                self.stats.retries += 1
            raise AssertionError("unreachable")


def contiguous_runs(channels: Iterable[int]) -> list[list[int]]:
    """Sorted channels grouped into runs of consecutive numbers: [0,1,2,5,6] -> [[0,1,2],[5,6]]."""
    runs: list[list[int]] = []
    for channel in sorted(channels):
        if runs and channel == runs[-1][-1] + 1:
            runs[-1].append(channel)
        else:
            runs.append([channel])
    return runs
