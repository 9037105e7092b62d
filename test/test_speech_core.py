"""The speaking robot's core (talkface_ros.speech), without ROS: text, TTS engines, the Speaker's pacing,
queue/interrupt policy and speaking flag, forced lip closure."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from talkface_ros.data.phones import Phone
from talkface_ros.face.arkit import INDEX
from talkface_ros.speech.closure import apply_closure, closure_mask
from talkface_ros.speech.speaker import Speaker, SpeakerConfig
from talkface_ros.speech.text import split_sentences
from talkface_ros.speech.tts import TtsConfig, TtsError, make_engine, synthesize

RATE = 16000


class FakeEngine:
    """0.1 s of a distinct tone per word; 'FAIL' raises like an engine that cannot say something."""

    name = "fake"

    def __init__(self) -> None:
        self.sentences: list[str] = []

    def synth_sentence(self, sentence: str):
        if "FAIL" in sentence:
            raise TtsError("cannot say FAIL")
        self.sentences.append(sentence)
        words = sentence.split()
        t = np.arange(int(0.1 * RATE * len(words))) / RATE
        audio = (8000 * np.sin(2 * np.pi * (200 + 10 * len(self.sentences)) * t)).astype(np.int16)
        phones = [Phone(w[0].lower(), 0.1 * i, 0.1 * (i + 1)) for i, w in enumerate(words)]
        return audio, phones


class FakePlayback:
    def __init__(self) -> None:
        self.pushed: list[tuple[np.ndarray, float]] = []
        self.clears = 0

    def push(self, chunk, publish_time=None) -> None:
        self.pushed.append((np.array(chunk), publish_time))

    def clear(self) -> None:
        self.clears += 1


class Rig:
    def __init__(self, **config) -> None:
        self.engine = FakeEngine()
        self.playback = FakePlayback()
        self.chunks: list[tuple[float, np.ndarray]] = []
        self.flags: list[tuple[float, bool]] = []
        self.speaker = Speaker(self.engine, SpeakerConfig(**config), self._publish,
                               lambda v: self.flags.append((time.monotonic(), v)), self.playback).start()

    def _publish(self, chunk) -> None:
        self.chunks.append((time.monotonic(), np.array(chunk)))

    def pcm(self) -> np.ndarray:
        return np.concatenate([c for _, c in self.chunks]) if self.chunks else np.zeros(0, np.int16)


@pytest.fixture
def rig_factory():
    rigs: list[Rig] = []

    def make(**config) -> Rig:
        rigs.append(Rig(**config))
        return rigs[-1]

    yield make
    for rig in rigs:
        rig.speaker.close()


def test_split_sentences_keeps_order_and_bounds_length():
    assert split_sentences("  Hello there.  How are you?\nFine!  ") == ["Hello there.", "How are you?", "Fine!"]
    assert split_sentences("") == [] and split_sentences(" ... ?! ") == []
    long = ", ".join(["the quick brown fox"] * 30) + "."
    pieces = split_sentences(long, max_chars=100)
    assert all(len(p) <= 100 for p in pieces) and len(pieces) >= 6
    assert " ".join(pieces).replace(" ", "") == long.replace(" ", "")


def test_synthesize_joins_sentences_and_shifts_phones():
    engine = FakeEngine()
    utterance = synthesize(engine, "One two. Three four five!")
    assert engine.sentences == ["One two.", "Three four five!"]
    assert len(utterance.audio) == int(0.1 * RATE * 5)
    assert [p.symbol for p in utterance.phones] == ["o", "t", "t", "f", "f"]
    assert utterance.phones[2].start == pytest.approx(0.2)  # the second sentence starts after the first's audio


def test_speaker_publishes_paced_chunks_then_plays_them(rig_factory):
    rig = rig_factory(chunk_ms=20.0, tail_silence_s=0.1, playback_delay_s=0.05, speaking_hold_s=0.05)
    accepted, reason = rig.speaker.say("one two three four five")
    assert accepted, reason
    assert rig.speaker.wait_idle(10)
    pcm = rig.pcm()
    speech = int(0.5 * RATE)
    assert all(len(c) == 320 for _, c in rig.chunks), "20 ms chunks"
    assert len(pcm) == -(-(speech + int(0.1 * RATE)) // 320) * 320
    assert np.abs(pcm[:speech]).max() > 1000 and not pcm[speech:].any(), "speech, then the tail silence"
    times = [t for t, _ in rig.chunks]
    assert times[-1] - times[0] >= 0.8 * (len(times) - 1) * 0.02, "paced at the audio rate, not a burst"
    played = np.concatenate([c for c, _ in rig.playback.pushed])
    np.testing.assert_array_equal(played[:speech], pcm[:speech])  # the speaker gets the same samples (no tail)
    assert [f for _, f in rig.flags] == [False, True, False]
    on = next(t for t, f in rig.flags if f)
    off = rig.flags[-1][0]
    assert on <= times[0] + 0.05, "speaking turns true with the first chunk"
    assert off - times[0] >= 0.5 + 0.05, "and false only after the delayed sound has ended"


def test_queue_policy_speaks_overlapping_requests_in_order(rig_factory):
    rig = rig_factory(policy="queue", max_queue=1, tail_silence_s=0.0, speaking_hold_s=0.0, playback_delay_s=0.0)
    assert rig.speaker.say("alpha beta gamma")[0]
    time.sleep(0.05)
    accepted, reason = rig.speaker.say("delta epsilon")
    assert accepted and "queued" in reason
    refused, why = rig.speaker.say("zeta")
    assert not refused and "queue full" in why
    assert rig.speaker.wait_idle(10)
    assert rig.engine.sentences == ["alpha beta gamma", "delta epsilon"]
    assert rig.speaker.stats.spoken == 2 and rig.speaker.stats.interrupted == 0 and rig.speaker.stats.refused == 1
    assert len(rig.pcm()) == -(-int(0.3 * RATE) // 320) * 320 + -(-int(0.2 * RATE) // 320) * 320
    assert [f for _, f in rig.flags] == [False, True, False], "one speaking span over both utterances"


def test_interrupt_policy_cuts_the_current_utterance(rig_factory):
    rig = rig_factory(policy="interrupt", tail_silence_s=0.04, speaking_hold_s=0.0, playback_delay_s=0.0)
    assert rig.speaker.say(" ".join(["word"] * 30))[0]  # 3 s
    time.sleep(0.3)
    accepted, reason = rig.speaker.say("short reply")
    assert accepted and "interrupt" in reason
    assert rig.speaker.wait_idle(10)
    stats = rig.speaker.stats
    assert stats.interrupted == 1 and stats.spoken == 1 and rig.playback.clears == 1
    # well under the 3 s of the first utterance was published before the reply
    assert len(rig.pcm()) < int(1.5 * RATE)
    assert rig.engine.sentences[-1] == "short reply"


def test_stop_drops_everything_and_bad_requests_are_refused(rig_factory):
    rig = rig_factory(policy="queue", speaking_hold_s=0.0, playback_delay_s=0.0)
    for text in ("", "   ", "?!", "x" * 6000):
        accepted, reason = rig.speaker.say(text)
        assert not accepted and reason
    assert rig.speaker.stats.refused == 4 and not rig.chunks
    rig.speaker.say(" ".join(["word"] * 30))
    rig.speaker.say("never said")
    time.sleep(0.2)
    assert rig.speaker.stop() == 2
    assert rig.speaker.wait_idle(5)
    assert rig.engine.sentences == [" ".join(["word"] * 30)]
    assert rig.flags[-1][1] is False


def test_a_tts_failure_is_a_warning_and_the_speaker_goes_on(rig_factory, caplog):
    rig = rig_factory(speaking_hold_s=0.0, playback_delay_s=0.0)
    rig.speaker.say("please FAIL now")
    rig.speaker.say("then speak")
    assert rig.speaker.wait_idle(5)
    assert rig.speaker.stats.synth_errors == 1 and rig.speaker.stats.spoken == 1
    assert "cannot say" in caplog.text


def test_make_engine_falls_back_with_a_reason():
    engine, warnings = make_engine(TtsConfig(voice="no-such-voice-xyz"))
    assert engine.name == "espeak" and "no-such-voice-xyz" in warnings[0]
    engine, warnings = make_engine(TtsConfig(engine="piper", piper_model="/nonexistent/voice.onnx"))
    assert engine.name == "espeak" and warnings and "espeak-ng instead" in warnings[0]
    with pytest.raises(ValueError):
        make_engine(TtsConfig(engine="festival"))


def test_espeak_utterance_has_phones_inside_its_audio():
    engine, _ = make_engine(TtsConfig(engine="espeak", voice="en-us"))
    utterance = synthesize(engine, "Maybe a big apple. Bob is here.")
    assert utterance.duration_s > 1.0 and utterance.phones
    assert utterance.phones[-1].end <= utterance.duration_s + 1e-6
    starts = [p.start for p in utterance.phones]
    assert starts == sorted(starts)
    mask = closure_mask(utterance.phones, -(-len(utterance.audio) // 320))
    assert 3 <= mask.sum() < 0.5 * len(mask), "m, b, p, b frames are marked, most frames are not"


def test_closure_mask_and_apply_closure():
    phones = [Phone("a", 0.0, 0.1), Phone("m", 0.1, 0.16), Phone("a", 0.16, 0.3)]
    mask = closure_mask(phones, 15)
    assert mask.tolist() == [False] * 5 + [True] * 3 + [False] * 7
    frames = np.zeros((15, 55), np.float32)
    frames[:, INDEX["jawOpen"]] = 0.6
    closed = apply_closure(frames, mask)
    assert (closed[mask, INDEX["jawOpen"]] < 0.1).all() and (closed[~mask, INDEX["jawOpen"]] == 0.6).all()
    assert frames[6, INDEX["jawOpen"]] == 0.6, "the input is not modified"


def test_speaker_close_is_prompt_while_talking(rig_factory):
    rig = rig_factory()
    rig.speaker.say(" ".join(["word"] * 50))
    time.sleep(0.1)
    started = time.monotonic()
    rig.speaker.close()
    assert time.monotonic() - started < 2.0
    assert not any(t.name == "speaker" and t.is_alive() for t in threading.enumerate())
    assert rig.flags[-1][1] is False


def test_piper_voice_file_path_with_a_stand_in_piper(tmp_path, monkeypatch):
    """piper-tts is not installed here: a stand-in module with piper-tts 1.3's API (PiperVoice.load, synthesize
    -> chunks with audio_float_array and sample_rate) checks the engine's side of that API."""
    import importlib.machinery
    import sys
    import types

    from talkface_ros.speech.tts import PiperEngine

    class Chunk:
        def __init__(self, seconds: float) -> None:
            self.sample_rate = 22050
            t = np.arange(int(seconds * 22050)) / 22050
            self.audio_float_array = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)

    class Voice:
        loaded: list = []

        @classmethod
        def load(cls, model_path, config_path=None):
            cls.loaded.append((model_path, config_path))
            return cls()

        def synthesize(self, text, syn_config=None):
            yield Chunk(0.3)
            yield Chunk(0.2)

    modules = {}
    for name in ("piper", "piper.voice", "piper.config"):
        module = types.ModuleType(name)
        module.__spec__ = importlib.machinery.ModuleSpec(name, None)
        modules[name] = module
    modules["piper.voice"].PiperVoice = Voice
    modules["piper.config"].SynthesisConfig = lambda length_scale=1.0: {"length_scale": length_scale}
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    model = tmp_path / "en_US-test.onnx"
    model.write_bytes(b"onnx")
    with pytest.raises(TtsError, match="no en_US-test.onnx.json"):
        PiperEngine(str(model))
    (tmp_path / "en_US-test.onnx.json").write_text("{}")
    engine, warnings = make_engine(TtsConfig(piper_model=str(model)))
    assert engine.name == "piper" and not warnings
    assert Voice.loaded[-1] == (str(model), str(model) + ".json")
    utterance = synthesize(engine, "Hello there.")
    assert utterance.phones is None and utterance.engine == "piper"
    assert len(utterance.audio) == pytest.approx(0.5 * RATE, abs=2) and utterance.audio.dtype == np.int16


