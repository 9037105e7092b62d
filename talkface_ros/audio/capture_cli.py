"""`talkface capture`: record the microphone (or re-chunk a WAV) to a 16 kHz mono WAV, without ROS.
Handy to check a microphone before starting the node graph."""
from __future__ import annotations

import argparse
import time

import numpy as np

from talkface_ros.audio.microphone import AudioDeviceError, MicrophoneConfig, MicrophoneSource
from talkface_ros.audio.wav import AudioFileError, WavSource, WavSourceConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--out", required=True, help="output WAV (16 kHz mono int16)")
    parser.add_argument("--wav", help="read this file instead of the microphone")
    parser.add_argument("--device", default="", help="input device index, name or unique substring")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to record from the microphone")
    parser.add_argument("--native-rate", type=int, default=0, help="capture rate (0 = the device's default)")


def run(args: argparse.Namespace) -> int:
    import soundfile

    chunks: list[np.ndarray] = []
    try:
        if args.wav:
            chunks = list(WavSource(WavSourceConfig(args.wav, realtime=False)).chunks())
        else:
            with MicrophoneSource(MicrophoneConfig(device=args.device or None, native_rate=args.native_rate)) as mic:
                print(f"recording {args.seconds:g} s from {mic.device_name!r} at {mic.native_rate} Hz ...")
                deadline = time.monotonic() + args.seconds
                while time.monotonic() < deadline:
                    chunk = mic.read(timeout=0.2)
                    if chunk is not None:
                        chunks.append(chunk)
                print(f"xruns {mic.stats.xruns}, dropped blocks {mic.stats.dropped_blocks}")
    except (AudioDeviceError, AudioFileError) as error:
        print(f"error: {error}")
        return 1
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    soundfile.write(args.out, samples, 16000, subtype="PCM_16")
    print(f"wrote {args.out}: {len(samples) / 16000:.2f} s")
    return 0
