"""DelayedPlayback's schedule without a sound card: a fake PortAudio stream whose callback the test drives with
chosen DAC times, so where every sample lands is checked exactly."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from talkface_ros.audio import devices as devices_module
from talkface_ros.audio import playback as playback_module
from talkface_ros.audio.microphone import AudioDeviceError
from talkface_ros.audio.playback import DelayedPlayback, PlaybackConfig, resolve_output_device

RATE = 16000
BLOCK = 160  # 10 ms


class FakeStream:
    def __init__(self, samplerate, blocksize, callback, latency, **_):
        self.samplerate, self.blocksize, self.callback = samplerate, blocksize, callback
        self.latency = 0.02 if latency == "low" else float(latency)
        self.active = False

    def start(self):
        self.active = True

    def stop(self):
        self.active = False

    def close(self):
        pass


class FakeSoundDevice:
    devices = [{"name": "Mic", "max_input_channels": 1, "max_output_channels": 0, "default_samplerate": 48000.0},
               {"name": "USB Speaker", "max_input_channels": 0, "max_output_channels": 2, "default_samplerate": 48000.0},
               {"name": "HDMI Speaker", "max_input_channels": 0, "max_output_channels": 2, "default_samplerate": 48000.0}]

    def __init__(self, supported_rates=(16000, 48000)):
        self.supported_rates = supported_rates

    def query_devices(self, index=None, kind=None):
        if index is None and kind is None:
            return self.devices
        return self.devices[1 if index is None else index]

    def OutputStream(self, samplerate, **kwargs):  # noqa: N802 (sounddevice's name)
        if samplerate not in self.supported_rates:
            raise RuntimeError(f"Invalid sample rate {samplerate}")
        return FakeStream(samplerate=samplerate, **kwargs)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake(monkeypatch):
    sd = FakeSoundDevice()
    clock = Clock()
    monkeypatch.setattr(playback_module, "sounddevice_module", lambda: sd)
    monkeypatch.setattr(devices_module, "sounddevice_module", lambda: sd)
    monkeypatch.setattr(playback_module, "clock", clock)
    return SimpleNamespace(sd=sd, clock=clock)


def make_playback(delay_s: float, **overrides) -> DelayedPlayback:
    config = PlaybackConfig(device="USB", delay_s=delay_s, warmup_timeout_s=0.0, **overrides)
    return DelayedPlayback(config).start()


def run_callback(player: DelayedPlayback, clock: Clock, dac_latency: float, frames: int = BLOCK,
                 started_late_by: float = 0.0) -> np.ndarray:
    """One PortAudio callback at clock.now whose buffer reaches the DAC dac_latency later; the Python code may
    start late (waiting for the GIL) while PortAudio's timestamps were taken on time."""
    out = np.full((frames, 1), np.nan, dtype=np.float32)
    stream_time = clock.now - 900.0  # PortAudio's own clock, offset from the monotonic one
    clock.now += started_late_by
    time_info = SimpleNamespace(currentTime=stream_time, outputBufferDacTime=stream_time + dac_latency)
    player._callback(out, frames, time_info, SimpleNamespace(output_underflow=False))
    return out[:, 0].copy()


def tone(samples: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-20000, 20000, samples).astype(np.int16)


def test_chunk_sounds_exactly_delay_after_publishing(fake):
    player = make_playback(delay_s=0.05)
    chunk = tone(BLOCK)
    published = fake.clock.now
    player.push(chunk, published)
    # Callbacks every 10 ms whose buffers reach the DAC 20 ms later: the chunk is due at published + 50 ms.
    played = []
    for _ in range(8):
        played.append(run_callback(player, fake.clock, dac_latency=0.02))
        fake.clock.now += 0.01
    played = np.concatenate(played)
    dac_start = published + 0.02
    first = int(np.flatnonzero(played)[0])
    assert first == pytest.approx((published + 0.05 - dac_start) * RATE, abs=1)  # sample 480 of the stream
    np.testing.assert_allclose(played[first:first + BLOCK], chunk / 32768.0, atol=1e-6)
    assert not np.isnan(played).any()
    assert player.stats.late_chunks == 0 and player.effective_delay_s == pytest.approx(0.05)


def test_contiguous_chunks_with_publish_jitter_play_back_to_back(fake):
    player = make_playback(delay_s=0.1)
    chunks = [tone(BLOCK, seed) for seed in range(20)]
    jitter = np.random.default_rng(1).uniform(-0.004, 0.004, len(chunks))
    start = fake.clock.now
    for i, chunk in enumerate(chunks):
        player.push(chunk, start + i * 0.01 + jitter[i])
    played = []
    fake.clock.now = start + 0.08  # the first buffer reaching the DAC at start + 0.1
    for _ in range(len(chunks)):
        played.append(run_callback(player, fake.clock, dac_latency=0.02))
        fake.clock.now += 0.01
    expected = np.concatenate(chunks) / 32768.0
    np.testing.assert_allclose(np.concatenate(played), expected, atol=1e-6)  # no gap, no overlap, no shift
    assert player.stats.late_chunks == 0


def test_latency_report_jitter_and_late_callbacks_do_not_move_the_audio(fake):
    player = make_playback(delay_s=0.1)
    chunks = [tone(BLOCK, seed) for seed in range(20)]
    start = fake.clock.now
    for i, chunk in enumerate(chunks):
        player.push(chunk, start + i * 0.01)
    played = []
    reported = [0.02] * len(chunks)
    reported[5], reported[6], reported[12] = 0.015, 0.024, 0.017  # PulseAudio's latency report wobbles
    for i in range(len(chunks)):
        fake.clock.now = start + 0.08 + i * 0.01
        played.append(run_callback(player, fake.clock, reported[i], started_late_by=0.004 if i in (3, 9) else 0.0))
    np.testing.assert_allclose(np.concatenate(played), np.concatenate(chunks) / 32768.0, atol=1e-6)
    assert player.stats.late_chunks == 0 and player.stats.resyncs == 0


