import numpy as np
import pytest

from talkface_ros.face.arkit import FRAME_SIZE, HEAD_POSE_LIMIT_RAD, INDEX, sanitize_frames
from talkface_ros.face.emotion import Emotion, EmotionRamp, parse_emotion
from talkface_ros.face.idle import IdleFace


def test_parse_emotion():
    assert parse_emotion("happy") == Emotion("happy", 1.0)
    assert parse_emotion(" Sad:0.6 ") == Emotion("sad", 0.6)
    for bad in ("joyful", "happy:2", "happy:x", ""):
        with pytest.raises(ValueError):
            parse_emotion(bad)


def test_ramp_from_neutral_reaches_target_within_transition():
    ramp = EmotionRamp(transition_s=0.2, frame_rate=50.0)
    ramp.set_target(Emotion("happy", 0.8))
    steps = [ramp.step() for _ in range(10)]
    assert steps[0].label == "happy" and 0 < steps[0].intensity < 0.8
    assert steps[-1] == Emotion("happy", 0.8)
    intensities = [s.intensity for s in steps]
    assert intensities == sorted(intensities)


def test_ramp_between_labels_fades_out_then_in_without_jumps():
    ramp = EmotionRamp(transition_s=0.2, frame_rate=50.0, start=Emotion("happy", 1.0))
    ramp.set_target(Emotion("sad", 1.0))
    steps = [ramp.step() for _ in range(15)]
    labels = [s.label for s in steps]
    first_sad = labels.index("sad")
    assert all(label == "happy" for label in labels[:first_sad])
    assert steps[first_sad - 1].intensity <= 0.21 and steps[first_sad].intensity <= 0.21
    assert steps[-1] == Emotion("sad", 1.0)


def test_sanitize_frames_clamps_and_replaces_nan():
    frame = np.full(FRAME_SIZE, 2.0, dtype=np.float32)
    frame[0] = np.nan
    frame[INDEX["headYaw"]] = -5.0
    fallback = np.full(FRAME_SIZE, 0.25, dtype=np.float32)
    clean = sanitize_frames(frame, fallback=fallback)
    assert clean[0] == 0.25 and clean[1] == 1.0
    assert clean[INDEX["headYaw"]] == -HEAD_POSE_LIMIT_RAD
    assert np.all(np.isfinite(sanitize_frames(np.full((3, FRAME_SIZE), np.inf))))


def test_idle_face_blinks_and_sways_within_limits():
    idle = IdleFace(frame_rate=50.0, seed=3)
    frames = np.stack([idle.step() for _ in range(50 * 20)])
    blink = frames[:, INDEX["eyeBlinkLeft"]]
    assert blink.max() > 0.9, "at least one full blink in 20 s"
    assert (blink > 0.5).mean() < 0.1, "eyes open most of the time"
    yaw = frames[:, INDEX["headYaw"]]
    assert 0.005 < np.abs(yaw).max() <= 0.031
    assert frames[:, INDEX["jawOpen"]].max() == 0.0


def test_idle_face_fades_from_last_frame():
    idle = IdleFace(frame_rate=50.0, fade_s=0.2)
    speaking = np.zeros(FRAME_SIZE, dtype=np.float32)
    speaking[INDEX["jawOpen"]] = 0.8
    idle.blend_from(speaking)
    jaw = [idle.step()[INDEX["jawOpen"]] for _ in range(15)]
    assert 0.5 < jaw[0] < 0.8 and jaw[-1] == 0.0
    assert all(a >= b for a, b in zip(jaw, jaw[1:]))
