"""What answers on a serial port: a Pololu Maestro (and which channels), or Dynamixel servos (and at
which baud rate). Read-only probes: nothing here moves a servo."""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

from talkface_ros.hardware import dynamixel_protocol as dx
from talkface_ros.hardware import maestro as proto

log = logging.getLogger(__name__)

DYNAMIXEL_BAUDS = (57600, 1000000, 115200, 2000000, 3000000, 4000000, 9600)


@dataclass
class MaestroFound:
    port: str
    model: str
    channels: dict[int, float | None]           # channel -> current pulse in us (None: pulses off)
    errors: list[str] = field(default_factory=list)
    bus: str = "maestro"


@dataclass
class DynamixelFound:
    port: str
    baud: int
    servos: dict[int, dict[str, int]]           # ID -> {"model": ..., "firmware": ...}
    bus: str = "dynamixel"


def _read_exact(port, count: int, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    data = b""
    while len(data) < count and time.monotonic() < deadline:
        data += port.read(count - len(data))
    return data


def scan_maestro(path: str, baud: int = 115200, timeout: float = 0.1,
                 device_number: int | None = None) -> MaestroFound | None:
    """A Maestro answers Get Errors with 2 bytes; its channels answer Get Position until the last one."""
    import serial

    with serial.Serial(path, baudrate=baud, timeout=timeout) as port:
        port.reset_input_buffer()
        port.write(proto.get_errors(device_number))
        reply = _read_exact(port, 2, timeout)
        if len(reply) != 2:
            return None
        code = reply[0] | (reply[1] << 8)
        if code >> len(proto.ERROR_BITS):
            return None  # not a Maestro: something else answered with 2 bytes
        channels: dict[int, float | None] = {}
        for channel in range(24):
            port.write(proto.get_position(channel, device_number))
            reply = _read_exact(port, 2, timeout)
            if len(reply) != 2:
                break
            quarter = reply[0] | (reply[1] << 8)
            channels[channel] = quarter / 4.0 if quarter else None
        port.write(proto.get_errors(device_number))  # the probe past the last channel set the protocol error bit
        _read_exact(port, 2, timeout)
    model = {6: "micro6", 12: "mini12", 18: "mini18", 24: "mini24"}.get(len(channels), f"{len(channels)} channels")
    return MaestroFound(port=path, model=model, channels=channels, errors=list(proto.decode_errors(code)))


def scan_dynamixel(path: str, bauds: tuple[int, ...] = DYNAMIXEL_BAUDS) -> DynamixelFound | None:
    """Broadcast ping (Protocol 2.0) at each baud rate until servos answer."""
    from talkface_ros.hardware.dynamixel import import_sdk

    sdk = import_sdk()
    for baud in bauds:
        port = sdk.PortHandler(path)
        try:
            if not port.setBaudRate(baud):
                continue
            found, result = sdk.PacketHandler(2.0).broadcastPing(port)
        finally:
            if port.ser is not None:
                port.closePort()
        if result == sdk.COMM_SUCCESS and found:
            servos = {dxl_id: {"model": info[0], "firmware": info[1]} for dxl_id, info in sorted(found.items())}
            return DynamixelFound(port=path, baud=baud, servos=servos)
        log.debug("no Dynamixel at %d baud on %s (%s)", baud, path, result)
    return None


def scan(path: str, bus: str = "auto", baud: int = 0) -> list[MaestroFound | DynamixelFound]:
    found: list[MaestroFound | DynamixelFound] = []
    if bus in ("auto", "maestro"):
        maestro = scan_maestro(path, baud or 115200)
        if maestro:
            found.append(maestro)
    if bus == "dynamixel" or (bus == "auto" and not found):
        dynamixel = scan_dynamixel(path, (baud,) if baud else DYNAMIXEL_BAUDS)
        if dynamixel:
            found.append(dynamixel)
    return found


def as_dict(result: MaestroFound | DynamixelFound) -> dict:
    return asdict(result)


def describe(result: MaestroFound | DynamixelFound) -> str:
    if isinstance(result, MaestroFound):
        lines = [f"Pololu Maestro ({result.model}) on {result.port}"
                 + (f", errors: {', '.join(result.errors)}" if result.errors else "")]
        for channel, us in result.channels.items():
            lines.append(f"  channel {channel:2d}: " + (f"{us:.2f} us" if us is not None else "off"))
        return "\n".join(lines)
    lines = [f"Dynamixel (Protocol 2.0) on {result.port} at {result.baud} baud"]
    for dxl_id, info in result.servos.items():
        lines.append(f"  ID {dxl_id:3d}: model {info['model']}, firmware {info['firmware']}"
                     + (" (XM430-W350)" if info["model"] == dx.XM430_W350 else ""))
    return "\n".join(lines)
