"""MBROLA voices through espeak-ng: real speakers' diphones as a corpus source (data/mbrola.py, data/espeak.py)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from talkface_ros.data import mbrola
from talkface_ros.data.align_check import boundary_errors
from talkface_ros.data.espeak import EspeakError, EspeakSynth, EspeakVoice

ROOT = Path(__file__).resolve().parents[1]
needs = pytest.mark.skipif(not (mbrola.voice_installed("us1") and mbrola.voice_installed("hu1")),
                           reason="mbrola voices not installed (tools/install_system_deps.sh, Debian non-free)")


@pytest.fixture(scope="module")
def synth():
    try:
        return EspeakSynth()
    except EspeakError as exc:
        pytest.skip(str(exc))


@needs
def test_mbrola_voice_is_read_at_its_own_rate_with_phones_where_the_audio_is(synth):
    text = "papa, mama, baba. pipi, moon. bob, mum."
    result = synth.synth(text, EspeakVoice("mb-us1"))  # a 16 kHz database; espeak's own voices are 22.05 kHz
    reference = synth.synth(text, EspeakVoice("en-us"))
    phones = result.phones
    assert all(a.end == pytest.approx(b.start) for a, b in zip(phones, phones[1:]))
    assert phones[-1].end == pytest.approx(len(result.audio) / 16000, abs=0.002)
    symbols = [p.symbol for p in phones if p.symbol]
    assert symbols[:2] == ["p", "\u0251\u02d0"] and symbols.count("m") >= 4
    # the pauses are where the audio is silent: read as 22.05 kHz, or with espeak-ng's event delay left in,
    # the boundaries are 40-60 ms off
    errors = np.array(boundary_errors(result.audio, 16000, phones)) * 1000
    assert len(errors) >= 3 and np.median(errors) <= 12.0, errors
    # the same phones as espeak-ng's own voice: espeak-ng made them, mbrola only rendered them
    assert symbols == [p.symbol for p in reference.phones if p.symbol]


@needs
def test_a_sentence_the_voice_lacks_diphones_for_is_refused(synth):
    # hu1 has no r-R diphone: mbrola would render silence there, under the label of a phone
    with pytest.raises(EspeakError, match="lacks .*diphone"):
        synth.synth("milyen mit embert de mint bele sz\u00f3 egyszerre", EspeakVoice("mb-hu1"))
    assert synth.synth("kir\u00e1ly hogy az", EspeakVoice("mb-hu1")).phones  # the voice itself works


@needs
def test_mbrola_sentences_are_training_speech_in_their_voices_language():
    from talkface_ros.data.synth import make_mbrola_utterances

    utterances = make_mbrola_utterances(np.random.default_rng(5), "t", 6, seed=0, neutral_share=0.35)
    assert len(utterances) == 6
    languages = {v.language for v in mbrola.MBROLA_VOICES.values()}
    for utt in utterances:
        name = utt.voice.split("@")[0].removeprefix("mbrola:")
        assert utt.synth == "mbrola" and name in mbrola.MBROLA_VOICES and utt.split in ("train", "val")
        assert utt.language == mbrola.MBROLA_VOICES[name].language and utt.language in languages
        assert abs(len(utt.frames) - len(utt.audio) / 320) <= 1 and np.isfinite(utt.frames).all()
    again = make_mbrola_utterances(np.random.default_rng(5), "t", 6, seed=0, neutral_share=0.35)
    assert [u.voice for u in again] == [u.voice for u in utterances]
    assert all(np.array_equal(a.audio, b.audio) for a, b in zip(again, utterances))


def test_the_install_script_installs_the_voices_the_corpus_uses():
    script = (ROOT / "tools" / "install_system_deps.sh").read_text()
    listed = re.search(r"^mbrola_packages=\(([^)]*)\)", script, re.M)
    assert listed is not None
    assert listed.group(1).split() == mbrola.debian_packages()


def test_english_voices_are_drawn_more_often_and_prosody_varies():
    rng = np.random.default_rng(0)
    names = tuple(mbrola.MBROLA_VOICES)
    draws = [mbrola.choose(rng, names) for _ in range(3000)]
    english = np.mean([v.text_language == "en" for v, _ in draws])
    n_en = sum(v.text_language == "en" for v in mbrola.MBROLA_VOICES.values())
    expected = 2 * n_en / (2 * n_en + len(names) - n_en)
    assert english == pytest.approx(expected, abs=0.03)
    assert all(p.language == f"mb-{v.name}" and not p.variant for v, p in draws)
    assert len({p.rate_wpm for _, p in draws}) > 40 and len({p.pitch for _, p in draws}) > 20
