"""The ROS-free servo control loop against the emulators: command validation, one transaction per tick,
unplug/replug with backoff, garbage and timeouts survived, shutdown behaviour, and the hard rule that
nothing outside the calibrated limits is ever received by the device."""
from __future__ import annotations

import time

import pytest

from talkface_ros.hardware.calibration import JointCalibration
from talkface_ros.hardware.emulator import DynamixelEmulator, MaestroEmulator
from talkface_ros.hardware.factory import make_bus
from talkface_ros.hardware.servo_loop import LoopConfig, ServoLoop

CONTROLLER = ["jaw", "eye_dxl", "lip_l", "brow"]


def face() -> list[JointCalibration]:
    return [
        JointCalibration("jaw", "maestro", 0, "rigid", 0.0, 0.4, 0.05, 3.0, 1200.0, 1900.0),
        JointCalibration("eye_dxl", "dynamixel", 1, "rigid", -0.5, 0.5, 0.0, 3.0, 1500.0, 2600.0),
        JointCalibration("lip_l", "maestro", 1, "tendon", 0.0, 0.01, 0.0, 0.05, 1000.0, 2000.0),
        JointCalibration("brow", "maestro", 2, "tendon", 0.0, 0.008, 0.002, 0.05, 1800.0, 1100.0),
    ]


def quarter_limits(cal: JointCalibration) -> tuple[int, int]:
    return round(cal.raw_min * 4), round(cal.raw_max * 4)


def assert_nothing_outside_limits(emulator: MaestroEmulator) -> None:
    for cal in face():
        if cal.bus != "maestro":
            continue
        low, high = quarter_limits(cal)
        received = [q for _, ch, q in emulator.received() if ch == cal.channel and q != 0]
        assert received, f"nothing received on channel {cal.channel}"
        assert all(low <= q <= high for q in received), (cal.joint, min(received), max(received), low, high)


