"""Room acoustics and microphone faults (talkface_ros.data.acoustics) and the eval conditions built on them."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyroomacoustics")

from talkface_ros.data import acoustics  # noqa: E402
from talkface_ros.eval.conditions import CONDITIONS, degrade_items  # noqa: E402
from talkface_ros.eval.evaluate import EvalItem  # noqa: E402

SR = 16000


def _speech_like(rng: np.random.Generator, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    return (0.2 * envelope * np.sin(2 * np.pi * 180 * t) + 0.02 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.mark.parametrize("rt60", [0.3, 0.6, 1.0])
def test_rir_hits_its_rt60(rt60):
    rir = acoustics.room_impulse_response(np.random.default_rng(3), rt60)
    measured = acoustics.measure_rt60(rir)
    assert abs(measured - rt60) <= 0.15 * rt60, (rt60, measured)
    assert int(np.argmax(np.abs(rir))) == 0  # direct path first: no shift against the labels
    assert np.sum(rir.astype(np.float64) ** 2) == pytest.approx(1.0, rel=1e-4)


def test_measure_rt60_of_an_exponential_decay():
    t = np.arange(SR) / SR
    rir = np.random.default_rng(0).standard_normal(SR) * 10 ** (-3 * t / 0.5)  # 60 dB in 0.5 s
    assert acoustics.measure_rt60(rir) == pytest.approx(0.5, rel=0.05)


def test_rir_is_a_function_of_the_seed():
    a = acoustics.room_impulse_response(np.random.default_rng(7), 0.4)
    b = acoustics.room_impulse_response(np.random.default_rng(7), 0.4)
    c = acoustics.room_impulse_response(np.random.default_rng(8), 0.4)
    np.testing.assert_array_equal(a, b)
    assert len(a) != len(c) or not np.array_equal(a, c)


def test_reverberate_keeps_length_and_level():
    x = _speech_like(np.random.default_rng(0))
    wet = acoustics.reverberate(x, acoustics.fixed_rir(0.6, 0))
    assert len(wet) == len(x)
    assert np.sqrt(np.mean(wet**2)) == pytest.approx(np.sqrt(np.mean(x**2)), rel=1e-3)
    assert not np.allclose(wet, x, atol=1e-3)


@pytest.mark.parametrize("snr_db", [-5.0, 5.0, 20.0])
def test_mix_at_snr_achieves_the_snr(snr_db):
    rng = np.random.default_rng(1)
    x = _speech_like(rng)
    noise = rng.standard_normal(len(x)).astype(np.float32) * 3.0
    mixed = acoustics.mix_at_snr(x, noise, snr_db)
    residual = mixed.astype(np.float64) - x
    achieved = 10 * np.log10(np.mean(x.astype(np.float64) ** 2) / np.mean(residual**2))
    assert abs(achieved - snr_db) < 0.5


def test_babble_sums_talkers_at_equal_level():
    rng = np.random.default_rng(2)
    talkers = [0.01 * _speech_like(rng, 0.5), 0.5 * _speech_like(rng, 0.7)]
    out = acoustics.babble(np.random.default_rng(0), talkers, 16000)
    assert out.shape == (16000,)
    # two uncorrelated unit-RMS talkers: about sqrt(2) RMS (the loud one does not drown the quiet one)
    assert 1.0 < np.sqrt(np.mean(out**2)) < 1.8


def test_gain_and_hard_clip():
    x = _speech_like(np.random.default_rng(4))
    quiet = acoustics.gain(x, -30.0)
    assert 20 * np.log10(np.sqrt(np.mean(quiet**2)) / np.sqrt(np.mean(x**2))) == pytest.approx(-30.0, abs=0.01)
    clipped = acoustics.hard_clip(x, 20.0)
    assert np.abs(clipped).max() == pytest.approx(1.0)
    assert np.mean(np.abs(clipped) >= 1.0) > 0.1  # +20 dB on a 0.2-peak signal clips a lot
    small = np.abs(x * 10.0) < 1.0
    np.testing.assert_allclose(clipped[small], x[small] * 10.0, rtol=1e-5)


def test_servo_noise_has_hum_and_unit_rms():
    n = 2 * SR
    noise = acoustics.servo_noise(np.random.default_rng(5), n)
    assert np.sqrt(np.mean(noise.astype(np.float64) ** 2)) == pytest.approx(1.0, rel=1e-3)
    spectrum = np.abs(np.fft.rfft(noise))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    hum = max(spectrum[np.argmin(np.abs(freqs - 50))], spectrum[np.argmin(np.abs(freqs - 60))])
    assert hum > 10 * np.median(spectrum)


def _items(n: int = 6) -> list[EvalItem]:
    rng = np.random.default_rng(9)
    return [EvalItem(f"u{k}", acoustics.to_int16(_speech_like(rng, 0.6 + 0.1 * k)), np.zeros(30 + 5 * k, np.uint8),
                     speaker=f"s{k % 3}") for k in range(n)]


@pytest.mark.parametrize("condition", sorted(CONDITIONS))
def test_conditions_are_deterministic_and_keep_labels(condition):
    items = _items()
    a, b = degrade_items(items, condition, seed=0), degrade_items(items, condition, seed=0)
    for orig, x, y in zip(items, a, b):
        np.testing.assert_array_equal(x.audio, y.audio)
        assert x.audio.dtype == np.int16 and len(x.audio) == len(orig.audio)
        assert x.phone_class is orig.phone_class and x.id == orig.id
        if condition != "clean":
            assert not np.array_equal(x.audio, orig.audio)
    # an utterance's degradation does not depend on what else is in the set (babble draws from the set,
    # but its seed is the utterance's own)
    if condition not in ("babble", "clean"):
        alone = degrade_items(items[2:3], condition, seed=0)[0]
        np.testing.assert_array_equal(alone.audio, a[2].audio)


def test_condition_seed_changes_the_draws():
    items = _items()
    a = degrade_items(items, "noise", seed=0)[0].audio
    b = degrade_items(items, "noise", seed=1)[0].audio
    assert not np.array_equal(a, b)


def test_quiet_condition_level():
    items = _items()
    quiet = degrade_items(items, "quiet")[0].audio.astype(np.float64)
    clean = items[0].audio.astype(np.float64)
    assert 20 * np.log10(np.sqrt(np.mean(quiet**2)) / np.sqrt(np.mean(clean**2))) == pytest.approx(-30.0, abs=0.2)


def test_unknown_condition_is_refused():
    with pytest.raises(ValueError, match="unknown condition"):
        degrade_items(_items(), "underwater")


def _augmenter():
    from talkface_ros.data.augment import RoomAugmenter, RoomAugmentConfig

    rng = np.random.default_rng(0)
    rirs = [acoustics.room_impulse_response(np.random.default_rng(k), 0.5) for k in range(2)]
    talkers = [acoustics.to_int16(_speech_like(rng, 0.8)) for _ in range(5)]
    return RoomAugmenter(rirs, talkers, RoomAugmentConfig())


def test_room_augmenter_is_seeded_keeps_length_and_spans_the_gain_range():
    aug = _augmenter()
    x = acoustics.to_int16(_speech_like(np.random.default_rng(3), 1.2))
    a = [aug(x, np.random.default_rng(k)) for k in range(40)]
    b = [aug(x, np.random.default_rng(k)) for k in range(40)]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
        assert u.shape == (len(x),) and u.dtype == np.float32 and np.abs(u).max() <= 1.0
    ref = np.sqrt(np.mean(acoustics.to_float(x) ** 2))
    levels = [20 * np.log10(np.sqrt(np.mean(u.astype(np.float64) ** 2)) / ref + 1e-12) for u in a]
    assert min(levels) < -25.0  # quiet microphones
    assert any(np.mean(np.abs(u) >= 0.999) > 0.01 for u in a)  # overdriven, clipped ones
    assert len({round(v, 3) for v in levels}) > 30  # the draws differ


def test_clips_through_the_level_normaliser(tmp_path):
    from talkface_ros.model.data import clip_from_utterance
    from talkface_ros.model.features import FrontEnd, LevelNormConfig, audio_tokens, normalise_levels
    from talkface_ros.data.corpus import Utterance

    audio = acoustics.to_int16(_speech_like(np.random.default_rng(5), 1.0))
    T = -(-len(audio) // 320)
    utt = Utterance("u", audio, np.zeros((T, 55), np.float32), np.zeros(T, np.uint8), np.zeros(T, np.int8))
    np.testing.assert_array_equal(clip_from_utterance(utt).tokens, audio_tokens(audio)[:T])
    normed = clip_from_utterance(utt, front_end=FrontEnd(level_norm=LevelNormConfig())).tokens
    np.testing.assert_array_equal(normed, normalise_levels(audio_tokens(audio))[:T])
