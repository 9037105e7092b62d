"""`talkface devices`: the audio input devices PortAudio sees."""
from __future__ import annotations

import argparse

from talkface_ros.audio.microphone import AudioDeviceError, list_input_devices


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    try:
        devices = list_input_devices()
    except AudioDeviceError as error:
        print(f"error: {error}")
        return 1
    if not devices:
        print("no audio input devices found (is PulseAudio/ALSA running? see README: troubleshooting)")
        return 1
    for device in devices:
        print(f"[{device['index']}] {device['name']}  ({device['channels']} ch, {device['rate']:.0f} Hz)")
    return 0
