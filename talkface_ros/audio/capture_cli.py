"""`talkface capture`: record the microphone (or re-chunk a WAV) to a 16 kHz mono WAV, without ROS.
Handy to check a microphone before starting the node graph.

A recording holds exactly --seconds of audio: it counts samples, not wall-clock time (a PulseAudio input
delivers its first samples up to a second or more after the stream starts). An input that falls too far
behind is an error (exit 1, nothing written), never a short file with exit 0."""
from __future__ import annotations

import argparse
import math
import time

import numpy as np

from talkface_ros.audio.microphone import AudioDeviceError, MicrophoneConfig, MicrophoneSource
from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE
from talkface_ros.audio.wav import AudioFileError, WavSource, WavSourceConfig
from talkface_ros.paths import OutputPathError, prepare_output_file

# how long past --seconds the input may take to deliver them: start-up latency plus a slow clock
START_GRACE_S = 5.0
SLOW_CLOCK = 0.10


class CaptureError(RuntimeError):
    pass


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("exit status: 0 the file holds the requested audio; 1 the device, the input file or the output "
                     "failed (nothing is written); 2 a bad command line")
    parser.add_argument("-o", "--out", required=True,
                        help="output WAV (16 kHz mono int16; missing parent folders are created)")
    parser.add_argument("--wav", help="read this file instead of the microphone")
    parser.add_argument("--device", default="", help="input device index, name or unique substring")
    parser.add_argument("--seconds", type=_positive_seconds, default=5.0,
                        help="how much audio to record from the microphone (default 5)")
    parser.add_argument("--native-rate", type=int, default=0, help="capture rate (0 = the device's default)")


def record(mic: MicrophoneSource, seconds: float) -> np.ndarray:
    """Exactly `seconds` of 16 kHz audio from a started microphone; CaptureError if it does not arrive in time."""
    wanted = int(round(seconds * MODEL_SAMPLE_RATE))
    limit_s = seconds * (1.0 + SLOW_CLOCK) + START_GRACE_S
    chunks: list[np.ndarray] = []
    have = 0
    started = time.monotonic()
    while have < wanted:
        if time.monotonic() - started > limit_s:
            raise CaptureError(
                f"{mic.device_name!r} delivered only {have / MODEL_SAMPLE_RATE:.2f} s of the {seconds:g} s asked for "
                f"in {limit_s:.1f} s (is the input muted, suspended or held by another program?)")
        chunk = mic.read(timeout=0.2)
        if chunk is not None:
            chunks.append(chunk)
            have += len(chunk)
    return np.concatenate(chunks)[:wanted]


def run(args: argparse.Namespace) -> int:
    import soundfile

    try:
        prepare_output_file(args.out)
    except OutputPathError as error:
        print(f"error: -o {error}")
        return 1
    try:
        if args.wav:
            chunks = list(WavSource(WavSourceConfig(args.wav, realtime=False)).chunks())
            samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        else:
            with MicrophoneSource(MicrophoneConfig(device=args.device or None, native_rate=args.native_rate)) as mic:
                print(f"recording {args.seconds:g} s from {mic.device_name!r} at {mic.native_rate} Hz ...")
                samples = record(mic, args.seconds)
                stats = mic.stats
            print(f"xruns {stats.xruns}, dropped blocks {stats.dropped_blocks}")
            if stats.xruns or stats.dropped_blocks:
                print("warning: the recording has gaps (xruns or dropped blocks); the machine may be overloaded")
    except (AudioDeviceError, AudioFileError, CaptureError) as error:
        print(f"error: {error}")
        return 1
    try:
        soundfile.write(args.out, samples, MODEL_SAMPLE_RATE, subtype="PCM_16")
    except (OSError, RuntimeError) as error:  # soundfile raises LibsndfileError (a RuntimeError)
        print(f"error: cannot write {args.out}: {error}")
        return 1
    print(f"wrote {args.out}: {len(samples) / MODEL_SAMPLE_RATE:.2f} s")
    return 0
