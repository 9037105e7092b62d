"""Dynamixel Protocol 2.0: framing and CRC against the e-Manual examples and the SDK's own CRC, and the
SDK-based driver against the pty emulator (sync write/read, torque, hardware errors, faults)."""
from __future__ import annotations

import time

import pytest

from talkface_ros.hardware import dynamixel_protocol as dx
from talkface_ros.hardware.bus import BusDisconnected, BusProtocolError, BusTimeout
from talkface_ros.hardware.calibration import JointCalibration
from talkface_ros.hardware.emulator import DynamixelEmulator

sdk = pytest.importorskip("dynamixel_sdk")
from talkface_ros.hardware.dynamixel import DynamixelBus, profile_velocity_units  # noqa: E402


# -- framing, byte-exact against the ROBOTIS e-Manual ------------------------------------------------------------------
def test_ping_packet_example():
    assert dx.build_packet(1, dx.PING) == bytes.fromhex("FF FF FD 00 01 03 00 01 19 4E")


def test_ping_status_example():
    # model number 1030 (0x0406), firmware 0x26
    assert dx.build_status(1, 0, bytes.fromhex("06 04 26")) == bytes.fromhex("FF FF FD 00 01 07 00 55 00 06 04 26 65 5D")


def test_read_packet_example():
    # read Present Position (132 = 0x84), 4 bytes, from ID 1
    assert dx.build_packet(1, dx.READ, bytes.fromhex("84 00 04 00")) == bytes.fromhex(
        "FF FF FD 00 01 07 00 02 84 00 04 00 1D 15")


def test_sync_write_example():
    # Goal Position (116) of ID 1 = 150 and ID 2 = 170
    params = bytes.fromhex("74 00 04 00") + bytes.fromhex("01 96 00 00 00") + bytes.fromhex("02 AA 00 00 00")
    assert dx.build_packet(dx.BROADCAST_ID, dx.SYNC_WRITE, params) == bytes.fromhex(
        "FF FF FD 00 FE 11 00 83 74 00 04 00 01 96 00 00 00 02 AA 00 00 00 82 87")


def test_crc_matches_the_sdk():
    handler = sdk.PacketHandler(2.0)
    for data in (b"", b"\x00", bytes(range(256)), b"\xff\xff\xfd\x00\x01\x03\x00\x01"):
        assert dx.crc16(data) == handler.updateCRC(0, list(data), len(data))


def test_byte_stuffing_round_trip():
    body = bytes.fromhex("03 FF FF FD 10 FF FF FD")
    stuffed = dx.stuff(body)
    assert stuffed == bytes.fromhex("03 FF FF FD FD 10 FF FF FD FD")
    assert dx.unstuff(stuffed) == body


def test_hardware_error_decoding():
    assert dx.decode_hardware_error(0b0010_0100) == ("overheating error", "overload error")


# -- the driver against the emulator ---------------------------------------------------------------------------------------
def cal(joint: str, dxl_id: int, raw_lower=1024.0, raw_upper=3072.0) -> JointCalibration:
    return JointCalibration(joint=joint, bus="dynamixel", channel=dxl_id, kind="rigid", lower=-1.0, upper=1.0,
                            neutral=0.0, max_speed=2.0, raw_at_lower=raw_lower, raw_at_upper=raw_upper)


def joints():
    return [cal("jaw", 1), cal("eye_yaw", 2, 3072.0, 1024.0)]


@pytest.fixture
def emulator():
    with DynamixelEmulator(ids=(1, 2)) as emu:
        yield emu


def test_profile_velocity_units():
    # 2 rad/s * 1024 ticks/rad = 2048 ticks/s; 1 unit = 0.229 rpm = 15.63 ticks/s -> 131
    assert profile_velocity_units(cal("a", 1)) == 131


def test_connect_sets_position_mode_and_profile_velocity(emulator):
    emulator.servos[1].table[11] = 1  # velocity mode: the driver must switch it back
    with DynamixelBus(emulator.path, joints()) as bus:
        assert bus.missing_ids == []
        bus.read_faults()  # round trip
    assert emulator.register(1, dx.OPERATING_MODE) == dx.POSITION_MODE
    assert emulator.register(2, dx.PROFILE_VELOCITY) == 131


