"""flite voices with pocketsphinx-aligned phones: a corpus source (data/flite.py, data/sphinx_align.py)."""
from __future__ import annotations

import numpy as np
import pytest

from talkface_ros.data import flite

pytest.importorskip("pocketsphinx")
needs_flite = pytest.mark.skipif(not flite.available(), reason="flite not installed (apt-get install flite)")


@pytest.fixture(scope="module")
def aligner():
    from talkface_ros.data.sphinx_align import SphinxAligner

    return SphinxAligner()


def test_the_aligner_knows_dictionary_words_only(aligner):
    assert aligner.knows("The moon, is bright!")
    assert not aligner.knows("the zqxvbn moon")
    assert not aligner.knows("  ")


@needs_flite
def test_flite_sentence_gets_aligned_contiguous_phones(aligner):
    result = flite.synth("my blue moon", flite.FliteVoice("awb", 1.1), aligner)
    assert result is not None and result.audio.dtype == np.int16
    phones = result.phones
    assert all(a.end == pytest.approx(b.start) for a, b in zip(phones, phones[1:]))  # contiguous
    assert phones[-1].end == pytest.approx(len(result.audio) / 16000, abs=0.011)
    symbols = [p.symbol for p in phones if p.symbol]
    assert symbols[:2] == ["m", "a\u026a"] and "b" in symbols and symbols[-3:] == ["m", "u", "n"]
    # the words are spoken where they are aligned: the aligned speech is louder than the aligned silence
    x = result.audio.astype(np.float64)
    speech = np.concatenate([x[int(p.start * 16000):int(p.end * 16000)] for p in phones if p.symbol])
    silence = np.concatenate([x[int(p.start * 16000):int(p.end * 16000)] for p in phones if not p.symbol])
    assert np.sqrt(np.mean(speech ** 2)) > 5 * np.sqrt(np.mean(silence ** 2))


@needs_flite
def test_flite_skips_words_the_aligner_cannot_spell(aligner):
    assert flite.synth("the zqxvbn moon", flite.FliteVoice("slt"), aligner) is None
    with pytest.raises(flite.FliteError, match="unknown flite voice"):
        flite.synth("the moon", flite.FliteVoice("nobody"), aligner)


@needs_flite
def test_flite_utterances_are_training_data_and_reproducible():
    from talkface_ros.data.synth import make_flite_utterances

    a = make_flite_utterances(np.random.default_rng(3), "t", 3, 0, 0.35)
    b = make_flite_utterances(np.random.default_rng(3), "t", 3, 0, 0.35)
    assert len(a) == 3
    for u, v in zip(a, b):
        assert u.synth == "flite" and u.split in ("train", "val") and u.voice.startswith("flite:")
        assert u.frames.shape == (-(-len(u.audio) // 320), 55) and len(u.phone_class) == len(u.frames)
        assert np.array_equal(u.audio, v.audio) and np.array_equal(u.phone_class, v.phone_class)
