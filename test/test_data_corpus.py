"""espeak-ng phone events, the corpus format and `talkface data synth` (deterministic, resumable)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from talkface_ros.data.corpus import Corpus, Utterance, write_manifest, write_shard
from talkface_ros.data.espeak import EspeakSynth, EspeakVoice, EspeakError
from talkface_ros.data.synth import SynthConfig, synthesize
from talkface_ros.data.voices import HELDOUT_LANGUAGES, HELDOUT_VARIANTS


@pytest.fixture(scope="module")
def synth():
    return EspeakSynth()


def test_espeak_phone_events(synth):
    result = synth.synth("Hello, my baby.", EspeakVoice("en-us"))
    assert result.audio.dtype == np.int16 and 0.5 < len(result.audio) / 16000 < 3
    symbols = [p.symbol for p in result.phones]
    assert symbols.count("b") == 2 and "m" in symbols
    starts = [p.start for p in result.phones]
    assert starts == sorted(starts) and result.phones[-1].end <= len(result.audio) / 16000 + 0.01
    with pytest.raises(EspeakError):
        synth.synth("x", EspeakVoice("no-such-language"))


def test_two_synthesizers_in_one_process_each_get_their_own_audio(synth):
    """libespeak-ng keeps one callback per process: the instance made last must not take the audio of the
    others (it did, and the corpus's shared instance returned silence after a test had made its own)."""
    other = EspeakSynth()
    first = synth.synth("Hello, my baby.", EspeakVoice("en-us"))
    second = other.synth("Hello, my baby.", EspeakVoice("en-us"))
    again = synth.synth("Hello, my baby.", EspeakVoice("en-us"))
    for result in (first, second, again):  # (not bit-equal: espeak-ng's pitch flutter runs on between calls)
        assert abs(len(result.audio) - len(first.audio)) < 160 and np.abs(result.audio).max() > 1000
        assert [p.symbol for p in result.phones] == [p.symbol for p in first.phones]


def test_corpus_roundtrip_and_validation(tmp_path):
    T = 5
    utt = Utterance("u1", np.arange(1500, dtype=np.int16), np.full((T, 55), 0.5, np.float32), np.array([0, 1, 2, 4, 8], np.uint8), np.zeros(T, np.int8), "sad", 0.5, "de", "de+m1", "espeak-ng", "train")
    write_shard(tmp_path, 3, [utt])
    assert write_manifest(tmp_path) == 1
    back = list(Corpus(tmp_path).utterances("train"))
    assert len(back) == 1 and np.array_equal(back[0].audio, utt.audio) and back[0].emotion == "sad"
    assert back[0].phone_class.tolist() == [0, 1, 2, 4, 8]
    assert list(Corpus(tmp_path).utterances("val")) == []
    bad = Utterance("u2", np.zeros(1500, np.int16), np.zeros((4, 55), np.float32), np.zeros(4, np.uint8), np.zeros(4, np.int8))
    with pytest.raises(ValueError, match="frames shape"):
        write_shard(tmp_path, 4, [bad])
    nan = Utterance("u3", np.zeros(1500, np.int16), np.full((5, 55), np.nan, np.float32), np.zeros(5, np.uint8), np.zeros(5, np.int8))
    with pytest.raises(ValueError, match="NaN"):
        write_shard(tmp_path, 5, [nan])


def test_synth_deterministic_resumable_and_split(tmp_path):
    config = SynthConfig(out=str(tmp_path / "a"), hours=30 / 3600, seed=7, shard_seconds=10, workers=2)
    summary = synthesize(config, progress=False)
    assert summary["made_shards"] == 3
    corpus = Corpus(config.out)
    assert corpus.seconds() >= 30
    # Same shard, same seed, separate run -> identical bytes of audio and frames.
    other = SynthConfig(out=str(tmp_path / "b"), hours=config.hours, seed=7, shard_seconds=10, workers=1)
    assert synthesize(other, progress=False, only=[1])["made_shards"] == 1
    a = np.load(tmp_path / "a" / "shards" / "shard-00001.npz", allow_pickle=False)
    b = np.load(tmp_path / "b" / "shards" / "shard-00001.npz", allow_pickle=False)
    assert sorted(a.files) == sorted(b.files) and all(np.array_equal(a[k], b[k]) for k in a.files)
    # Resume: nothing left to do; deleting one shard remakes just that one.
    assert synthesize(config, progress=False)["made_shards"] == 0
    a2 = dict(np.load(tmp_path / "a" / "shards" / "shard-00002.npz", allow_pickle=False))
    (tmp_path / "a" / "shards" / "shard-00002.npz").unlink()
    assert synthesize(config, progress=False)["made_shards"] == 1
    corpus = Corpus(config.out)
    remade = np.load(tmp_path / "a" / "shards" / "shard-00002.npz", allow_pickle=False)
    assert sorted(remade.files) == sorted(a2) and all(np.array_equal(remade[k], a2[k]) for k in a2)
    for entry in corpus.entries:
        variant = entry["voice"].split("@")[0].partition("+")[2]
        if entry["split"] in ("train", "val"):
            assert entry["language"] not in HELDOUT_LANGUAGES and variant not in HELDOUT_VARIANTS
    for utt in corpus.utterances():
        assert utt.frames.shape == (-(-len(utt.audio) // 320), 55) and len(utt.audio) <= 6.0 * 16000


def test_cli_synth(tmp_path, capsys):
    from talkface_ros.cli import main

    assert main(["data", "synth", "--out", str(tmp_path), "--hours", str(5 / 3600), "--shard-seconds", "5", "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["utterances"] >= 1 and (tmp_path / "manifest.jsonl").exists()
