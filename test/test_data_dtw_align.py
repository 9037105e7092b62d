"""Alignment by DTW against an espeak-ng reading (data/dtw_align.py) and the Asterisk prompts in other
languages that it aligns (data/world_prompts.py)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from talkface_ros.data import dtw_align, world_prompts
from talkface_ros.data.phones import Phone


def test_identical_sequences_warp_along_the_diagonal():
    x = np.random.default_rng(0).normal(size=(30, 4))
    cost = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    path = dtw_align.dtw_path(cost)
    assert path.tolist() == [[i, i] for i in range(30)]


def test_a_stretched_copy_is_followed_and_every_frame_of_both_sides_is_on_the_path():
    rng = np.random.default_rng(1)
    ref = np.repeat(rng.normal(size=(20, 4)), 2, axis=0)  # 40 frames, 2 per "phone"
    real = np.repeat(ref[::2], 3, axis=0)  # the same "phones" 1.5x slower: 60 frames
    cost = np.sqrt(((ref[:, None] - real[None]) ** 2).sum(-1))
    path = dtw_align.dtw_path(cost)
    assert path[0].tolist() == [0, 0] and path[-1].tolist() == [39, 59]
    assert set(path[:, 0]) == set(range(40)) and set(path[:, 1]) == set(range(60))
    assert np.all(np.diff(path, axis=0) >= 0)
    # reference phone k (frames 2k, 2k+1) lands on real frames 3k..3k+2
    for i, j in path:
        assert j // 3 == i // 2


def test_lengths_more_than_twice_apart_cannot_be_warped():
    with pytest.raises(ValueError, match="tempo"):
        dtw_align.dtw_path(np.ones((10, 25)))


def test_phones_follow_the_warp_and_stay_contiguous():
    reference = [Phone("", 0.0, 0.02), Phone("a", 0.02, 0.06), Phone("m", 0.06, 0.08), Phone("", 0.08, 0.10)]
    path = np.array([[i, 2 * i + d] for i in range(5) for d in (0, 1)])  # every reference frame -> two real frames
    phones = dtw_align.warp_phones(reference, path, 0.2, frame_s=0.02)
    assert [(p.symbol, round(p.start, 3), round(p.end, 3)) for p in phones] == [
        ("", 0.0, 0.04), ("a", 0.04, 0.12), ("m", 0.12, 0.16), ("", 0.16, 0.2)]


def test_silence_padding_shifts_the_phones():
    audio, phones = dtw_align.pad_with_silence(np.ones(1600, np.int16), [Phone("a", 0.0, 0.1)], 0.3, 0.2)
    assert len(audio) == 1600 + 4800 + 3200 and audio[:4800].max() == 0 and audio[-3200:].max() == 0
    assert [(p.symbol, round(p.start, 3), round(p.end, 3)) for p in phones] == [("", 0.0, 0.3), ("a", 0.3, 0.4), ("", 0.4, 0.6)]
    assert dtw_align.pad_with_silence(np.ones(1600, np.int16), [Phone("a", 0.0, 0.1)], 0.0, 0.0)[1] == [Phone("a", 0.0, 0.1)]


def test_espeak_at_another_rate_is_aligned_to_within_a_few_frames():
    """The same sentence read at 150 and 110 words a minute: the slow reading's own phone events are the
    truth for the warp of the fast one's."""
    from talkface_ros.data.espeak import EspeakError, EspeakVoice
    from talkface_ros.data.synth import _synth

    try:
        synth = _synth()  # the process's one instance: a second one would take over libespeak-ng's callback
    except EspeakError as exc:
        pytest.skip(f"espeak-ng: {exc}")
    text = "the quick brown fox jumps over the lazy dog"
    fast = synth.synth(text, EspeakVoice("en-us", "", 150, 50))
    slow = synth.synth(text, EspeakVoice("en-us", "", 110, 50))
    aligned = dtw_align.align_to_reference(slow.audio, fast.audio, fast.phones)
    truth = {(p.symbol, k): p for k, p in enumerate(q for q in slow.phones if q.symbol)}
    found = [p for p in aligned if p.symbol]
    assert [p.symbol for p in found] == [p.symbol for p in fast.phones if p.symbol]
    errors = [abs(a.start - t.start) for a, t in zip(found, truth.values())]
    assert np.median(errors) < 0.03 and np.percentile(errors, 90) < 0.08, errors
    assert aligned[0].start == 0.0 and abs(aligned[-1].end - len(slow.audio) / 16000) < 1e-9
    assert all(a.end == b.start for a, b in zip(aligned, aligned[1:]))


def test_another_voice_is_aligned_on_the_encoders_features():
    """What world_prompts does, on speech whose phones are known: espeak's default voice read fast as the
    reference, a female variant read slowly as the "recording"."""
    pytest.importorskip("torch")
    from talkface_ros.data.espeak import EspeakError, EspeakVoice
    from talkface_ros.data.synth import _synth

    try:
        synth = _synth()
    except EspeakError as exc:
        pytest.skip(f"espeak-ng: {exc}")
    text = "my mother bought a blue umbrella"
    reference = synth.synth(text, EspeakVoice("en-us", "", 160, 50))
    recording = synth.synth(text, EspeakVoice("en-us", "f3", 115, 70))
    aligned = dtw_align.align_to_reference(recording.audio, reference.audio, reference.phones,
                                           features=dtw_align.encoder_features, frame_s=dtw_align.ENCODER_FRAME_S)
    truth = [p for p in recording.phones if p.symbol]
    found = [p for p in aligned if p.symbol]
    assert [p.symbol for p in found] == [p.symbol for p in reference.phones if p.symbol] == [p.symbol for p in truth]
    errors = [abs(a.start - t.start) for a, t in zip(found, truth)]
    assert np.median(errors) < 0.02 and np.percentile(errors, 90) < 0.05, errors  # cepstra: 23 / 100 ms


