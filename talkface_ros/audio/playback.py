"""Delayed playback for the TTS sync option: the robot publishes each PCM chunk at once (the face starts
moving after the chain latency) and plays the same chunk through a speaker `delay_s` after it was published,
so sound and mouth line up.

Timing is scheduled, not queued: every chunk gets a target time on the monotonic clock (its publish time
plus `delay_s`), and the PortAudio callback places samples by the time its buffer reaches the DAC
(`outputBufferDacTime`). So the delay *includes* the device's own output latency instead of adding to it, and a
stalled or slow device cannot pile up delay (a FIFO of pre-filled silence would drift by every hiccup).

Facts found on PulseAudio through the ALSA `pulse` plugin (see test/test_audio_playback_pulse.py):
- a fresh output stream pulls a couple of blocks, then stalls ~1.5 s before running in real time; so the
  stream is opened once and kept running (silence when idle), and `start()` waits until callbacks flow at
  the audio rate before the first chunk may be scheduled;
- PulseAudio's latency report (DAC time minus now) wobbles by a few ms from one buffer to the next (28-30 ms,
  once 25 ms); taken at face value it made the schedule drop and repeat a few ms of audio (audible clicks), so
  the DAC time is predicted from the previous buffer and only nudged towards the report (`_dac_time`);
- with another client on the sink holding a huge buffer (`pacat` at its default 2 s latency), the stream was
  once seen served in bursts (0.5 s with 3 callbacks) after the start-up stall; a stall or underflow makes
  the DAC time jump: the schedule re-reads it (`resyncs`), and samples whose time has passed are dropped to
  keep sync and counted (`late_chunks`) instead of piling up delay.
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from talkface_ros.audio.devices import AudioDeviceError, close_stream, list_devices, resolve_device, sounddevice_module
from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE, int16_to_float
from talkface_ros.audio.resample import StreamingResampler

log = logging.getLogger(__name__)
clock = time.monotonic  # the schedule's time base (a module attribute so tests can drive it)


def list_output_devices() -> list[dict[str, Any]]:
    """Output-capable devices: index, name, channels, default sample rate."""
    return list_devices("output")


def resolve_output_device(device: str | int | None) -> int | None:
    return resolve_device(device, "output")


@dataclass
class PlaybackConfig:
    device: str | int | None = None     # index, name or substring; None = default output
    delay_s: float = 0.03               # publish -> sound leaves the speaker, device latency included
    sample_rate: int = MODEL_SAMPLE_RATE  # rate of the chunks pushed in
    output_rate: int = 0                # 0: sample_rate if the device takes it, else the device's default
    blocksize_ms: float = 10.0          # PortAudio callback period
    latency: float | str = "low"        # PortAudio suggested output latency
    snap_ms: float = 2.0                # scheduling errors below this are absorbed (no clicks)
    segment_gap_s: float = 0.1          # a chunk this far off the running timeline starts a new segment
    max_buffer_s: float = 10.0          # scheduled audio beyond this is refused (counted as dropped)
    warmup_timeout_s: float = 5.0       # how long start() waits for the stream to run at the audio rate


@dataclass
class PlaybackStats:
    callbacks: int = 0
    chunks: int = 0            # chunks scheduled
    late_chunks: int = 0       # chunks (partly) dropped because their time had passed at the DAC
    late_samples: int = 0      # output-rate samples dropped for lateness
    clamped_segments: int = 0  # segments started later than asked (delay below the device latency)
    dropped_chunks: int = 0    # refused: more than max_buffer_s scheduled
    underflows: int = 0        # PortAudio output underflow flags
    resyncs: int = 0           # the DAC timeline jumped (a stall or underflow) and was re-read from the device
    output_latency_s: float = 0.0  # last measured DAC time minus callback time
    messages: list[str] = field(default_factory=list)


@dataclass
class _Block:
    target_time: float   # monotonic time at which samples[offset] should leave the DAC
    samples: np.ndarray  # float32 at the output rate
    chunk_id: int
    offset: int = 0


class DelayedPlayback:
    """`push(chunk, publish_time)` schedules an int16 chunk to sound at publish_time + delay_s.

    Thread-safe: push() from any thread, the PortAudio callback reads. Contiguous chunks (pushed without a
    gap in the timeline) are scheduled back to back from the segment's anchor, so publish jitter does not
    reach the speaker; a chunk more than `segment_gap_s` off the running timeline starts a new segment."""

    def __init__(self, config: PlaybackConfig) -> None:
        if not 0.0 <= config.delay_s <= 10.0:
            raise ValueError(f"playback delay must be in [0, 10] s, got {config.delay_s}")
        self.config = config
        self.stats = PlaybackStats()
        self._sd = sounddevice_module()
        self.device_index = resolve_output_device(config.device)
        try:
            info = self._sd.query_devices(self.device_index, "output")
        except Exception as error:  # PortAudioError / ValueError when there is no output device at all
            raise AudioDeviceError(f"no usable audio output device ({error})") from None
        self.device_name = info["name"]
        self._device_default_rate = int(info["default_samplerate"])
        self.output_rate = 0
        self._lock = threading.Lock()
        self._blocks: collections.deque[_Block] = collections.deque()
        self._buffered = 0
        self._resampler: StreamingResampler | None = None
        self._segment_start_pub = 0.0    # publish time of the segment's first sample
        self._segment_start_play = 0.0   # its target play time
        self._segment_samples = 0        # input-rate samples pushed in this segment
        self._last_late_chunk = 0
        self._clock_offset: float | None = None  # monotonic minus PortAudio stream time (min-tracked)
        self._next_dac: float | None = None      # predicted DAC time of the next buffer (monotonic)
        self._stream = None

    # ---- stream ----
    def _open(self, rate: int):
        blocksize = max(1, int(round(rate * self.config.blocksize_ms / 1000.0)))
        return self._sd.OutputStream(device=self.device_index, samplerate=rate, channels=1, dtype="float32",
                                     blocksize=blocksize, latency=self.config.latency, callback=self._callback)

    def start(self) -> "DelayedPlayback":
        rates = [self.config.output_rate] if self.config.output_rate else \
            list(dict.fromkeys([self.config.sample_rate, self._device_default_rate]))
        errors = []
        for rate in rates:
            try:
                self._stream = self._open(rate)
                self.output_rate = rate
                break
            except Exception as error:
                errors.append(f"{rate} Hz: {error}")
        else:
            raise AudioDeviceError(f"cannot open output device {self.device_name!r} ({'; '.join(errors)})")
        self._resampler = StreamingResampler(self.config.sample_rate, self.output_rate)
        try:
            self._stream.start()
        except Exception as error:
            raise AudioDeviceError(f"cannot start output device {self.device_name!r}: {error}") from None
        self._wait_until_running()
        log.info("playing on %r at %d Hz, delay %.3f s (device output latency %.1f ms)", self.device_name,
                 self.output_rate, self.config.delay_s, self.stats.output_latency_s * 1000)
        return self

    def _wait_until_running(self) -> None:
        """Wait until callbacks arrive at the audio rate for three windows in a row (a fresh PulseAudio stream
        pulls a couple of blocks, then stalls ~1.5 s before it runs steadily)."""
        period = self.config.blocksize_ms / 1000.0
        window = max(0.1, 5 * period)
        steady = 0
        deadline = time.monotonic() + self.config.warmup_timeout_s
        while time.monotonic() < deadline:
            count = self.stats.callbacks
            time.sleep(window)
            steady = steady + 1 if self.stats.callbacks - count >= 0.6 * window / period else 0
            if steady >= 3:
                return
        message = f"output device {self.device_name!r} does not run at the audio rate " \
                  f"after {self.config.warmup_timeout_s:g} s; playback may be late"
        log.warning(message)
        self.stats.messages.append(message)

    def stop(self) -> None:
        close_stream(self._stream, "output", log)
        self._stream = None

    def __enter__(self) -> "DelayedPlayback":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def active(self) -> bool:
        """The output stream is open and running (False after a device error: PortAudio stopped it)."""
        return self._stream is not None and bool(self._stream.active)

    @property
    def pending_s(self) -> float:
        """Audio scheduled but not played yet, in seconds."""
        return self._buffered / self.output_rate if self.output_rate else 0.0

    def drain(self, timeout: float) -> bool:
        """Wait until everything scheduled has been played (True) or `timeout` passed (False)."""
        deadline = time.monotonic() + timeout
        while self._buffered > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        return self._buffered == 0

    def clear(self) -> None:
        """Drop everything scheduled and not played yet (an interrupted utterance); the next push starts a
        new segment."""
        with self._lock:
            self._blocks.clear()
            self._buffered = 0
            self._segment_samples = 0

    # ---- scheduling ----
    def push(self, chunk: np.ndarray, publish_time: float | None = None) -> None:
        """Schedule an int16 (or float) chunk at sample_rate to sound at publish_time + delay_s."""
        if self._stream is None or self._resampler is None:
            raise RuntimeError("DelayedPlayback.push() before start()")
        now = clock()
        publish_time = now if publish_time is None else publish_time
        chunk = np.asarray(chunk)
        samples = int16_to_float(chunk) if chunk.dtype == np.int16 else np.asarray(chunk, dtype=np.float32)
        samples = np.nan_to_num(samples.reshape(-1), nan=0.0, posinf=0.0, neginf=0.0)
        if len(samples) == 0:
            return
        rate = self.config.sample_rate
        with self._lock:
            expected_pub = self._segment_start_pub + self._segment_samples / rate
            new_segment = self._segment_samples == 0 or abs(publish_time - expected_pub) > self.config.segment_gap_s
            if new_segment:
                self._start_segment(publish_time, now)
            target = self._segment_start_play + self._segment_samples / rate - self._resampler.delay_s
            self._segment_samples += len(samples)
            resampled = self._resampler.process(samples)
            self.stats.chunks += 1
            if self._buffered + len(resampled) > self.config.max_buffer_s * self.output_rate:
                self.stats.dropped_chunks += 1
                return
            if len(resampled):
                self._blocks.append(_Block(target, resampled, self.stats.chunks))
                self._buffered += len(resampled)

    def _start_segment(self, publish_time: float, now: float) -> None:
        """Anchor a new segment at publish_time + delay, or as early as the device allows."""
        self._resampler.reset()
        earliest = now + self.stats.output_latency_s + self.config.blocksize_ms / 1000.0 + self._resampler.delay_s
        wanted = publish_time + self.config.delay_s
        if wanted < earliest:
            self.stats.clamped_segments += 1
            if self.stats.clamped_segments == 1:
                log.warning("playback delay %.3f s is below what %r can do (~%.3f s): playing as early as possible",
                            self.config.delay_s, self.device_name, earliest - publish_time)
        self._segment_start_pub = publish_time
        self._segment_start_play = max(wanted, earliest)
        self._segment_samples = 0
        # Anything still queued from an older segment that overlaps the new one is superseded.
        while self._blocks and self._blocks[-1].target_time >= self._segment_start_play:
            self._buffered -= len(self._blocks.pop().samples)

    @property
    def effective_delay_s(self) -> float:
        """Target play time minus publish time of the current segment."""
        return self._segment_start_play - self._segment_start_pub

    def _callback(self, outdata, frames, time_info, status) -> None:
        now = clock()
        self.stats.callbacks += 1
        if status.output_underflow:
            self.stats.underflows += 1
        dac_monotonic = self._dac_time(now, time_info, frames, bool(status.output_underflow))
        outdata.fill(0.0)
        out = outdata[:, 0]
        rate = self.output_rate
        snap = self.config.snap_ms / 1000.0 * rate
        position = 0
        with self._lock:
            while position < frames and self._blocks:
                block = self._blocks[0]
                start = (block.target_time - dac_monotonic) * rate
                if abs(start - position) <= snap:
                    start = position
                start = int(round(start))
                if start >= frames:
                    break  # not due yet
                remaining = len(block.samples) - block.offset
                if start < position:  # its time has passed: drop the late part to stay in sync
                    late = min(position - start, remaining)
                    self._consume(block, late)
                    self.stats.late_samples += late
                    if block.chunk_id > self._last_late_chunk:  # ids grow: count each chunk once
                        self._last_late_chunk = block.chunk_id
                        self.stats.late_chunks += 1
                    continue
                count = min(frames - start, remaining)
                out[start:start + count] = block.samples[block.offset:block.offset + count]
                self._consume(block, count)
                position = start + count

    def _dac_time(self, now: float, time_info, frames: int, underflow: bool) -> float:
        """When this buffer's first frame reaches the DAC, on the monotonic clock, with the jitter filtered out.

        PortAudio's stream clock (CLOCK_REALTIME on ALSA) maps to the monotonic clock by an offset; the callback
        may start late (the GIL), so the offset is the minimum seen, leaking up slowly to follow clock slewing.
        The device's latency report jitters by a few ms (PulseAudio: 28-30 ms, once 25 ms), but consecutive
        buffers are contiguous: the DAC time is predicted from the last buffer and only nudged towards the
        report (following clock drift); a jump over 15 ms (a stall, an underflow) is taken as is."""
        if time_info.outputBufferDacTime > 0 and time_info.currentTime > 0:
            offset = now - time_info.currentTime
            if self._clock_offset is None or abs(offset - self._clock_offset) > 0.05:  # first, or a clock step
                self._clock_offset = offset
            else:
                self._clock_offset = min(offset, self._clock_offset + 1e-5)
            self.stats.output_latency_s = time_info.outputBufferDacTime - time_info.currentTime
            measured = time_info.outputBufferDacTime + self._clock_offset
        else:  # a host API without timing: trust the stream's nominal latency
            self.stats.output_latency_s = self._stream.latency if self._stream is not None else 0.0
            measured = now + self.stats.output_latency_s
        predicted = self._next_dac
        if predicted is None or underflow or abs(measured - predicted) > 0.015:
            if predicted is not None:
                self.stats.resyncs += 1
            dac = measured
        else:
            dac = predicted + 0.05 * (measured - predicted)
        self._next_dac = dac + frames / self.output_rate
        return dac

    def _consume(self, block: _Block, count: int) -> None:
        block.offset += count
        block.target_time += count / self.output_rate
        self._buffered -= count
        if block.offset >= len(block.samples):
            self._blocks.popleft()
