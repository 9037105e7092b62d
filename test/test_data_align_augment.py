"""Phone-event timing against the audio, the pocketsphinx real set, and augmentation."""
from __future__ import annotations

import numpy as np
import pytest

from talkface_ros.data.align_check import check_languages
from talkface_ros.data.augment import AugmentConfig, augment, synthetic_rir


def test_espeak_events_match_audio_within_30ms():
    report = check_languages(["en-us", "de", "es", "ru"], sentences=12, seed=3)
    for lang, summary in report["languages"].items():
        assert summary["boundaries"] >= 8, lang
        assert summary["median_ms"] < 30.0, (lang, summary)


def test_augment_keeps_length_range_and_changes_audio():
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    outs = [augment(audio, np.random.default_rng(s)) for s in range(12)]
    for out in outs:
        assert out.shape == audio.shape and out.dtype == np.float32 and np.isfinite(out).all() and np.abs(out).max() <= 1
    assert len({round(float(np.std(o)), 4) for o in outs}) > 6  # random chains differ
    assert np.array_equal(augment(audio, np.random.default_rng(5)), augment(audio, np.random.default_rng(5)))
    # Noise only, at 10 dB SNR, no gain: the added part has a tenth of the speech power.
    noisy = augment(audio, rng, AugmentConfig(p_band=0, p_reverb=0, p_noise=1, snr_db=(10, 10), p_resample=0, gain_db=(0, 0)))
    assert np.abs(noisy).max() < 0.9  # below the headroom limit, so no peak rescaling happened
    noise = noisy - audio
    snr = 10 * np.log10(np.mean(audio**2) / np.mean(noise**2))
    assert 8.5 < snr < 11.5, snr
    assert augment(np.zeros(0, np.float32), rng).shape == (0,)
    assert np.isfinite(augment(np.full(100, np.nan, np.float32), rng)).all()
    rir = synthetic_rir(rng, 0.4)
    assert rir[0] > 0.3 and abs(np.sum(rir**2) - 1) < 1e-4


def test_real_set_alignment():
    pytest.importorskip("pocketsphinx")
    from talkface_ros.eval.real_set import ALSA_DIR, build_alsa_set

    if not (ALSA_DIR / "Front_Center.wav").exists():
        pytest.skip("alsa-utils sounds not installed")
    items = build_alsa_set()
    assert len(items) == 8
    for item in items:
        assert item.reference.shape == (len(item.phone_class), 55)
        assert (item.phone_class & 8).any()  # every pair has a spread vowel (ɪ ɛ, or aɪ's second half)
    assert sum(bool((i.phone_class & 1).any()) for i in items) >= 5  # "front", "right", "side": open vowels


def test_shipped_real_sentences_bring_bilabials_and_rounded_vowels():
    pytest.importorskip("pocketsphinx")
    from talkface_ros.face.visemes import BILABIAL, ROUNDED_VOWEL
    from talkface_ros.eval.real_set import build_arctic_set

    items = {item.id: item for item in build_arctic_set()}
    assert set(items) == {"arctic_a0007", "arctic_a0009"}
    for item in items.values():
        assert item.reference.shape == (len(item.phone_class), 55)
        assert len(item.phone_class) == -(-len(item.audio) // 320)
    # "sharply ... table" and "superlative": p, b, p; "you always", "across": rounded vowels
    bilabial_runs = sum(int(np.sum(np.diff((i.phone_class & BILABIAL) > 0, prepend=False) == 1))
                        for i in items.values())
    assert bilabial_runs >= 3
    assert all((i.phone_class & ROUNDED_VOWEL).any() for i in items.values())


def test_ktuberling_words_bring_bilabials_and_rounded_vowels(tmp_path):
    pytest.importorskip("pocketsphinx")
    from talkface_ros.eval.real_set import KTUBERLING_DIR, build_ktuberling_set
    from talkface_ros.face.visemes import BILABIAL, OPEN_VOWEL, ROUNDED_VOWEL

    with pytest.raises(FileNotFoundError, match="KTuberling"):
        build_ktuberling_set(tmp_path / "none")
    if not (KTUBERLING_DIR / "ball.ogg").exists():
        pytest.skip("ktuberling-data not installed")
    items = {i.id: i for i in build_ktuberling_set(stems=["ball", "umbrella", "shoe", "moon_moonwalker", "pizzeria_pepper"])}
    assert len(items) == 5
    for item in items.values():
        assert item.reference.shape == (len(item.phone_class), 55)
        assert len(item.phone_class) == -(-len(item.audio) // 320)
    for word in ("ball", "umbrella", "moon_moonwalker", "pizzeria_pepper"):
        assert ((items[word].phone_class & BILABIAL) != 0).sum() >= 2, word
    for word in ("shoe", "moon_moonwalker"):
        assert ((items[word].phone_class & ROUNDED_VOWEL) != 0).sum() >= 3, word
    # the word is spoken within its clip: its phones cover speech, not the whole file
    ball = items["ball"].phone_class
    assert ball[0] == 0 and ((ball & OPEN_VOWEL) != 0).sum() + ((ball & ROUNDED_VOWEL) != 0).sum() >= 5


def test_festival_segs_and_timing():
    from talkface_ros.data import festival
    from talkface_ros.data.align_check import check_festival

    phones = festival.parse_segs("#\n0.1650 100 pau\n0.2550 100 hh\n0.2850 100 ax\n0.5 100 m\n")
    assert [p.symbol for p in phones] == ["", "h", "ə", "m"] and phones[1].start == pytest.approx(0.165)
    if not festival.available():
        pytest.skip("festival not installed")
    report = check_festival(("kal", "slt"), sentences=8, seed=1)
    for name, summary in report["voices"].items():
        assert summary["boundaries"] >= 8 and summary["median_ms"] < 30.0, (name, summary)


def test_boundary_errors_on_a_known_signal():
    from talkface_ros.data.align_check import boundary_errors
    from talkface_ros.data.phones import Phone

    t = np.arange(16000) / 16000
    tone = (8000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
    audio = tone.copy()
    audio[8000:10000] = 0  # a pause from 0.5 to 0.625 s; speech starts right at sample 0
    exact = [Phone("a", 0.0, 0.5), Phone("", 0.5, 0.625), Phone("a", 0.625, 1.0)]
    assert max(boundary_errors(audio, 16000, exact)) <= 0.006
    late = [Phone("a", 0.0, 0.54), Phone("", 0.54, 0.665), Phone("a", 0.665, 1.0)]
    errors = boundary_errors(audio, 16000, late)
    assert len(errors) == 4 and sorted(errors)[-2] == pytest.approx(0.04, abs=0.006)
