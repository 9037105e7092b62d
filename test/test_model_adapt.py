"""`talkface adapt`: the encoder alone is fine-tuned towards the frozen model's clean encodings."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from talkface_ros.cli import main as talkface
from talkface_ros.model.adapt import AdaptConfig, _reference_utterances, crop
from talkface_ros.model.checkpoint import load_checkpoint, save_checkpoint
from talkface_ros.model.features import audio_tokens
from talkface_ros.model.network import FaceModel, ModelConfig
from talkface_ros.model.streamer import FaceStreamer
from model_helpers import speech_like_pcm, write_toy_corpus

pytest.importorskip("pyroomacoustics")

TINY = ModelConfig(d_model=32, n_layer=1, n_head=2, window=8, den_hidden=32, den_layers=1, student_layers=1,
                   residual_student=True)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    write_toy_corpus(d)
    return d


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("reference")
    save_checkpoint(FaceModel(TINY), d, {"train": {"step": 0}})
    return d


def test_crops_stay_aligned_with_labels_and_reference_encodings(corpus, reference):
    model, _, _ = load_checkpoint(reference)
    utts = _reference_utterances(model, str(corpus), "train")
    cfg = AdaptConfig(crop_s=0.5, context_s=0.3)
    rng = np.random.default_rng(3)
    starts = set()
    for _ in range(20):
        utt = utts[int(rng.integers(len(utts)))]
        c = crop(utt, cfg, rng, augmenter=None, level_norm=None, clean=True)
        whole = audio_tokens(utt.audio)
        starts.add(c.start)
        assert len(c.frames) == len(c.h_ref) == len(c.tokens) - c.offset == 25
        assert c.offset == min(c.start, 15)
        assert np.array_equal(c.frames, utt.frames[c.start:c.start + 25])
        assert np.array_equal(c.h_ref, utt.h_ref[c.start:c.start + 25])
        # the crop's own front end gives the utterance's tokens once it has one token of context
        k = 1 if c.offset else 0
        np.testing.assert_allclose(c.tokens[c.offset + k:], whole[c.start + k:c.start + 25], atol=1e-5)
    assert len(starts) > 5


def test_adapt_tunes_only_the_encoder_and_closes_the_gap(corpus, reference, tmp_path):
    out = tmp_path / "adapted"
    args = ["adapt", str(reference), "--corpus", str(corpus), "-o", str(out), "--steps", "60", "--onnx",
            "--set", "batch=4", "--set", "crop_s=0.6", "--set", "context_s=0.2", "--set", "rooms=2",
            "--set", "lr=0.003", "--set", "log_every=20"]
    assert talkface(args) == 0
    before, _, _ = load_checkpoint(reference)
    after, card, _ = load_checkpoint(out)
    assert after.cfg.level_norm and after.cfg.level_norm_gate_db == 30.0 and not before.cfg.level_norm
    state_before, state_after = before.state_dict(), after.state_dict()
    changed = {k for k in state_before if not torch.equal(state_before[k], state_after[k])}
    assert changed and all(k.startswith("encoder.") for k in changed)
    assert "encoder.feat_mean" not in changed  # the input statistics stay those of the reference
    adapt = card["adapt"]
    assert adapt["steps"] == 60 and adapt["batch"] == 4 and card["adapted_from"] == str(reference)
    assert adapt["final_h_loss"] < 0.8 * adapt["first_h_loss"]
    # the exported graphs run with the level normaliser the config now names
    assert json.loads((out / "config.json").read_text())["level_norm"] is True
    streamer = FaceStreamer.from_pretrained(str(out), backend="onnxruntime", threads=1)
    frames = streamer.animate(speech_like_pcm(1.0) // 30)
    assert frames.shape == (50, 55) and np.isfinite(frames).all()


def test_adapt_refuses_an_empty_corpus(reference, tmp_path):
    from talkface_ros.data.corpus import write_manifest

    empty = tmp_path / "empty"
    empty.mkdir()
    write_manifest(empty)
    with pytest.raises(ValueError, match="no training utterances"):
        from talkface_ros.model.adapt import adapt_checkpoint

        adapt_checkpoint(reference, str(empty), tmp_path / "out", AdaptConfig(steps=1))