def test_sync_write_read_in_joint_units(emulator):
    with DynamixelBus(emulator.path, joints()) as bus:
        bus.enable_torque()
        bus.read_faults()  # a round trip: sync writes have no reply, so wait for one that has
        assert emulator.register(1, dx.TORQUE_ENABLE) == 1
        sent = bus.write_positions({"jaw": 0.5, "eye_yaw": 0.5})
        assert sent == pytest.approx({"jaw": 0.5, "eye_yaw": 0.5})
        bus.read_faults()
        assert emulator.register(1, dx.GOAL_POSITION) == 2560
        assert emulator.register(2, dx.GOAL_POSITION) == 1536
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:  # the emulated servo moves at its profile velocity
            positions = bus.read_positions()
            if positions["jaw"] == pytest.approx(0.5):
                break
        assert positions == pytest.approx({"jaw": 0.5, "eye_yaw": 0.5})
        bus.relax()
        bus.read_faults()
        assert emulator.register(2, dx.TORQUE_ENABLE) == 0


def test_limits_are_enforced_on_the_wire(emulator):
    with DynamixelBus(emulator.path, joints()) as bus:
        bus.write_positions({"jaw": 50.0, "eye_yaw": -50.0})
        bus.write_positions({"jaw": float("-inf")})
        bus.read_positions()
    assert emulator.goal_range[1] == (3072, 3072)
    assert emulator.goal_range[2] == (3072, 3072)


def test_hardware_errors_are_reported(emulator):
    with DynamixelBus(emulator.path, joints()) as bus:
        assert bus.read_faults() == []
        emulator.set_hardware_error(2, 0b0010_0000)
        faults = bus.read_faults()
        assert [(f.channel, f.names) for f in faults] == [(2, ("overload error",))]
        bus.reboot(2)
        assert bus.read_faults() == []


def test_missing_servo_is_reported_not_fatal(emulator):
    with DynamixelBus(emulator.path, joints() + [cal("brow", 9)]) as bus:
        assert bus.missing_ids == [9]
        assert any(f.channel == 9 for f in bus.read_faults())
        assert set(bus.read_positions()) == {"jaw", "eye_yaw"}


def test_timeouts_corruption_and_garbage_are_survived(emulator):
    with DynamixelBus(emulator.path, joints(), retries=2) as bus:
        emulator.drop_replies(1)
        emulator.corrupt_replies(1)
        assert set(bus.read_positions()) == {"jaw", "eye_yaw"}
        assert bus.stats.timeouts + bus.stats.protocol_errors >= 1
        emulator.inject_garbage(b"\xff\xff\x00\x13\x37")
        time.sleep(0.05)
        assert set(bus.read_positions()) == {"jaw", "eye_yaw"}
        assert bus.stats.garbage_bytes >= 5
        emulator.drop_replies(100)
        with pytest.raises((BusTimeout, BusProtocolError)):
            bus.read_positions()
        emulator.drop_replies(-emulator._drop)
        assert set(bus.read_positions()) == {"jaw", "eye_yaw"}


def test_unplug_and_replug(emulator):
    bus = DynamixelBus(emulator.path, joints())
    bus.connect()
    emulator.unplug()
    with pytest.raises(BusDisconnected):
        for _ in range(3):
            bus.write_positions({"jaw": 0.1})
            bus.read_positions()
    emulator.replug()
    bus.connect()
    bus.write_positions({"jaw": 0.25})
    bus.read_positions()
    assert emulator.register(1, dx.GOAL_POSITION) == 2304
    bus.close()


def test_unsupported_baud_is_a_configuration_error():
    with pytest.raises(ValueError, match="baud rate"):
        DynamixelBus("/dev/null", joints(), baud=12345)


def test_nobody_home_is_a_timeout_at_connect():
    with DynamixelEmulator(ids=(5,)) as emu:
        with pytest.raises(BusTimeout, match="no Dynamixel answers"):
            DynamixelBus(emu.path, joints()).connect()
