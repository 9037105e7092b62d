"""Pololu Maestro: byte-exact encoding against the user's guide, and the driver against the pty emulator
(including faults: garbage, dropped and truncated replies, error bits, Micro Maestro fallback)."""
from __future__ import annotations

import os

import pytest

from talkface_ros.hardware import maestro as proto
from talkface_ros.hardware.bus import BusDisconnected, BusTimeout
from talkface_ros.hardware.calibration import JointCalibration
from talkface_ros.hardware.emulator import MaestroEmulator
from talkface_ros.hardware.maestro import MaestroBus


def cal(joint: str, channel: int, raw_lower=1000.0, raw_upper=2000.0, lower=-0.5, upper=0.5,
        max_speed=4.0) -> JointCalibration:
    return JointCalibration(joint=joint, bus="maestro", channel=channel, kind="rigid", lower=lower, upper=upper,
                            neutral=0.0, max_speed=max_speed, raw_at_lower=raw_lower, raw_at_upper=raw_upper)


# -- byte-exact examples from the guide ------------------------------------------------------------------------------
def test_set_target_compact_example():
    assert proto.set_target(0, 6000) == bytes.fromhex("84 00 70 2E")


def test_set_multiple_targets_example():
    assert proto.set_multiple_targets(3, [0, 6000]) == bytes.fromhex("9F 02 03 00 00 70 2E")


def test_pololu_protocol_example():
    # 7000 quarter-us = 1750 us on channel 0 of device 12
    assert proto.set_target(0, 7000, device=12) == bytes.fromhex("AA 0C 04 00 58 36")


def test_other_commands():
    assert proto.get_position(5) == bytes.fromhex("90 05")
    assert proto.get_errors() == bytes.fromhex("A1")
    assert proto.get_errors(device=12) == bytes.fromhex("AA 0C 21")
    assert proto.go_home() == bytes.fromhex("A2")
    assert proto.set_speed(1, 140) == bytes.fromhex("87 01 0C 01")
    assert proto.set_acceleration(2, 255) == bytes.fromhex("89 02 7F 01")


def test_encoding_rejects_out_of_range_values():
    with pytest.raises(ValueError):
        proto.set_target(24, 6000)
    with pytest.raises(ValueError):
        proto.set_target(0, 0x4000)
    with pytest.raises(ValueError):
        proto.set_multiple_targets(23, [6000, 6000])
    with pytest.raises(ValueError):
        proto.set_acceleration(0, 256)


def test_decode_errors():
    assert proto.decode_errors(0) == ()
    assert proto.decode_errors(0x0011) == ("serial signal error", "serial protocol error")
    assert proto.decode_errors(1 << 8) == ("script program counter error",)


def test_speed_units_from_max_speed():
    # 1000 us over 1 rad; 4 rad/s = 4000 us/s = 16000 quarter-us/s = 160 per 10 ms
    assert proto.speed_units(cal("a", 0)) == 160


def test_transaction_uses_contiguous_runs_on_mini_and_set_target_on_micro():
    calibrations = [cal("a", 0), cal("b", 1), cal("c", 4)]
    mini = MaestroBus("/dev/null", calibrations, model="mini12")
    assert mini.encode_targets({0: 6000, 1: 6004, 4: 7000}) == (
        bytes.fromhex("9F 02 00 70 2E 74 2E") + bytes.fromhex("9F 01 04 58 36"))
    micro = MaestroBus("/dev/null", calibrations, model="micro6")
    assert micro.encode_targets({0: 6000, 1: 6004, 4: 7000}) == (
        bytes.fromhex("84 00 70 2E") + bytes.fromhex("84 01 74 2E") + bytes.fromhex("84 04 58 36"))


def test_bad_configuration_is_rejected():
    with pytest.raises(ValueError, match="pulse range"):
        MaestroBus("/dev/null", [cal("a", 0, raw_lower=10.0)])
    with pytest.raises(ValueError, match="share a channel"):
        MaestroBus("/dev/null", [cal("a", 0), cal("b", 0)])
    with pytest.raises(ValueError, match="not on a maestro bus"):
        MaestroBus("/dev/null", [JointCalibration("d", "dynamixel", 1, "rigid", 0, 1, 0, 1, 0, 4095)])


# -- against the emulator ----------------------------------------------------------------------------------------------
@pytest.fixture
def emulator():
    with MaestroEmulator(model="mini12") as emu:
        yield emu


def joints():
    return [cal("jaw", 0), cal("lip_l", 1, raw_lower=2100.0, raw_upper=900.0), cal("brow", 3)]


def test_write_read_round_trip_in_joint_units(emulator):
    with MaestroBus(emulator.path, joints()) as bus:
        assert bus.model == "mini12"
        sent = bus.write_positions({"jaw": 0.25, "lip_l": -0.5, "brow": 0.0})
        assert sent == pytest.approx({"jaw": 0.25, "lip_l": -0.5, "brow": 0.0})
        assert bus.read_positions() == pytest.approx({"jaw": 0.25, "lip_l": -0.5, "brow": 0.0})
        assert emulator.targets()[:4] == [7000, 8400, 0, 6000]
    # speeds from max_speed were set at connect (4 rad/s * 1000 us/rad -> 160; reversed 1200 us/rad -> 192)
    assert emulator.channels[0].speed == 160 and emulator.channels[1].speed == 192


