"""The real-prompts eval set: Asterisk's English prompts, aligned with pocketsphinx through a disk cache."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from talkface_ros.data.phones import Phone
from talkface_ros.data import asterisk, sphinx_align
from talkface_ros.data.sphinx_align import AlignmentError
from talkface_ros.eval import real_set
from talkface_ros.face.visemes import BILABIAL, ROUNDED_VOWEL


def test_prompt_transcripts_become_the_words_said():
    assert asterisk.prompt_words("Please press 1, followed by #.") == "please press one followed by pound"
    assert asterisk.prompt_words("press * to toggle pause") == "press star to toggle pause"
    assert asterisk.prompt_words("[ascending tones]") is None
    assert asterisk.prompt_words("press 10 for more") is None  # "ten"? "one zero"?
    assert asterisk.prompt_words("  ") is None


def test_the_transcript_file_is_parsed_by_stem(tmp_path):
    path = tmp_path / "t.txt.gz"
    with gzip.open(path, "wt") as out:
        out.write("; Core Asterisk Sounds in English\n\nbeep: [a beep]\nauth-thankyou: Thank you.\n"
                  "digits/7: seven\nvm-press: press 2: for more\n")
    assert asterisk.asterisk_transcripts(path) == {
        "auth-thankyou": "thank you", "digits/7": "seven", "vm-press": "press two for more"}


def test_alignments_are_cached_by_audio_and_transcript(tmp_path, monkeypatch):
    calls = []

    def fake_align(audio, transcript):
        calls.append(transcript)
        if transcript == "fails":
            raise AlignmentError("no alignment")
        return [Phone("", 0.0, 0.1), Phone("m", 0.1, 0.2), Phone("u", 0.2, len(audio) / 16000)]

    monkeypatch.setattr(sphinx_align, "shared_aligner", lambda: type("A", (), {"align": staticmethod(fake_align)})())
    audio = (np.sin(np.arange(8000) / 5.0) * 1e4).astype(np.int16)
    first = sphinx_align.cached_force_align(audio, "moo", tmp_path)
    assert calls == ["moo"] and [p.symbol for p in first] == ["", "m", "u"]
    again = sphinx_align.cached_force_align(audio, "moo", tmp_path)
    assert calls == ["moo"] and again == first  # from the cache
    sphinx_align.cached_force_align(audio, "moon", tmp_path)  # another transcript
    sphinx_align.cached_force_align(audio[:-1], "moo", tmp_path)  # other audio
    assert calls == ["moo", "moon", "moo"]
    assert sphinx_align.cached_force_align(audio, "fails", tmp_path) is None
    assert sphinx_align.cached_force_align(audio, "fails", tmp_path) is None and calls.count("fails") == 1
    for path in tmp_path.glob("*.json"):
        path.write_text("{not json")  # a damaged cache is recomputed, not trusted
    assert sphinx_align.cached_force_align(audio, "moo", tmp_path) == first and calls.count("moo") == 3


def test_a_missing_install_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="asterisk-core-sounds-en"):
        real_set.build_prompts_set(tmp_path / "none", tmp_path / "none.txt.gz")


def test_asterisk_prompts_bring_connected_speech_with_bilabials_and_rounded_vowels(tmp_path):
    pytest.importorskip("pocketsphinx")
    if not (real_set.ASTERISK_DIR.is_dir() and real_set.ASTERISK_TRANSCRIPTS.is_file()):
        pytest.skip("asterisk-core-sounds-en(-wav) not installed")
    stems = ["agent-pass", "auth-thankyou", "vm-goodbye", "digits/2"]
    items = {i.id: i for i in real_set.build_prompts_set(stems=stems, cache_dir=tmp_path)}
    assert set(items) == set(stems)
    for item in items.values():
        assert item.reference.shape == (len(item.phone_class), 55) and item.speaker == "asterisk:allison"
        assert len(item.phone_class) == -(-len(item.audio) // 320)
    # "please enter your password followed by the pound key": p, p, b, p; "your", "followed", "pound"
    password = items["agent-pass"].phone_class
    assert int(np.sum(np.diff((password & BILABIAL) > 0, prepend=False) == 1)) >= 3
    assert ((password & ROUNDED_VOWEL) != 0).sum() >= 5
    assert len(list(tmp_path.glob("*.json"))) == len(stems)  # cached for the next run


def test_only_the_train_half_goes_into_a_corpus_and_copies_differ_in_their_faces(tmp_path):
    pytest.importorskip("pocketsphinx")
    if not (real_set.ASTERISK_DIR.is_dir() and real_set.ASTERISK_TRANSCRIPTS.is_file()):
        pytest.skip("asterisk-core-sounds-en(-wav) not installed")
    from talkface_ros.data.asterisk import make_prompt_utterances, prompt_split

    stems = {"agent-loginok": "Agent logged in.", "auth-thankyou": "Thank you.", "agent-pass": "Please enter your password."}
    assert [prompt_split(s) for s in stems] == ["train", "train", "test"]
    directory = tmp_path / "sounds"
    directory.mkdir()
    for stem in stems:
        (directory / f"{stem}.wav").write_bytes((real_set.ASTERISK_DIR / f"{stem}.wav").read_bytes())
    transcripts = tmp_path / "t.txt.gz"
    with gzip.open(transcripts, "wt") as out:
        out.write("".join(f"{stem}: {text}\n" for stem, text in stems.items()))
    first = make_prompt_utterances(0, 0.35, copy=0, directory=directory, transcripts=transcripts, cache_dir=tmp_path / "c")
    second = make_prompt_utterances(0, 0.35, copy=1, directory=directory, transcripts=transcripts, cache_dir=tmp_path / "c")
    assert [u.id for u in first] == ["ast-agent-loginok-0", "ast-auth-thankyou-0"]  # never the test prompt
    for a, b in zip(first, second):
        a.validate()
        assert a.synth == "asterisk" and a.split == "train" and a.language == "en-us"
        assert np.array_equal(a.audio, b.audio) and np.array_equal(a.phone_class, b.phone_class)
    assert any(a.emotion != b.emotion or not np.allclose(a.frames, b.frames) for a, b in zip(first, second))
    assert make_prompt_utterances(0, 0.35, directory=tmp_path / "none", transcripts=transcripts) == []
