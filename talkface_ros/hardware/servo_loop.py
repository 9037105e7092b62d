"""The servo driver's control loop, without ROS: commands in controller order -> one bus transaction per
tick; reconnect with backoff when the port goes away; the last safe pose is kept and re-sent after a
reconnect; relax or go neutral on shutdown.

`ServoLoop.tick()` never raises for bus trouble: it counts it, reports it in `status()` and carries on.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from talkface_ros.hardware.bus import BusDisconnected, BusError, ServoBus, ServoFault
from talkface_ros.hardware.calibration import JointCalibration

log = logging.getLogger(__name__)

SHUTDOWN_MODES = ("relax", "neutral")


@dataclass(frozen=True)
class LoopConfig:
    feedback_every: int = 5        # read positions every N ticks (0: never)
    faults_every: int = 100        # read hardware error flags every N ticks (0: never)
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 1.0     # so a re-plugged device is back well within 2 s
    # an outage is reported once, then again after 5, 15, 35, ... s (intervals doubling up to 5 min), and at once
    # when its reason changes: retries stay fast, the log stays readable
    warn_first_repeat_s: float = 5.0
    warn_max_interval_s: float = 300.0
    on_shutdown: str = "relax"
    fault_hold_s: float = 5.0      # a fault stays in the status this long after it was last read

    def __post_init__(self) -> None:
        if self.on_shutdown not in SHUTDOWN_MODES:
            raise ValueError(f"on_shutdown must be one of {SHUTDOWN_MODES}, got {self.on_shutdown!r}")
        if self.feedback_every < 0 or self.faults_every < 0:
            raise ValueError("feedback_every and faults_every must be >= 0")
        if not 0 < self.backoff_initial_s <= self.backoff_max_s:
            raise ValueError("need 0 < backoff_initial_s <= backoff_max_s")
        if not 0 < self.warn_first_repeat_s <= self.warn_max_interval_s:
            raise ValueError("need 0 < warn_first_repeat_s <= warn_max_interval_s")


@dataclass
class LoopStatus:
    connected: bool
    level: str                      # "ok" | "warn" | "error"
    message: str
    ticks: int
    commands_accepted: int
    commands_rejected: int
    connect_attempts: int
    bus: dict[str, int]
    faults: list[str] = field(default_factory=list)


class ServoLoop:
    """Drive the joints of one bus from commands given for all joints in controller order."""

    def __init__(self, bus: ServoBus, calibrations: Sequence[JointCalibration], controller_joints: Sequence[str],
                 config: LoopConfig = LoopConfig(), clock: Callable[[], float] = time.monotonic) -> None:
        self.bus = bus
        self.config = config
        self.clock = clock
        self.controller_joints = tuple(controller_joints)
        by_name = {c.joint: c for c in calibrations}
        missing = [name for name in bus.joint_names if name not in by_name]
        if missing:
            raise ValueError(f"no calibration for bus joints {missing}")
        not_in_controller = [name for name in bus.joint_names if name not in self.controller_joints]
        if not_in_controller:
            raise ValueError(f"bus joints {not_in_controller} are not in the controller's joint list")
        self.calibrations = {name: by_name[name] for name in bus.joint_names}
        # controller index -> bus joint, for the joints this bus drives (the others belong to other drivers)
        self._index = [(i, name) for i, name in enumerate(self.controller_joints) if name in self.calibrations]
        self.neutral = {name: c.neutral for name, c in self.calibrations.items()}
        self.safe_pose: dict[str, float] = dict(self.neutral)
        self.last_sent: dict[str, float] = {}
        self.measured: dict[str, float] = {}
        self.measured_at: float | None = None
        self.faults: list[ServoFault] = []   # the last non-empty fault report
        self.faults_seen_at: float | None = None
        self.fault_reports = 0
        self.enabled = True
        self.ticks = 0
        self.commands_accepted = 0
        self.commands_rejected = 0
        self.connect_attempts = 0
        self.last_error = ""
        self._backoff = config.backoff_initial_s
        self._next_attempt = 0.0
        self._fresh_feedback = False
        self._outage_since: float | None = None   # when the bus was first found missing (None: no outage)
        self._new_error: str | None = None        # an outage reason seen once, reported if it repeats
        self._outage_attempts = 0
        self._warn_interval = config.warn_first_repeat_s
        self._next_warning = 0.0
        self._warned_error: str | None = ""

    # -- commands -----------------------------------------------------------------------------------------------------
    def set_command(self, values: Sequence[float]) -> str | None:
        """A forward_command_controller command (one value per controller joint). Returns a warning, or None.

        A message of the wrong length is rejected whole; a non-finite value keeps that joint's last safe value;
        everything is clamped to the joint limits. The result becomes the new safe pose."""
        if len(values) != len(self.controller_joints):
            self.commands_rejected += 1
            return f"command has {len(values)} values, the controller has {len(self.controller_joints)} joints"
        bad = []
        for index, name in self._index:
            value = float(values[index])
            if not math.isfinite(value):
                bad.append(name)
                continue
            self.safe_pose[name] = self.calibrations[name].clamp(value)
        self.commands_accepted += 1
        if bad:
            return f"non-finite command for {bad}: holding their last safe values"
        return None

    def go_neutral(self) -> None:
        self.safe_pose = dict(self.neutral)

    def set_enabled(self, enabled: bool) -> None:
        """Disabled: relax the servos and stop writing; enabled: hold the safe pose again."""
        self.enabled = enabled
        if self.bus.is_connected:
            try:
                if enabled:
                    self.last_sent = self.bus.write_positions(self.safe_pose)
                    self.bus.enable_torque()
                else:
                    self.bus.relax()
            except BusError as error:
                self._on_bus_error(error)

    # -- the tick ------------------------------------------------------------------------------------------------------
    def tick(self) -> bool:
        """One control period. Returns True when a transaction went out."""
        self.ticks += 1
        if not self.bus.is_connected and not self._try_connect():
            return False
        if not self.enabled:
            return False
        try:
            self.last_sent = self.bus.write_positions(self.safe_pose)
        except BusError as error:
            self._on_bus_error(error)
            return False
        every = self.config.feedback_every
        if every and self.ticks % every == 0:
            self._read_feedback()
        every = self.config.faults_every
        # a port pulled out after the write fails the feedback read: the loss is reported once, not again here
        if every and self.ticks % every == 0 and self.bus.is_connected:
            self._read_faults()
        return True

    def take_feedback(self) -> dict[str, float] | None:
        """Measured positions read since the last call, or None."""
        if not self._fresh_feedback:
            return None
        self._fresh_feedback = False
        return dict(self.measured)

    def _try_connect(self) -> bool:
        now = self.clock()
        if now < self._next_attempt:
            return False
        self.connect_attempts += 1
        try:
            self.bus.connect()
            if self.enabled:
                self.last_sent = self.bus.write_positions(self.safe_pose)
                self.bus.enable_torque()
        except BusError as error:
            self.bus.close()
            self._next_attempt = now + self._backoff
            self.last_error = str(error)
            self._outage_attempts += 1
            self._warn_outage(now)
            self._backoff = min(self._backoff * 2.0, self.config.backoff_max_s)
            return False
        if self._outage_since is not None:
            log.info("servo bus connected after %.1f s (%d attempts); holding the last safe pose",
                     now - self._outage_since, self._outage_attempts)
        else:
            log.info("servo bus connected; holding the last safe pose")
        self._outage_since = None
        self._backoff = self.config.backoff_initial_s
        self.last_error = ""
        return True

    def _start_outage(self, now: float) -> None:
        self._outage_since = now
        self._new_error = None
        self._outage_attempts = 0
        self._warn_interval = self.config.warn_first_repeat_s
        self._next_warning = now + self._warn_interval

    def _warn_outage(self, now: float) -> None:
        """The first failed attempt of an outage warns; later ones at growing intervals or on a new reason
        (seen on two attempts in a row)."""
        if self._outage_since is None:
            self._start_outage(now)
            self._warned_error = self.last_error
            log.warning("servo bus not available (%s); retrying every %.1f s at most, reporting again in %.0f s",
                        self.last_error, self.config.backoff_max_s, self._warn_interval)
            return
        if self._warned_error is None:
            self._warned_error = self.last_error
        if self.last_error != self._warned_error and self.last_error != self._new_error:
            self._new_error = self.last_error  # a new reason is reported once a second attempt confirms it:
            return                             # a port being pulled out fails two ways in a row
        if now < self._next_warning and self.last_error == self._warned_error:
            return
        self._new_error = None
        self._warn_interval = min(self._warn_interval * 2.0, self.config.warn_max_interval_s)
        self._next_warning = now + self._warn_interval
        self._warned_error = self.last_error
        log.warning("servo bus still not available after %.0f s (%d attempts): %s; next report in %.0f s",
                    now - self._outage_since, self._outage_attempts, self.last_error, self._warn_interval)

    def _on_bus_error(self, error: BusError) -> None:
        self.last_error = str(error)
        if isinstance(error, BusDisconnected) or not self.bus.is_connected:
            log.warning("servo bus lost: %s; reconnecting", error)
            self.bus.close()
            self._backoff = self.config.backoff_initial_s
            self._next_attempt = self.clock() + self._backoff
            self._start_outage(self.clock())  # this warning is the outage's first: the retries stay quiet a while
            self._warned_error = None  # the first retry's reason is taken as the one reported
        else:
            log.debug("servo bus error (counted, carrying on): %s", error)

    def _read_feedback(self) -> None:
        try:
            self.measured = self.bus.read_positions()
        except BusError as error:
            self._on_bus_error(error)
            return
        self.measured_at = self.clock()
        self._fresh_feedback = True

    def _read_faults(self) -> None:
        try:
            faults = self.bus.read_faults()
        except BusError as error:
            self._on_bus_error(error)
            return
        if faults:
            log.warning("servo faults: %s", "; ".join(map(str, faults)))
            self.faults = faults
            self.faults_seen_at = self.clock()
            self.fault_reports += 1

    # -- shutdown and status --------------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Relax, or go to neutral and hold, per config; then close the port. Never raises."""
        try:
            if self.bus.is_connected or self._try_connect_now():
                if self.config.on_shutdown == "neutral":
                    self.last_sent = self.bus.write_positions(self.neutral)
                else:
                    self.bus.relax()
        except BusError as error:
            log.warning("servo shutdown (%s) did not complete: %s", self.config.on_shutdown, error)
        finally:
            self.bus.close()

    def _try_connect_now(self) -> bool:
        try:
            self.bus.connect()
            return True
        except BusError:
            return False

    def status(self) -> LoopStatus:
        stats = getattr(self.bus, "stats", None)
        bus_stats = stats.as_dict() if stats is not None else {}
        connected = self.bus.is_connected
        recent_faults = (self.faults_seen_at is not None
                         and self.clock() - self.faults_seen_at <= self.config.fault_hold_s)
        if not connected:
            level, message = "error", f"disconnected: {self.last_error or 'not connected yet'}"
        elif recent_faults:
            level, message = "warn", "; ".join(map(str, self.faults))
        elif not self.enabled:
            level, message = "ok", "disabled (relaxed)"
        else:
            level, message = "ok", "ok"
        return LoopStatus(connected=connected, level=level, message=message, ticks=self.ticks,
                          commands_accepted=self.commands_accepted, commands_rejected=self.commands_rejected,
                          connect_attempts=self.connect_attempts, bus=bus_stats,
                          faults=[str(f) for f in self.faults] if recent_faults else [])
