"""The teacher: visemes, coarticulation, bilabial closures, emotions."""
from __future__ import annotations

import numpy as np
import pytest

from talkface_ros.data.phones import Phone
from talkface_ros.data.teacher import SpeakerStyle, animate, lip_sync, num_frames_for
from talkface_ros.face.arkit import INDEX
from talkface_ros.face.emotion import EMOTIONS
from talkface_ros.face.visemes import BILABIAL, OPEN_VOWEL, ROUNDED_VOWEL, SPREAD_VOWEL, VISEME_INDEX, ipa_phone_class, ipa_viseme


def _phones(spec: str, dur: float = 0.12) -> list[Phone]:
    """'_ m a p u _' -> contiguous phones."""
    out, t = [], 0.0
    for sym in spec.split():
        sym = "" if sym == "_" else sym
        out.append(Phone(sym, t, t + dur))
        t += dur
    return out


def _audio_for(phones: list[Phone]) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.standard_normal(int(phones[-1].end * 16000)) * 3000).astype(np.int16)


def test_ipa_tables():
    assert ipa_viseme("p") == VISEME_INDEX["PP"] and ipa_viseme("m") == VISEME_INDEX["PP"]
    assert ipa_viseme("tʃ") == VISEME_INDEX["CH"] and ipa_viseme("ts") == VISEME_INDEX["SS"]
    assert ipa_viseme("aː") == VISEME_INDEX["aa"] and ipa_viseme("uː") == VISEME_INDEX["ou"]
    assert ipa_viseme("") == 0 and ipa_viseme("ˈ") == 0
    assert ipa_phone_class("b") == BILABIAL and ipa_phone_class("ɑː") == OPEN_VOWEL
    assert ipa_phone_class("o") == ROUNDED_VOWEL and ipa_phone_class("i") == SPREAD_VOWEL and ipa_phone_class("s") == 0


def test_bilabial_frames_close_the_lips_even_with_emotion():
    phones = _phones("_ a m a p a b u m i _", 0.1)
    audio = _audio_for(phones)
    for emotion in EMOTIONS:
        out = animate(phones, audio, np.random.default_rng(1), emotion=emotion, intensity=1.0, style=SpeakerStyle(amplitude=1.3))
        closed = (out.phone_class & BILABIAL) != 0
        assert closed.sum() >= 15
        jaw = out.frames[closed, INDEX["jawOpen"]]
        lips_gap = jaw - out.frames[closed, INDEX["mouthClose"]]
        assert jaw.max() <= 0.05, emotion
        assert np.abs(lips_gap).max() <= 1e-6, emotion  # mouthClose cancels the jaw: lips together
        open_frames = (out.phone_class & OPEN_VOWEL) != 0
        assert out.frames[open_frames, INDEX["jawOpen"]].mean() > 0.35


def test_coarticulation_anticipates_rounding():
    # Before a rounded vowel the lips start rounding during the consonant (dominance overlap).
    phones = _phones("_ s s u _", 0.1)
    rounded = lip_sync(phones, num_frames_for(int(phones[-1].end * 16000)))
    spread = lip_sync(_phones("_ s s i _", 0.1), num_frames_for(int(phones[-1].end * 16000)))
    t = int(0.28 * 50)  # late in the second /s/
    pucker = INDEX["mouthPucker"]
    assert rounded.frames[t, pucker] > spread.frames[t, pucker] + 0.05
    # ...and the curve is smooth: no frame-to-frame jump bigger than the pose difference.
    assert np.abs(np.diff(rounded.frames[:, pucker])).max() < 0.5


@pytest.mark.parametrize("emotion, raised, lowered", [
    ("happy", ["mouthSmileLeft", "cheekSquintLeft"], []),
    ("sad", ["mouthFrownLeft", "browInnerUp"], []),
    ("angry", ["browDownLeft", "noseSneerLeft"], []),
    ("surprised", ["eyeWideLeft", "browOuterUpLeft"], []),
    ("fearful", ["eyeWideLeft", "mouthStretchLeft"], []),
    ("disgusted", ["noseSneerLeft", "mouthUpperUpLeft"], []),
])
def test_emotions_change_upper_face_and_corners(emotion, raised, lowered):
    phones = _phones("_ h a l o w o r l d _", 0.1)
    audio = _audio_for(phones)
    base = animate(phones, audio, np.random.default_rng(3), "neutral", style=SpeakerStyle())
    strong = animate(phones, audio, np.random.default_rng(3), emotion, 1.0, style=SpeakerStyle())
    weak = animate(phones, audio, np.random.default_rng(3), emotion, 0.3, style=SpeakerStyle())
    for name in raised:
        b, w, s = (o.frames[:, INDEX[name]].mean() for o in (base, weak, strong))
        assert s > w + 0.05 > b + 0.05 - 0.05 and s > b + 0.15, (name, b, w, s)
    # The lip-sync channels of the jaw keep their timing (correlation with neutral stays high).
    jaw = INDEX["jawOpen"]
    assert np.corrcoef(base.frames[:, jaw], strong.frames[:, jaw])[0, 1] > 0.9


def test_blinks_and_head_motion_present_and_bounded():
    phones = _phones("_ " + " ".join(["a", "t", "e", "n"] * 20) + " _", 0.1)
    out = animate(phones, _audio_for(phones), np.random.default_rng(5), style=SpeakerStyle(blink_interval_s=2.0))
    blink = out.frames[:, INDEX["eyeBlinkLeft"]]
    assert blink.max() > 0.9 and (blink > 0.5).mean() < 0.3
    head = out.frames[:, 52:]
    assert np.abs(head).max() <= 0.6 and head.std(axis=0).min() > 0.005
    assert np.isfinite(out.frames).all() and out.frames[:, :52].min() >= 0 and out.frames[:, :52].max() <= 1


def test_unknown_emotion_rejected():
    phones = _phones("_ a _")
    with pytest.raises(ValueError):
        animate(phones, _audio_for(phones), np.random.default_rng(0), emotion="bored")


def test_seeds_vary_upper_face_not_lip_sync():
    from talkface_ros.eval.metrics import MOUTH_IDX, upper_face_diversity

    phones = _phones("_ " + " ".join(["m", "a", "s", "o"] * 12) + " _", 0.1)
    audio = _audio_for(phones)
    runs = [animate(phones, audio, np.random.default_rng(seed)).frames for seed in range(4)]
    assert upper_face_diversity(runs) > 0.01
    assert all(np.allclose(r[:, MOUTH_IDX], runs[0][:, MOUTH_IDX]) for r in runs)