def test_out_of_limit_and_nan_targets_never_reach_the_wire(emulator):
    with MaestroBus(emulator.path, joints()) as bus:
        sent = bus.write_positions({"jaw": 9.0, "lip_l": -9.0, "brow": float("nan")})
        assert sent == pytest.approx({"jaw": 0.5, "lip_l": -0.5})
        assert bus.stats.clamped_values == 2 and bus.stats.rejected_values == 1
        bus.read_positions()  # a round trip: the emulator has processed everything
    assert emulator.target_range(0) == (8000, 8000)
    assert emulator.target_range(1) == (8400, 8400)
    assert emulator.target_range(3) == (None, None)


def test_pololu_protocol_against_emulator():
    with MaestroEmulator(model="mini18", device_number=7) as emu:
        with MaestroBus(emu.path, joints(), device_number=7, model="mini18") as bus:
            bus.write_positions({"jaw": 0.0})
            assert bus.read_positions()["jaw"] == pytest.approx(0.0)
        assert emu.targets()[0] == 6000
        assert emu.error_bits == 0


def test_micro_maestro_is_detected_and_gets_per_channel_targets():
    with MaestroEmulator(model="micro6") as emu:
        with MaestroBus(emu.path, joints()) as bus:
            assert bus.model == "micro6" and not bus.uses_multiple_targets
            bus.write_positions({"jaw": 0.5, "brow": -0.5})
            assert bus.read_positions() == pytest.approx({"jaw": 0.5, "brow": -0.5})  # lip_l: never set, off
            assert bus.read_faults() == []  # the probe's protocol error was cleared, nothing new since
        assert emu.targets()[0] == 8000 and emu.targets()[3] == 4000


def test_relax_turns_pulses_off(emulator):
    with MaestroBus(emulator.path, joints()) as bus:
        bus.write_positions({"jaw": 0.0, "lip_l": 0.0, "brow": 0.0})
        bus.relax()
        assert bus.read_positions() == {}  # pulses off: nothing to report
    assert emulator.targets()[:4] == [0, 0, 0, 0]


def test_error_bits_are_decoded_and_cleared(emulator):
    with MaestroBus(emulator.path, joints()) as bus:
        emulator.set_error_bits(0b1_0000_0010)
        faults = bus.read_faults()
        assert len(faults) == 1 and faults[0].code == 0x102
        assert faults[0].names == ("serial overrun error", "script program counter error")
        assert bus.read_faults() == []


def test_garbage_is_discarded_and_counted(emulator):
    with MaestroBus(emulator.path, joints()) as bus:
        bus.write_positions({"jaw": 0.1})
        emulator.inject_garbage(b"\x13\x37\xff\x00\x42")
        import time
        time.sleep(0.05)
        assert bus.read_positions()["jaw"] == pytest.approx(0.1)
        assert bus.stats.garbage_bytes == 5


def test_dropped_and_truncated_replies_are_retried_and_counted(emulator):
    with MaestroBus(emulator.path, joints(), timeout=0.03, retries=2) as bus:
        bus.write_positions({"jaw": 0.2})
        # one read = 3 Get Position replies: the 1st is dropped, the 2nd cut short -> one timeout, one retry
        emulator.drop_replies(1)
        emulator.truncate_replies(1)
        assert bus.read_positions()["jaw"] == pytest.approx(0.2)
        assert bus.stats.timeouts == 1 and bus.stats.retries == 1
        emulator.drop_replies(9)  # every attempt (1 + 2 retries) loses all 3 replies
        with pytest.raises(BusTimeout):
            bus.read_positions()
        assert bus.is_connected  # a timeout is not a disconnect
        assert bus.read_positions()["jaw"] == pytest.approx(0.2)


def test_unplug_raises_disconnected_and_replug_reconnects(emulator):
    bus = MaestroBus(emulator.path, joints())
    bus.connect()
    bus.write_positions({"jaw": 0.1})
    emulator.unplug()
    assert not os.path.exists(emulator.path)
    with pytest.raises(BusDisconnected):
        for _ in range(3):  # the first write may still land in the kernel buffer
            bus.write_positions({"jaw": 0.2})
            bus.read_positions()
    assert not bus.is_connected
    with pytest.raises(BusDisconnected):
        bus.connect()  # the path is gone
    emulator.replug()
    bus.connect()
    bus.write_positions({"jaw": 0.3})
    bus.read_positions()  # a round trip: the write has been processed
    assert emulator.targets()[0] == 7200  # the pulse then slews there at the joint's max_speed
    assert bus.stats.connects == 2 and bus.stats.disconnects == 1
    bus.close()


def test_the_port_is_gone_once_unplug_returns(emulator):
    # the emulator's thread waits on the pty in select(), which kept it alive a moment after unplug() closed it
    bus = MaestroBus(emulator.path, joints())
    for _ in range(10):
        bus.connect()
        bus.read_positions()  # a round trip: the emulator's thread is back waiting on the pty
        emulator.unplug()
        with pytest.raises(BusDisconnected):
            bus.write_positions({"jaw": 0.2})
        emulator.replug()
    assert bus.stats.disconnects == 10


def test_permission_denied_names_the_fix(monkeypatch):
    import serial

    def denied(*args, **kwargs):
        raise serial.SerialException(13, "could not open port /dev/ttyACM0: [Errno 13] Permission denied")

    monkeypatch.setattr(serial, "Serial", denied)
    with pytest.raises(BusDisconnected, match="dialout"):
        MaestroBus("/dev/ttyACM0", joints()).connect()


def test_missing_port_is_a_clear_disconnected_error():
    bus = MaestroBus("/nonexistent/ttyACM9", joints())
    with pytest.raises(BusDisconnected, match="cannot open /nonexistent/ttyACM9"):
        bus.connect()
