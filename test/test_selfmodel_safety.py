"""Property tests: whatever comes in (NaN, out of range, wrong length, jumps, silence), what goes out is
finite, within limits, within slew rates, tendons never push, and silence ends at neutral."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from talkface_ros.face.arkit import FRAME_SIZE
from talkface_ros.face.description import load_face_description
from talkface_ros.selfmodel.model import SelfModel
from talkface_ros.selfmodel.retarget import Retargeter, RetargetConfig, frame_from_named
from talkface_ros.selfmodel.safety import SafetyLayer, SafetyLimits

DESCRIPTION = load_face_description()
LIMITS = SafetyLimits.from_description(DESCRIPTION)
MODEL = SelfModel.load()
N = LIMITS.lower.size
floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
bad_or_good = st.one_of(
    st.none(),
    st.lists(floats, min_size=N, max_size=N),
    st.lists(st.floats(-100, 100), min_size=N, max_size=N),
    st.lists(floats, min_size=0, max_size=2 * N),
    st.just("garbage"),
)


def _check_sent(sent: np.ndarray, previous: np.ndarray, dt: float) -> None:
    assert sent.shape == (N,) and np.all(np.isfinite(sent))
    assert np.all(sent >= LIMITS.lower - 1e-12) and np.all(sent <= LIMITS.upper + 1e-12)
    assert np.all(sent[LIMITS.tendon] >= 0.0)                     # a string never pushes
    assert np.all(np.abs(sent - previous) <= LIMITS.max_speed * max(dt, 0.0) + 1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(bad_or_good, st.floats(0.0, 0.2)), min_size=1, max_size=40))
def test_safety_layer_output_is_always_safe(steps):
    layer = SafetyLayer(LIMITS, watchdog_s=0.3)
    now, previous = 0.0, LIMITS.neutral.copy()
    for command, dt in steps:
        now += dt
        sent = layer.step(command, now)
        _check_sent(sent, previous, dt)
        previous = sent


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.lists(floats, min_size=0, max_size=FRAME_SIZE + 3), st.floats(0.001, 0.05)),
                min_size=1, max_size=30))
def test_retargeter_with_any_frames_stays_safe(frames):
    retargeter = Retargeter(MODEL, LIMITS, RetargetConfig())
    now, previous = 0.0, LIMITS.neutral.copy()
    for frame, dt in frames:
        now += dt
        retargeter.push_frame(np.array(frame, dtype=np.float64), now)
        sent = retargeter.tick(now)
        _check_sent(sent, previous, dt)
        previous = sent


def test_watchdog_returns_to_neutral_when_the_stream_stops():
    retargeter = Retargeter(MODEL, LIMITS, RetargetConfig(stale_s=0.2))
    frame = np.zeros(FRAME_SIZE)
    frame[17] = 1.0                                                # jawOpen
    now = 0.0
    for _ in range(50):
        now += 0.01
        if round(now * 100) % 2 == 0:
            retargeter.push_frame(frame, now)
        sent = retargeter.tick(now)
    jaw = DESCRIPTION.joint_names.index("jaw_open")
    assert sent[jaw] > 0.1                                         # the mouth opened
    for _ in range(300):                                           # 3 s of silence
        now += 0.01
        sent = retargeter.tick(now)
    np.testing.assert_allclose(sent, LIMITS.neutral, atol=1e-9)


def test_bad_frame_holds_the_last_safe_command():
    layer = SafetyLayer(LIMITS, watchdog_s=1.0)
    target = (LIMITS.lower + LIMITS.upper) / 2
    for t in range(200):
        sent = layer.step(target, t * 0.01)
    held = layer.step([float("nan")] * N, 2.01)
    np.testing.assert_allclose(held, sent)
    assert layer.rejected == 1


def test_frame_from_named_maps_by_name_and_refuses_nan():
    frame = frame_from_named(["jawOpen", "unknownThing", "headYaw"], [0.5, 3.0, 0.1])
    assert frame[17] == 0.5 and frame[52] == 0.1 and frame.sum() == 0.6
    for names, values in ((["jawOpen"], [float("nan")]), (["jawOpen"], [0.1, 0.2]), (["nothing"], [1.0])):
        try:
            frame_from_named(names, values)
        except ValueError:
            continue
        raise AssertionError(f"accepted {names} {values}")


def test_disabled_retargeter_ignores_frames_and_rests_at_neutral():
    retargeter = Retargeter(MODEL, LIMITS, RetargetConfig())
    frame = np.zeros(FRAME_SIZE)
    frame[17] = 1.0
    retargeter.set_enabled(False)
    now = 0.0
    for _ in range(100):
        now += 0.01
        assert not retargeter.push_frame(frame, now)
        sent = retargeter.tick(now)
    np.testing.assert_allclose(sent, LIMITS.neutral)
    retargeter.set_enabled(True)
    assert retargeter.push_frame(frame, now + 0.01)
