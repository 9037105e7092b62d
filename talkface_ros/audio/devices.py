"""PortAudio device lookup shared by capture and playback: by index, exact name or unique substring."""
from __future__ import annotations

from typing import Any, Literal


class AudioDeviceError(RuntimeError):
    """No such device, or it cannot be opened."""


Direction = Literal["input", "output"]


def sounddevice_module():
    try:
        import sounddevice
    except OSError as error:  # PortAudio library missing
        raise AudioDeviceError(f"PortAudio is not available ({error}); install libportaudio2") from None
    return sounddevice


def list_devices(direction: Direction) -> list[dict[str, Any]]:
    """Devices that can capture (input) or play (output): index, name, channels, default sample rate."""
    key = f"max_{direction}_channels"
    return [
        {"index": i, "name": d["name"], "channels": d[key], "rate": d["default_samplerate"]}
        for i, d in enumerate(sounddevice_module().query_devices())
        if d[key] > 0
    ]


def resolve_device(device: str | int | None, direction: Direction) -> int | None:
    """A device index from an index, an exact name, or a unique case-insensitive name substring.
    None / "" / "default" -> PortAudio's default device (None)."""
    if device is None or device == "" or device == "default":
        return None
    devices = list_devices(direction)
    available = ", ".join(f"[{d['index']}] {d['name']}" for d in devices) or "none"
    if isinstance(device, int) or (isinstance(device, str) and device.strip().isdigit()):
        index = int(device)
        if any(d["index"] == index for d in devices):
            return index
        raise AudioDeviceError(f"no {direction} device with index {index}; {direction} devices: {available}")
    exact = [d for d in devices if d["name"] == device]
    if exact:
        return exact[0]["index"]
    matches = [d for d in devices if device.lower() in d["name"].lower()]
    if len(matches) == 1:
        return matches[0]["index"]
    if not matches:
        raise AudioDeviceError(f"no {direction} device named {device!r}; {direction} devices: {available}")
    raise AudioDeviceError(f"{direction} device name {device!r} is ambiguous: " + ", ".join(d["name"] for d in matches))


def close_stream(stream, what: str, log) -> None:
    """Stop and close a PortAudio stream; a vanished device must not crash shutdown."""
    if stream is None:
        return
    try:
        stream.stop()
        stream.close()
    except Exception as error:
        log.warning("closing the %s stream failed: %s", what, error)