def test_a_device_stall_resyncs_and_keeps_the_schedule(fake):
    player = make_playback(delay_s=0.1)
    chunks = [tone(BLOCK, seed) for seed in range(20)]
    start = fake.clock.now
    for i, chunk in enumerate(chunks):
        player.push(chunk, start + i * 0.01)
    expected = np.concatenate(chunks) / 32768.0
    fake.clock.now = start + 0.08
    np.testing.assert_allclose(run_callback(player, fake.clock, 0.02), expected[:BLOCK], atol=1e-6)
    fake.clock.now = start + 0.13  # the device stalled for 40 ms: the next buffer is at the DAC at start + 0.15
    np.testing.assert_allclose(run_callback(player, fake.clock, 0.02), expected[800:960], atol=1e-6)
    assert player.stats.resyncs == 1 and player.stats.late_chunks == 4 and player.stats.late_samples == 640


def test_late_samples_are_dropped_and_counted_to_keep_sync(fake):
    player = make_playback(delay_s=0.05)
    chunks = [tone(BLOCK, seed) for seed in range(6)]
    start = fake.clock.now
    for i, chunk in enumerate(chunks):
        player.push(chunk, start + i * 0.01)
    # The device stalled: its next buffer reaches the DAC at start + 0.075, 25 ms into the audio.
    fake.clock.now = start + 0.055
    played = run_callback(player, fake.clock, dac_latency=0.02)
    expected = np.concatenate(chunks) / 32768.0
    np.testing.assert_allclose(played, expected[400:560], atol=1e-6)  # what is due now, not what was due
    assert player.stats.late_chunks == 3  # chunks 0, 1 and half of 2 were dropped
    assert player.stats.late_samples == 400


def test_delay_below_device_latency_plays_as_early_as_possible(fake):
    player = make_playback(delay_s=0.0)
    run_callback(player, fake.clock, dac_latency=0.03)  # the device's output latency is measured: 30 ms
    chunk = tone(BLOCK)
    player.push(chunk, fake.clock.now)
    assert player.stats.clamped_segments == 1
    assert player.effective_delay_s == pytest.approx(0.04)  # output latency + one block
    played = np.concatenate([run_callback(player, fake.clock, 0.03) for _ in range(1)]
                            + [run_callback(player, _advance(fake.clock, 0.01), 0.03) for _ in range(2)])
    first = int(np.flatnonzero(played)[0])
    np.testing.assert_allclose(played[first:first + BLOCK], chunk / 32768.0, atol=1e-6)  # whole, not dropped
    assert player.stats.late_chunks == 0


def _advance(clock: Clock, seconds: float) -> Clock:
    clock.now += seconds
    return clock


def test_a_pause_starts_a_new_segment_at_its_own_publish_time(fake):
    player = make_playback(delay_s=0.05)
    player.push(tone(BLOCK, 0), fake.clock.now)
    second = tone(BLOCK, 1)
    later = fake.clock.now + 1.0  # a second of silence between two utterances
    player.push(second, later)
    fake.clock.now = later + 0.03
    played = np.concatenate([run_callback(player, _advance(fake.clock, 0.01 if i else 0.0), 0.02) for i in range(4)])
    # The first utterance is long past (dropped, counted); the second sounds at later + 0.05.
    first = int(np.flatnonzero(played)[0])
    assert first == BLOCK * 0  # buffer 0 reaches the DAC at later + 0.05
    np.testing.assert_allclose(played[:BLOCK], second / 32768.0, atol=1e-6)
    assert player.stats.late_chunks == 1


def test_device_without_16k_gets_resampled_output_on_the_same_schedule(fake):
    fake.sd.supported_rates = (48000,)
    player = make_playback(delay_s=0.05)
    assert player.output_rate == 48000
    # A 400 Hz tone over 0.2 s: at 48 kHz its onset lands at the same time as at 16 kHz.
    t = np.arange(3200) / RATE
    signal = (0.5 * np.sin(2 * np.pi * 400 * t) * 32767).astype(np.int16)
    start = fake.clock.now
    for i in range(0, len(signal), BLOCK):
        player.push(signal[i:i + BLOCK], start + i / RATE)
    fake.clock.now = start + 0.03
    played = np.concatenate([run_callback(player, _advance(fake.clock, 0.01 if i else 0.0), 0.02, frames=480)
                             for i in range(30)])
    onset = int(np.flatnonzero(np.abs(played) > 0.05)[0]) / 48000  # seconds after the first buffer's DAC time
    assert onset == pytest.approx(0.0, abs=0.0015)  # the first buffer reaches the DAC at start + 0.05
    assert np.abs(played).max() == pytest.approx(0.5, abs=0.02)


def test_output_device_lookup(fake):
    assert resolve_output_device("usb") == 1
    assert resolve_output_device("2") == 2
    assert resolve_output_device("") is None
    with pytest.raises(AudioDeviceError, match="ambiguous"):
        resolve_output_device("speaker")
    with pytest.raises(AudioDeviceError, match="no output device named 'mic'"):
        resolve_output_device("mic")  # an input-only device is not an output
    with pytest.raises(ValueError):
        DelayedPlayback(PlaybackConfig(delay_s=-0.1))


def test_push_before_start_is_an_error(fake):
    player = DelayedPlayback(PlaybackConfig(device="USB"))
    with pytest.raises(RuntimeError, match="before start"):
        player.push(tone(BLOCK))