def test_speech_span_ignores_the_silence_around_it():
    audio = np.zeros(16000, np.int16)
    audio[4000:12000] = (8000 * np.sin(np.arange(8000) * 0.3)).astype(np.int16)
    assert abs(dtw_align.speech_span_s(audio) - 0.5) <= 0.011
    assert dtw_align.speech_span_s(np.zeros(16000, np.int16)) == 0.0


def test_transcripts_keep_only_what_is_said():
    assert world_prompts.spoken_text("Voce disattivata. (You are now muted.)") == "Voce disattivata"
    assert world_prompts.spoken_text("[ascending tones]") is None
    assert world_prompts.spoken_text("...per disattivare o riattivare l'audio.") == "per disattivare o riattivare l'audio"
    assert world_prompts.spoken_text("Composez le 2") == "Composez le 2"
    assert world_prompts.spoken_text("(ahooga)") is None


french = next(v for v in world_prompts.PROMPT_VOICES if v.name == "asterisk:june-fr")
needs_french = pytest.mark.skipif(not world_prompts.installed(french),
                                  reason="asterisk-core-sounds-fr(-wav) not installed")


@needs_french
def test_a_french_prompt_gets_espeaks_phones_on_the_speakers_time(tmp_path):
    stems = ["agent-loginok", "agent-pass", "auth-thankyou", "call-forwarding"]
    prompts, skipped = world_prompts.aligned_prompts(french, cache_dir=tmp_path, stems=stems)
    assert [p.stem for p in prompts] == stems and skipped == {"no audio": 0, "too long": 0, "no alignment": 0}
    prompt = prompts[0]  # "Vous êtes maintenant en ligne"
    symbols = [p.symbol for p in prompt.phones if p.symbol]
    assert symbols[:4] == ["v", "u", "z", "ɛ"] and "m" in symbols
    assert prompt.phones[0].start == 0.0 and abs(prompt.phones[-1].end - len(prompt.audio) / 16000) < 1e-9
    # the speech phones lie where the recording is loud
    first_speech = next(p for p in prompt.phones if p.symbol)
    x = prompt.audio.astype(np.float64)
    before = x[: int(first_speech.start * 16000)]
    assert before.size == 0 or np.sqrt((before ** 2).mean()) < 0.1 * np.sqrt((x ** 2).mean())
    assert len(list(tmp_path.glob("dtw-*.json"))) == len(stems)
    again, _ = world_prompts.aligned_prompts(french, cache_dir=tmp_path, stems=stems)  # from the cache, the same
    assert [p.phones for p in again] == [p.phones for p in prompts]


@needs_french
def test_prompts_become_training_utterances_whose_copies_differ_in_their_faces(tmp_path):
    stems = ["agent-loginok", "auth-thankyou"]
    first, second = (world_prompts.make_world_prompt_utterances(0, 0.35, copy=c, cache_dir=tmp_path, voices=(french,), stems=stems)
                     for c in (0, 1))
    assert [u.id for u in first] == ["wp-june-fr-agent-loginok-0", "wp-june-fr-auth-thankyou-0"]
    for a, b in zip(first, second):
        a.validate()
        assert (a.synth, a.split, a.language, a.voice) == ("asterisk", "train", "fr", "asterisk:june-fr")
        assert np.array_equal(a.audio, b.audio) and np.array_equal(a.phone_class, b.phone_class)
        assert (a.phone_class != 0).mean() > 0.3  # vowels and bilabials labelled, not all silence
    assert any(a.emotion != b.emotion or not np.allclose(a.frames, b.frames) for a, b in zip(first, second))
    missing = world_prompts.PromptVoice("asterisk:none-xx", "no_such_dir", "asterisk-core-sounds-xx", "fr")
    assert world_prompts.make_world_prompt_utterances(0, 0.35, voices=(missing,)) == []


def test_the_cli_refuses_a_negative_copy_count(tmp_path):
    out = subprocess.run([sys.executable, "-m", "talkface_ros.cli", "data", "synth", "--out", str(tmp_path / "c"),
                          "--world-prompt-copies", "-1"], capture_output=True, text=True)
    assert out.returncode != 0 and "--world-prompt-copies" in out.stderr


def test_the_install_script_can_install_the_voices_the_corpus_uses():
    from pathlib import Path
    import re

    script = (Path(__file__).resolve().parents[1] / "tools" / "install_system_deps.sh").read_text()
    listed = re.search(r"^world_prompt_packages=\(([^)]*)\)", script, re.M)
    assert listed is not None and listed.group(1).split() == world_prompts.debian_packages()
    assert all(world_prompts.transcripts_path(v).parent.name == v.package for v in world_prompts.PROMPT_VOICES)