def eventually(predicate, timeout: float = 2.0) -> bool:
    """The emulator serves on its own thread: poll instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def run_for(loop: ServoLoop, seconds: float, rate: float = 100.0, command=None) -> None:
    period = 1.0 / rate
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if command is not None:
            loop.set_command(command(time.monotonic()))
        loop.tick()
        time.sleep(period)


@pytest.fixture
def emulator():
    with MaestroEmulator(model="mini12") as emu:
        yield emu


def make_loop(emulator, **config) -> ServoLoop:
    bus = make_bus("maestro", emulator.path, face(), timeout=0.02)
    return ServoLoop(bus, face(), CONTROLLER, LoopConfig(**config))


def test_only_this_bus_joints_are_driven_and_neutral_comes_first(emulator):
    loop = make_loop(emulator, feedback_every=1)
    assert loop.tick()
    assert set(loop.last_sent) == {"jaw", "lip_l", "brow"}
    assert loop.last_sent == pytest.approx({"jaw": 0.05, "lip_l": 0.0, "brow": 0.002})
    loop.shutdown()


def test_bad_commands_are_rejected_or_held(emulator):
    loop = make_loop(emulator)
    assert "4 joints" in loop.set_command([0.1, 0.2])
    assert loop.commands_rejected == 1
    warning = loop.set_command([float("nan"), 0.0, 0.005, 99.0])
    assert "jaw" in warning
    assert loop.safe_pose == pytest.approx({"jaw": 0.05, "lip_l": 0.005, "brow": 0.008})
    loop.shutdown()


def test_unplug_mid_stream_then_replug_resumes_within_two_seconds(emulator):
    loop = make_loop(emulator, feedback_every=5)
    wave = lambda t: [0.2 + 0.5 * ((t * 3) % 1.0), 0.0, 0.02 * ((t * 2) % 1.0) - 0.005, 0.004]  # overshoots limits
    run_for(loop, 0.5, command=wave)
    assert loop.bus.is_connected
    emulator.unplug()
    run_for(loop, 0.5, command=wave)  # no exception escapes while the port is gone
    assert not loop.bus.is_connected
    status = loop.status()
    assert status.level == "error" and "disconnected" in status.message
    received_before = emulator.targets_received
    emulator.replug()
    replugged = time.monotonic()
    resumed = None
    while time.monotonic() - replugged < 3.0:
        loop.set_command(wave(time.monotonic()))
        loop.tick()
        if emulator.targets_received > received_before:
            resumed = time.monotonic() - replugged
            break
        time.sleep(0.01)
    assert resumed is not None and resumed < 2.0, resumed
    run_for(loop, 0.3, command=wave)
    assert loop.bus.stats.disconnects == 1 and loop.bus.stats.connects == 2
    assert loop.status().level == "ok"
    loop.shutdown()
    assert_nothing_outside_limits(emulator)


def test_reconnect_attempts_back_off(emulator):
    clock = [100.0]
    bus = make_bus("maestro", emulator.path, face(), timeout=0.02)
    loop = ServoLoop(bus, face(), CONTROLLER, LoopConfig(backoff_initial_s=0.1, backoff_max_s=0.4),
                     clock=lambda: clock[0])
    emulator.unplug()
    attempts = []
    for _ in range(200):  # 2 s of 10 ms ticks
        before = loop.connect_attempts
        loop.tick()
        if loop.connect_attempts > before:
            attempts.append(round(clock[0] - 100.0, 3))
        clock[0] += 0.01
    gaps = [round(b - a, 2) for a, b in zip(attempts, attempts[1:])]
    assert gaps[:3] == [0.1, 0.2, 0.4] and set(gaps[3:]) == {0.4}
    emulator.replug()
    for _ in range(50):
        loop.tick()
        clock[0] += 0.01
    assert loop.bus.is_connected
    loop.shutdown()


def test_garbage_and_timeouts_are_counted_and_survived(emulator):
    loop = make_loop(emulator, feedback_every=1, faults_every=10)
    run_for(loop, 0.2, command=lambda t: [0.2, 0.0, 0.005, 0.004])
    emulator.inject_garbage(bytes(range(0, 256, 3)))
    emulator.drop_replies(40)
    emulator.truncate_replies(3)
    run_for(loop, 0.6, command=lambda t: [0.3, 0.0, 0.006, 0.003])
    stats = loop.bus.stats
    assert stats.garbage_bytes > 0 and stats.timeouts > 0
    assert loop.bus.is_connected and stats.disconnects == 0
    assert loop.measured == pytest.approx({"jaw": 0.3, "lip_l": 0.006, "brow": 0.003}, abs=2e-3)
    loop.shutdown()
    assert_nothing_outside_limits(emulator)


def test_error_bits_show_in_status(emulator):
    loop = make_loop(emulator, faults_every=2)
    loop.tick()  # connects (which reads and clears stale errors)
    emulator.set_error_bits(1 << 1)
    run_for(loop, 0.1)
    status = loop.status()
    assert status.level == "warn" and "serial overrun error" in status.message
    assert loop.fault_reports == 1  # reading cleared it; it stays in the status for fault_hold_s
    loop.shutdown()


def test_shutdown_relax_turns_pulses_off(emulator):
    loop = make_loop(emulator, on_shutdown="relax")
    loop.set_command([0.3, 0.0, 0.005, 0.004])
    loop.tick()
    loop.shutdown()
    assert not loop.bus.is_connected
    assert eventually(lambda: emulator.targets()[:3] == [0, 0, 0])


def test_shutdown_neutral_holds_neutral(emulator):
    loop = make_loop(emulator, on_shutdown="neutral")
    loop.set_command([0.3, 0.0, 0.005, 0.004])
    loop.tick()
    loop.shutdown()
    jaw = face()[0]
    assert eventually(lambda: emulator.targets()[0] == round(jaw.to_raw(jaw.neutral) * 4))


def test_disable_relaxes_and_enable_resumes(emulator):
    loop = make_loop(emulator)
    loop.set_command([0.3, 0.0, 0.005, 0.004])
    loop.tick()
    loop.set_enabled(False)
    assert not loop.tick()
    assert eventually(lambda: emulator.targets()[0] == 0)
    loop.set_enabled(True)
    assert loop.tick()
    assert eventually(lambda: emulator.targets()[0] != 0)
    loop.shutdown()


def test_dynamixel_loop_unplug_replug():
    with DynamixelEmulator(ids=(1,)) as emu:
        bus = make_bus("dynamixel", emu.path, face(), timeout=0.02)
        loop = ServoLoop(bus, face(), CONTROLLER, LoopConfig(feedback_every=2))
        run_for(loop, 0.2, command=lambda t: [0.0, 9.0, 0.0, 0.0])
        emu.unplug()
        run_for(loop, 0.3, command=lambda t: [0.0, -9.0, 0.0, 0.0])
        emu.replug()
        run_for(loop, 1.5, command=lambda t: [0.0, -9.0, 0.0, 0.0])
        assert loop.bus.is_connected
        loop.shutdown()
        assert eventually(lambda: emu.register(1, (64, 1)) == 0)  # relaxed on shutdown
        assert emu.goal_range[1] == (1500, 2600)


def test_an_outage_is_reported_once_then_at_growing_intervals(emulator, caplog):
    # a missing port used to log a warning every second (and at each retry after the backoff's maximum)
    clock = [0.0]
    # the outage runs on the injected clock; only the replug's connect waits for the emulator's thread, and a
    # reply late under CPU load must not fail it (a prompt one returns at once)
    bus = make_bus("maestro", emulator.path, face(), timeout=1.0)
    loop = ServoLoop(bus, face(), CONTROLLER, LoopConfig(), clock=lambda: clock[0])
    emulator.unplug()

    def run(seconds: float) -> list[tuple[float, str]]:
        caplog.clear()
        warnings = []
        for _ in range(int(round(seconds * 100))):
            loop.tick()
            for record in caplog.records:
                if record.levelname == "WARNING":
                    warnings.append((round(clock[0], 2), record.getMessage()))
            caplog.clear()
            clock[0] += 0.01
        return warnings

    with caplog.at_level("WARNING", logger="talkface_ros.hardware.servo_loop"):
        warnings = run(100.0)
        assert loop.connect_attempts > 90  # retries stay fast: about one a second
        # at the first retry (one a second) from 0, 5, 15, 35 and 75 s on
        nominal = [0.0, 5.0, 15.0, 35.0, 75.0]
        assert len(warnings) == len(nominal) and all(0 <= t - n <= 1.0 for (t, _), n in zip(warnings, nominal)), warnings
        assert "not available" in warnings[0][1] and "reporting again in 5 s" in warnings[0][1]
        assert "still not available after 7" in warnings[-1][1] and "next report in 80 s" in warnings[-1][1]
        emulator.replug()
        with caplog.at_level("INFO", logger="talkface_ros.hardware.servo_loop"):
            caplog.clear()
            for _ in range(200):
                loop.tick()
                clock[0] += 0.01
                if loop.bus.is_connected:
                    break
            assert any("connected after" in r.getMessage() for r in caplog.records)
        # pulled out while driving: one 'lost' line, then quiet retries for 5 s, then growing intervals again
        emulator.unplug()
        warnings = run(20.0)
        assert "lost" in warnings[0][1] and len(warnings) == 3, warnings
        assert all(0 <= t - warnings[0][0] - n <= 1.0 for (t, _), n in zip(warnings[1:], [5.0, 15.0])), warnings
    loop.shutdown()


def test_a_port_lost_after_the_write_is_reported_once(caplog):
    from talkface_ros.hardware.bus import BusDisconnected

    class PulledAfterWriteBus:
        """The write lands in the kernel buffer; the feedback read then finds the port gone."""
        joint_names = ("jaw", "lip_l", "brow")
        is_connected = True
        fault_reads = 0

        def write_positions(self, positions):
            return dict(positions)

        def read_positions(self):
            self.is_connected = False
            raise BusDisconnected("/dev/ttyACM0 went away: device reports readiness to read but returned no data")

        def read_faults(self):
            self.fault_reads += 1
            raise BusDisconnected("/dev/ttyACM0 is not connected")

        def close(self):
            self.is_connected = False

    bus = PulledAfterWriteBus()
    loop = ServoLoop(bus, face(), CONTROLLER, LoopConfig(feedback_every=1, faults_every=1), clock=lambda: 0.0)
    with caplog.at_level("WARNING", logger="talkface_ros.hardware.servo_loop"):
        assert loop.tick()  # the write went out
    assert [r.getMessage() for r in caplog.records] == [
        "servo bus lost: /dev/ttyACM0 went away: device reports readiness to read but returned no data; reconnecting"]
    assert bus.fault_reads == 0


def test_a_new_reason_for_an_outage_is_reported_once_it_persists(caplog):
    from talkface_ros.hardware.bus import BusError

    class FlakyBus:
        joint_names = ("jaw", "lip_l", "brow")
        is_connected = False
        reason = "cannot open /dev/ttyACM0: no such file"

        def connect(self):
            raise BusError(self.reason)

        def close(self):
            pass

    clock = [0.0]
    bus = FlakyBus()
    loop = ServoLoop(bus, face(), CONTROLLER, LoopConfig(), clock=lambda: clock[0])
    with caplog.at_level("WARNING", logger="talkface_ros.hardware.servo_loop"):
        for _ in range(300):
            loop.tick()
            clock[0] += 0.01
        assert len(caplog.records) == 1
        bus.reason = "cannot open /dev/ttyACM0: permission denied"
        for _ in range(250):                 # two attempts with the new reason (retries about once a second)
            loop.tick()
            clock[0] += 0.01
        assert len(caplog.records) == 2 and "permission denied" in caplog.records[1].getMessage()