def test_closure_schedule_replaces_the_future_and_refuses_malformed_messages():
    from talkface_ros.speech.closure import ClosureSchedule, close_lips, closure_intervals

    phones = [Phone("a", 0.0, 0.1), Phone("m", 0.1, 0.15), Phone("b", 0.15, 0.2), Phone("o", 0.2, 0.3),
              Phone("p", 0.3, 0.35)]
    assert closure_intervals(phones) == [(0.1, 0.2), (0.3, 0.35)]
    schedule = ClosureSchedule()
    assert schedule.update([100.0, 100.1, 100.2, 100.3, 100.35]) == 2
    assert schedule.covers(100.15) and not schedule.covers(100.25) and schedule.covers(100.31)
    assert schedule.update([100.12]) == 0  # cut at 100.12: later closures are gone, earlier ones stay
    assert schedule.covers(100.11) and not schedule.covers(100.15) and not schedule.covers(100.31)
    for bad in ([], [1.0, 2.0], [1.0, 3.0, 2.0], [5.0, 4.0, 6.0], [1.0, float("nan"), 2.0]):
        with pytest.raises(ValueError):
            schedule.update(bad)
    assert schedule.covers(100.11), "a malformed message changes nothing"
    assert not schedule.covers(200.0) and len(schedule) == 0, "old intervals are forgotten"
    frame = np.zeros(55, np.float32)
    frame[INDEX["jawOpen"]] = 0.7
    assert close_lips(frame)[INDEX["jawOpen"]] < 0.1 and frame[INDEX["jawOpen"]] == 0.7
