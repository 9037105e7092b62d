"""Dynamixel Protocol 2.0 framing (ROBOTIS e-Manual): header, byte stuffing, CRC-16, and the X-series
control table addresses this project uses. Shared by the driver (which sends through dynamixel-sdk)
and the emulator (which must parse and answer exactly what the SDK sends).

Packet: FF FF FD 00 | ID | LEN_L LEN_H | INSTRUCTION | PARAMS... | CRC_L CRC_H,
LEN = len(instruction + params + CRC) after stuffing; CRC-16 (poly 0x8005, init 0, unreflected) over
everything before it. Stuffing: FF FF FD inside instruction/params becomes FF FF FD FD.
"""
from __future__ import annotations

HEADER = b"\xff\xff\xfd\x00"
BROADCAST_ID = 0xFE
STATUS = 0x55

PING, READ, WRITE, REBOOT, SYNC_READ, SYNC_WRITE = 0x01, 0x02, 0x03, 0x08, 0x82, 0x83

# X-series (XM430-W350 and friends) control table: (address, size)
MODEL_NUMBER = (0, 2)
FIRMWARE_VERSION = (6, 1)
ID = (7, 1)
OPERATING_MODE = (11, 1)
TORQUE_ENABLE = (64, 1)
HARDWARE_ERROR_STATUS = (70, 1)
PROFILE_VELOCITY = (112, 4)
GOAL_POSITION = (116, 4)
PRESENT_POSITION = (132, 4)
POSITION_MODE = 3
XM430_W350 = 1020
TICKS_PER_REV = 4096
PROFILE_VELOCITY_UNIT_TICKS_PER_S = 0.229 * TICKS_PER_REV / 60.0  # 0.229 rpm per unit

HARDWARE_ERROR_BITS = {
    0: "input voltage error",
    2: "overheating error",
    3: "motor encoder error",
    4: "electrical shock error",
    5: "overload error",
}
STATUS_ERRORS = {1: "result fail", 2: "instruction error", 3: "CRC error", 4: "data range error",
                 5: "data length error", 6: "data limit error", 7: "access error"}
ALERT = 0x80


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_TABLE = _crc_table()


def crc16(data: bytes, crc: int = 0) -> int:
    for byte in data:
        crc = ((crc << 8) ^ _TABLE[((crc >> 8) ^ byte) & 0xFF]) & 0xFFFF
    return crc


def stuff(body: bytes) -> bytes:
    """Insert 0xFD after every FF FF FD in instruction + params."""
    out = bytearray()
    for byte in body:
        out.append(byte)
        if len(out) >= 3 and out[-3:] == b"\xff\xff\xfd":
            out.append(0xFD)
    return bytes(out)


def unstuff(body: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(body):
        out.append(body[i])
        if len(out) >= 3 and out[-3:] == b"\xff\xff\xfd" and i + 1 < len(body) and body[i + 1] == 0xFD:
            i += 1  # skip the stuffing byte
        i += 1
    return bytes(out)


def build_packet(dxl_id: int, instruction: int, params: bytes = b"") -> bytes:
    body = stuff(bytes((instruction,)) + params)
    length = len(body) + 2
    head = HEADER + bytes((dxl_id, length & 0xFF, length >> 8)) + body
    crc = crc16(head)
    return head + bytes((crc & 0xFF, crc >> 8))


def build_status(dxl_id: int, error: int, params: bytes = b"") -> bytes:
    return build_packet(dxl_id, STATUS, bytes((error,)) + params)


def decode_hardware_error(code: int) -> tuple[str, ...]:
    return tuple(HARDWARE_ERROR_BITS.get(bit, f"bit {bit}") for bit in range(8) if code & (1 << bit))


def le_bytes(value: int, size: int) -> bytes:
    return int(value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


def to_signed32(value: int) -> int:
    return value - (1 << 32) if value & 0x80000000 else value
