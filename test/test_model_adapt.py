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
        c = crop(utt, cfg, rng, augmenter=None, front_end=None, clean=True)
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


def test_identity_blocks_leave_the_encoding_as_it_is_on_both_paths(reference):
    from talkface_ros.model.adapt import add_identity_blocks

    model, _, _ = load_checkpoint(reference)
    widened, _, _ = load_checkpoint(reference)
    add_identity_blocks(widened, 2)
    assert widened.cfg.n_layer == TINY.n_layer + 2 == len(widened.encoder.blocks)
    tokens = torch.from_numpy(audio_tokens(speech_like_pcm(0.6))).float()[None]
    with torch.no_grad():
        torch.testing.assert_close(widened.encoder(tokens), model.encoder(tokens))
        # the streaming path (one token at a time, one key/value cache per block) agrees too
        k, v = widened.encoder.empty_cache()
        assert k.shape[0] == 3
        mask = torch.full((TINY.window,), -1e9)  # additive: 0 on the slots that hold a token
        for t in range(tokens.shape[1]):
            mask[TINY.window - 1 - min(t, TINY.window - 1):] = 0.0
            h, k, v = widened.encoder.step(tokens[:, t], k, v, mask)
        torch.testing.assert_close(h, model.encoder(tokens)[:, -1], atol=1e-5, rtol=1e-4)


def test_real_streams_join_a_speakers_clips_with_pauses_and_lose_nothing():
    from talkface_ros.data.real_streams import StreamConfig, join_clips

    clips = [np.full(8000 + 800 * i, i + 1, np.int16) for i in range(12)]  # 0.5-1.2 s, each its own value
    cfg = StreamConfig(stream_s=3.0, pause_s=(0.2, 0.4))
    streams = join_clips(clips, np.random.default_rng(0), cfg)
    assert len(streams) > 2 and all(s.dtype == np.int16 for s in streams)
    assert all(len(s) >= 3.0 * 16000 for s in streams[:-1])
    joined = np.concatenate(streams)
    assert [int((joined == i + 1).sum()) for i in range(12)] == [len(c) for c in clips]  # every sample, once
    pauses = np.diff(np.flatnonzero(np.diff((joined == 0).astype(int)) != 0))[::2]
    assert len(pauses) and all(0.2 * 16000 - 1 <= p <= 0.4 * 16000 + 1 for p in pauses)


def test_unlabelled_real_speech_feeds_the_encoding_loss_but_not_the_lip_loss(corpus, reference, monkeypatch):
    from talkface_ros.model import adapt as adapt_module

    real_audio = [speech_like_pcm(4.0, seed=s) for s in range(3)]
    monkeypatch.setattr("talkface_ros.data.real_streams.real_streams", lambda sources, config: real_audio)
    model, _, _ = load_checkpoint(reference)
    utts = _reference_utterances(model, str(corpus), "train")
    real = adapt_module._reference_streams(model, real_audio)
    assert len(real) == 3 and not any(u.labelled for u in real) and all(u.labelled for u in utts)
    cfg = AdaptConfig(batch=8, crop_s=0.5, context_s=0.2, p_real=0.5, p_clean=1.0)
    _, _, valid, labelled, _, _ = adapt_module._batch(utts, real, cfg, np.random.default_rng(0), None, None)
    rows_labelled = labelled.any(1)
    assert 0 < int(rows_labelled.sum()) < cfg.batch  # both pools drawn
    assert torch.equal(labelled, valid & rows_labelled[:, None])

    result = adapt_module.adapt(model, str(corpus), AdaptConfig(steps=3, batch=4, crop_s=0.5, context_s=0.2,
                                                                rooms=1, real_sources=("tuxpaint",)))
    assert result.card["adapt"]["real_streams"] == 3 and result.model.cfg.level_norm
    raw = adapt_module.adapt(model, str(corpus), AdaptConfig(steps=1, batch=2, crop_s=0.5, context_s=0.2, rooms=1,
                                                             level_norm=False))
    assert not raw.model.cfg.level_norm  # the encoder keeps reading the raw log-mel
    adapter = adapt_module.adapt(model, str(corpus), AdaptConfig(steps=2, batch=2, crop_s=0.5, context_s=0.2, rooms=1,
                                                                 extra_layers=1, only_extra_layers=True, lr=0.01))
    before, after = model.state_dict(), adapter.model.state_dict()
    assert all(torch.equal(after[k], before[k.replace("blocks.1.", "blocks.0.")])
               for k in after if k.startswith("encoder.blocks.1."))  # the original block, frozen
    assert not torch.equal(after["encoder.blocks.0.mlp.2.weight"], torch.zeros_like(after["encoder.blocks.0.mlp.2.weight"]))
    with pytest.raises(ValueError, match="only_extra_layers needs"):
        adapt_module.adapt(model, str(corpus), AdaptConfig(steps=1, only_extra_layers=True))
    with pytest.raises(ValueError, match="unknown real-speech sources"):
        adapt_module.adapt(model, str(corpus), AdaptConfig(steps=1, real_sources=("librispeech",)))


def test_the_encoding_gap_is_zero_for_the_reference_and_grows_with_the_room(reference):
    from talkface_ros.data import acoustics
    from talkface_ros.eval.encoding_gap import encoding_gap

    model, _, _ = load_checkpoint(reference)
    clean = [speech_like_pcm(1.5, seed=s) for s in range(3)]
    assert encoding_gap(model, model, clean, clean) == pytest.approx(0.0, abs=1e-9)
    rir = acoustics.fixed_rir(0.6, 0)
    reverberant = [acoustics.to_int16(acoustics.reverberate(acoustics.to_float(a), rir)) for a in clean]
    assert encoding_gap(model, model, clean, reverberant) > 0.05
    with pytest.raises(ValueError, match="as many"):
        encoding_gap(model, model, clean, reverberant[:2])
