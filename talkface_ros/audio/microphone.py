"""Microphone capture through sounddevice/PortAudio: the device's native rate, resampled to 16 kHz mono,
cut into fixed chunks. The PortAudio callback only copies; resampling runs on the reader's thread."""
from __future__ import annotations

import logging
import queue
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from talkface_ros.audio.devices import AudioDeviceError, close_stream, list_devices, resolve_device, sounddevice_module
from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE, Chunker, float_to_int16
from talkface_ros.audio.resample import StreamingResampler

log = logging.getLogger(__name__)


def list_input_devices() -> list[dict[str, Any]]:
    """Input-capable devices: index, name, channels, default sample rate."""
    return list_devices("input")


def resolve_input_device(device: str | int | None) -> int | None:
    return resolve_device(device, "input")


@dataclass
class MicrophoneConfig:
    device: str | int | None = None   # index, name or substring; None = default input
    native_rate: int = 0              # 0 = the device's default rate
    channels: int = 1                 # captured channels, averaged to mono
    blocksize_ms: float = 10.0        # PortAudio callback period
    chunk_samples: int = 160          # output chunk at 16 kHz
    sample_rate: int = MODEL_SAMPLE_RATE
    queue_blocks: int = 200           # ~2 s of buffering before blocks are dropped


@dataclass
class CaptureStats:
    xruns: int = 0           # PortAudio reported input overflow/underflow
    dropped_blocks: int = 0  # our queue was full: the consumer fell behind
    device_errors: int = 0
    chunks: int = 0
    messages: list[str] = field(default_factory=list)


class MicrophoneSource:
    """Context manager: `with MicrophoneSource(cfg) as mic: chunk = mic.read(timeout=0.1)`."""

    def __init__(self, config: MicrophoneConfig) -> None:
        self.config = config
        self.stats = CaptureStats()
        self._sd = sounddevice_module()
        self.device_index = resolve_input_device(config.device)
        try:
            info = self._sd.query_devices(self.device_index, "input")
        except Exception as error:  # PortAudioError / ValueError when there is no input device at all
            raise AudioDeviceError(f"no usable audio input device ({error})") from None
        self.device_name = info["name"]
        self.native_rate = int(config.native_rate or info["default_samplerate"])
        if config.channels < 1 or config.channels > max(1, int(info["max_input_channels"])):
            raise AudioDeviceError(
                f"device {self.device_name!r} has {info['max_input_channels']} input channels, asked for {config.channels}"
            )
        self._blocks: queue.Queue[np.ndarray] = queue.Queue(maxsize=config.queue_blocks)
        self._resampler = StreamingResampler(self.native_rate, config.sample_rate)
        self._chunker = Chunker(config.chunk_samples)
        self._ready: list[np.ndarray] = []
        self._stream = None

    def _callback(self, indata, frames, time_info, status) -> None:
        if status.input_overflow or status.input_underflow:
            self.stats.xruns += 1
        try:
            self._blocks.put_nowait(indata.mean(axis=1).astype(np.float32) if indata.shape[1] > 1 else indata[:, 0].copy())
        except queue.Full:
            self.stats.dropped_blocks += 1

    def start(self) -> "MicrophoneSource":
        blocksize = max(1, int(round(self.native_rate * self.config.blocksize_ms / 1000.0)))
        try:
            self._stream = self._sd.InputStream(
                device=self.device_index, samplerate=self.native_rate, channels=self.config.channels,
                dtype="float32", blocksize=blocksize, callback=self._callback, latency="low",
            )
            self._stream.start()
        except Exception as error:
            self.stats.device_errors += 1
            raise AudioDeviceError(f"cannot open input device {self.device_name!r} at {self.native_rate} Hz: {error}") from None
        log.info("capturing from %r at %d Hz (blocks of %d), resampled to %d Hz",
                 self.device_name, self.native_rate, blocksize, self.config.sample_rate)
        return self

    def read(self, timeout: float = 0.1) -> np.ndarray | None:
        """The next int16 chunk at 16 kHz, or None if none arrived within `timeout`."""
        while not self._ready:
            try:
                block = self._blocks.get(timeout=timeout)
            except queue.Empty:
                if self._stream is not None and not self._stream.active:
                    self.stats.device_errors += 1
                    raise AudioDeviceError(f"input stream from {self.device_name!r} stopped")
                return None
            self._ready.extend(self._chunker.push(float_to_int16(self._resampler.process(block))))
        self.stats.chunks += 1
        return self._ready.pop(0)

    def stop(self) -> None:
        close_stream(self._stream, "input", log)
        self._stream = None

    def __enter__(self) -> "MicrophoneSource":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
