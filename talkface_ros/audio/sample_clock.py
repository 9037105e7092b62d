"""The sample clock of an audio stream: which moment on the node's clock each sample was recorded at.

A stream is anchored at its first chunk (that chunk ended when it arrived) and then advanced by the samples
themselves, so frame stamps follow the audio, not the arrival jitter of its chunks. Two corrections keep
the anchor honest: audio that falls more than `max_lag_s` behind the clock means samples were lost upstream
(re-anchor forward); a chunk that arrives before its last sample could have been recorded means the first
chunks came late, in a burst, and the anchor was set too late (move it back). Stamps never go backwards.
Pure Python: times are integer nanoseconds on whatever clock the caller uses (face_inference: ROS time)."""
from __future__ import annotations

from dataclasses import dataclass, field

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE

_EARLY_TOLERANCE_NS = 1_000_000  # 1 ms: a chunk this early is scheduling noise, not a late anchor


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)  # as rclpy's Duration(seconds=...) converts


@dataclass
class SampleClockConfig:
    sample_rate: int = MODEL_SAMPLE_RATE
    max_lag_s: float = 0.2        # re-anchor when the audio falls this far behind the clock
    idle_timeout_s: float = 0.5   # no audio for this long (wall time) ends the stream


@dataclass
class SampleClockCounters:
    reanchors: int = 0            # samples lost upstream
    anchor_corrections: int = 0   # a late (bursty) start moved the anchor back


@dataclass
class SampleClock:
    config: SampleClockConfig = field(default_factory=SampleClockConfig)
    streaming: bool = False
    anchor_ns: int = 0            # the clock time of sample 0 of this stream
    samples_in: int = 0           # samples of this stream so far
    last_stamp_ns: int | None = None
    last_audio_wall_s: float = 0.0
    counters: SampleClockCounters = field(default_factory=SampleClockCounters)

    def on_chunk(self, now_ns: int, samples: int, wall_s: float) -> None:
        """A chunk of `samples` samples arrived at `now_ns` (clock) / `wall_s` (monotonic seconds)."""
        rate = self.config.sample_rate
        if not self.streaming:
            self.streaming = True
            self.anchor_ns = now_ns - _ns(samples / rate)
            self.samples_in = 0
        else:
            audio_end_ns = self.anchor_ns + _ns((self.samples_in + samples) / rate)
            lag_ns = now_ns - audio_end_ns
            if lag_ns > _ns(self.config.max_lag_s):
                self.anchor_ns += lag_ns
                self.counters.reanchors += 1
            elif lag_ns < -_EARLY_TOLERANCE_NS:
                self.anchor_ns += lag_ns
                self.counters.anchor_corrections += 1
        self.samples_in += samples
        self.last_audio_wall_s = wall_s

    def stamp_ns(self, frame_time_s: float) -> int:
        """The clock time of a frame `frame_time_s` into the stream; strictly after the previous stamp."""
        stamp = self.anchor_ns + _ns(frame_time_s)
        if self.last_stamp_ns is not None and stamp <= self.last_stamp_ns:  # after an anchor correction
            stamp = self.last_stamp_ns + 1000
        self.last_stamp_ns = stamp
        return stamp

    def stalled(self, wall_s: float) -> bool:
        """The stream has had no audio for idle_timeout_s."""
        return self.streaming and wall_s - self.last_audio_wall_s > self.config.idle_timeout_s

    def end(self) -> None:
        """The stream is over; the next chunk anchors a new one (stamps stay increasing across streams)."""
        self.streaming = False

    def audio_ahead_s(self, now_ns: int) -> float | None:
        """How far the audio received runs ahead of the clock (negative: behind); None between streams."""
        if not self.streaming:
            return None
        return (self.anchor_ns + _ns(self.samples_in / self.config.sample_rate) - now_ns) / 1e9
