"""The sample clock behind face_inference's frame stamps (talkface_ros.audio.sample_clock), without ROS."""
from talkface_ros.audio.sample_clock import SampleClock, SampleClockConfig

MS = 1_000_000
CHUNK = 160  # 10 ms at 16 kHz
T0 = 1_000_000 * MS  # an arbitrary clock origin (ns)


def feed(clock: SampleClock, arrivals_ms: list[float]) -> None:
    for at in arrivals_ms:
        clock.on_chunk(T0 + int(at * MS), CHUNK, at / 1000.0)


def test_a_steady_stream_is_anchored_at_its_first_chunk_and_follows_the_samples():
    clock = SampleClock()
    feed(clock, [10.0 + 10 * k + jitter for k, jitter in enumerate([0, 0.8, -0.4, 0.6, 0.0, 0.9, 0.2])])
    assert clock.anchor_ns == T0  # the first chunk (10 ms of audio) arrived at 10 ms
    assert clock.counters.reanchors == 0 and clock.counters.anchor_corrections == 0
    # frames are stamped by their place in the audio, not by when chunks arrived
    assert clock.stamp_ns(0.020) == T0 + 20 * MS and clock.stamp_ns(0.040) == T0 + 40 * MS


def test_a_late_start_moves_the_anchor_back():
    clock = SampleClock()
    # the first 5 chunks arrive together at 50 ms (a burst), then in real time
    feed(clock, [50.0] * 5 + [60.0, 70.0])
    # each chunk of the burst shows that audio existed earlier than the anchor said: sample 0 was at 0 ms
    assert clock.counters.anchor_corrections == 4 and clock.anchor_ns == T0


def test_lost_samples_reanchor_forward_and_stamps_never_go_back():
    clock = SampleClock(SampleClockConfig(max_lag_s=0.2))
    feed(clock, [10.0, 20.0, 30.0])
    before = clock.stamp_ns(0.020)
    feed(clock, [530.0])  # 490 ms of audio never arrived
    assert clock.counters.reanchors == 1
    assert clock.anchor_ns == T0 + 490 * MS
    # a frame computed now for audio time 0.020 s would stamp before the last one: it is moved after it
    assert clock.stamp_ns(0.020) > before
    # once past the jump, stamps follow the new anchor
    assert clock.stamp_ns(0.040) == T0 + 530 * MS


def test_early_jitter_below_a_millisecond_is_not_a_correction():
    clock = SampleClock()
    feed(clock, [10.0, 19.5, 29.2])
    assert clock.counters.anchor_corrections == 0


def test_a_stall_ends_the_stream_and_the_next_chunk_anchors_a_new_one():
    clock = SampleClock(SampleClockConfig(idle_timeout_s=0.5))
    feed(clock, [10.0, 20.0])
    assert not clock.stalled(0.4) and clock.stalled(0.6)
    last = clock.stamp_ns(0.020)
    clock.end()
    assert not clock.streaming and not clock.stalled(10.0) and clock.audio_ahead_s(T0) is None
    feed(clock, [5000.0])
    assert clock.streaming and clock.samples_in == CHUNK
    assert clock.anchor_ns == T0 + 4990 * MS and clock.stamp_ns(0.0) > last


def test_audio_ahead_of_the_clock():
    clock = SampleClock()
    feed(clock, [10.0, 20.0, 30.0])
    assert abs(clock.audio_ahead_s(T0 + 30 * MS)) < 1e-9
    assert abs(clock.audio_ahead_s(T0 + 40 * MS) + 0.010) < 1e-9
