"""Encoder stepping == full sequence; FaceStreamer: onnxruntime == torch, offline == streaming, seeds, limits,
bad input, bad model files. A tiny random-weight model is built and exported per module (fast)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from talkface_ros.face.arkit import FRAME_SIZE
from talkface_ros.model.checkpoint import ModelFileError, load_checkpoint, save_checkpoint
from talkface_ros.model.export import export_onnx
from talkface_ros.model.network import FaceModel, ModelConfig
from talkface_ros.model.streamer import FaceStreamer
from model_helpers import speech_like_pcm

TINY = dict(d_model=32, n_layer=2, n_head=2, window=8, den_hidden=32, den_layers=1, history=3)


def _random_model(seed: int = 0) -> FaceModel:
    torch.manual_seed(seed)
    model = FaceModel(ModelConfig(**TINY))
    with torch.no_grad():  # make every part matter (zero-initialised parts get random values too)
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
        model.face_mean.fill_(0.3)
        model.face_std.fill_(0.2)
    return model.eval()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tiny_model")
    model = _random_model()
    save_checkpoint(model, d, {"note": "random weights for tests"})
    export_onnx(model, d)
    return d


_audio = speech_like_pcm


def test_encoder_step_equals_full_sequence_beyond_the_window():
    model = _random_model()
    T = 3 * model.cfg.window + 5
    tokens = torch.randn(1, T, model.cfg.token_dim) * 3
    with torch.no_grad():
        full = model.encoder(tokens)[0]
        k, v = model.encoder.empty_cache()
        stepped = []
        for t in range(T):
            mask = torch.full((model.cfg.window,), -1e9)
            mask[model.cfg.window - min(t + 1, model.cfg.window):] = 0
            h, k, v = model.encoder.step(tokens[:, t], k, v, mask)
            stepped.append(h[0])
    torch.testing.assert_close(torch.stack(stepped), full, atol=2e-5, rtol=1e-4)


def test_encoder_is_causal_and_window_bounded():
    model = _random_model()
    W = model.cfg.window
    tokens = torch.randn(1, 40, model.cfg.token_dim)
    changed = tokens.clone()
    changed[:, 20:] += 5.0  # the future changes
    # and audio older than the receptive field (n_layer stacked windows) of token 19
    changed[:, :20 - model.cfg.n_layer * (W - 1) - 1] -= 5.0
    with torch.no_grad():
        a, b = model.encoder(tokens)[0], model.encoder(changed)[0]
    torch.testing.assert_close(a[19], b[19])
    assert not torch.allclose(a[20], b[20])


@pytest.mark.parametrize("lookahead", [0, 2])
def test_onnxruntime_and_torch_backends_agree_and_offline_equals_streaming(model_dir, lookahead):
    pcm = _audio(1.23)
    ort_s = FaceStreamer.from_pretrained(model_dir, backend="onnxruntime", lookahead=lookahead, seed=7)
    torch_s = FaceStreamer.from_pretrained(model_dir, backend="torch", lookahead=lookahead, seed=7)
    rng = np.random.default_rng(1)
    frames, i = [], 0
    while i < len(pcm):  # odd chunk sizes
        n = int(rng.integers(1, 700))
        frames += ort_s.push(pcm[i:i + n])
        i += n
    frames += ort_s.flush()
    torch_frames = torch_s.push(pcm) + torch_s.flush()
    expected = -(-len(pcm) // 320)
    assert [f.index for f in frames] == list(range(expected))
    assert frames[3].time_s == pytest.approx(3.5 / 50)
    a = np.stack([f.values for f in frames])
    b = np.stack([f.values for f in torch_frames])
    np.testing.assert_allclose(a, b, atol=1e-4)
    np.testing.assert_allclose(ort_s.animate(pcm), a, atol=1e-4)


def test_lookahead_delays_output_by_whole_frames(model_dir):
    s = FaceStreamer.from_pretrained(model_dir, lookahead=3)
    assert s.lookahead == 3 and s.frame_rate == 50.0
    assert s.push(np.zeros(320 * 3, np.int16)) == []
    assert len(s.push(np.zeros(320, np.int16))) == 1
    with pytest.raises(ValueError, match="lookahead"):
        FaceStreamer.from_pretrained(model_dir, lookahead=4)


def test_seeded_reset_reproduces_and_seeds_differ(model_dir):
    pcm = _audio(0.5)
    s = FaceStreamer.from_pretrained(model_dir, seed=1)
    first = np.stack([f.values for f in s.push(pcm)])
    s.reset()
    again = np.stack([f.values for f in s.push(pcm)])
    np.testing.assert_array_equal(first, again)
    other = FaceStreamer.from_pretrained(model_dir, seed=2)
    assert not np.allclose(first, np.stack([f.values for f in other.push(pcm)]))


@pytest.mark.parametrize("lookahead", [0, 2])
def test_warm_up_leaves_no_trace_in_the_stream(model_dir, lookahead):
    pcm = _audio(0.5)
    fresh = FaceStreamer.from_pretrained(model_dir, seed=4, lookahead=lookahead)
    fresh.set_emotion("sad", 0.7)
    expected = fresh.push(pcm)
    warmed = FaceStreamer.from_pretrained(model_dir, seed=4, lookahead=lookahead)
    warmed.set_emotion("sad", 0.7)
    assert warmed.warm_up() > 0.0
    got = warmed.push(pcm)
    assert [f.index for f in got] == [f.index for f in expected] and got[0].index == 0
    np.testing.assert_array_equal(np.stack([f.values for f in got]), np.stack([f.values for f in expected]))


def test_emotion_changes_output_and_unknown_label_is_rejected(model_dir):
    pcm = _audio(0.5)
    s = FaceStreamer.from_pretrained(model_dir)
    neutral = np.stack([f.values for f in s.push(pcm)])
    s.reset()
    s.set_emotion("happy", 0.9)
    happy = np.stack([f.values for f in s.push(pcm)])
    assert not np.allclose(neutral, happy)
    with pytest.raises(ValueError, match="unknown emotion"):
        s.set_emotion("bored", 1.0)


def test_bad_audio_never_gives_nan_or_out_of_range(model_dir):
    s = FaceStreamer.from_pretrained(model_dir)
    bad = np.concatenate([np.full(800, np.nan), np.full(800, np.inf), np.full(800, -np.inf),
                          np.full(800, 1e30), np.zeros(800)]).astype(np.float32)
    frames = s.push(bad) + s.push(np.full(3200, 32767, np.int16)) + s.push(np.full((160, 2), -32768, np.int16))
    values = np.stack([f.values for f in frames])
    assert np.isfinite(values).all()
    assert values[:, :52].min() >= 0 and values[:, :52].max() <= 1
    assert np.abs(values[:, 52:]).max() <= 0.6
    assert values.shape[1] == FRAME_SIZE


def test_missing_and_corrupt_model_files_give_clear_errors(model_dir, tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        FaceStreamer.from_pretrained(tmp_path / "nope")
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in model_dir.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / "stream_step.onnx").write_bytes(b"not an onnx file")
    with pytest.raises(ModelFileError, match="stream_step.onnx is corrupt"):
        FaceStreamer.from_pretrained(broken)
    (broken / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelFileError, match="model.safetensors is corrupt"):
        load_checkpoint(broken)
    (broken / "config.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="config.json is corrupt"):
        FaceStreamer.from_pretrained(broken)
    (broken / "config.json").write_text(json.dumps({**TINY, "bogus": 1}))
    with pytest.raises(ModelFileError, match="bad model config"):
        load_checkpoint(broken)
    (broken / "config.json").unlink()
    with pytest.raises(ModelFileError, match="missing"):
        FaceStreamer.from_pretrained(broken)


def test_checkpoint_roundtrip_rebuilds_the_model_from_its_config(model_dir):
    model, card, _ = load_checkpoint(model_dir)
    assert model.cfg == ModelConfig(**TINY)
    assert card["note"] == "random weights for tests"
    ref = _random_model()
    for (name, a), (_, b) in zip(model.state_dict().items(), ref.state_dict().items()):
        torch.testing.assert_close(a, b, msg=name)


def test_blocked_attention_equals_banded_full_attention():
    model = _random_model()
    W = model.cfg.window
    tokens = torch.randn(2, 5 * W, model.cfg.token_dim) * 3
    with torch.no_grad():
        torch.testing.assert_close(model.encoder(tokens, blocked=True), model.encoder(tokens), atol=2e-5, rtol=1e-4)


def test_the_onnx_format_is_written_by_the_exporter_and_checked_once(model_dir, tmp_path):
    from talkface_ros.model.files import ONNX_FORMAT, ONNX_FORMAT_KEY

    config = json.loads((model_dir / "config.json").read_text())
    assert config[ONNX_FORMAT_KEY] == ONNX_FORMAT  # export_onnx marked the folder
    model, _, _ = load_checkpoint(model_dir)  # the mark is not a model field
    assert model.cfg == ModelConfig(**TINY)
    old = tmp_path / "old"
    old.mkdir()
    for f in model_dir.iterdir():
        (old / f.name).write_bytes(f.read_bytes())
    for stale in ({k: v for k, v in config.items() if k != ONNX_FORMAT_KEY}, {**config, ONNX_FORMAT_KEY: 1}):
        (old / "config.json").write_text(json.dumps(stale))
        with pytest.raises(ModelFileError, match="re-export with `talkface export-onnx"):
            FaceStreamer.from_pretrained(old)
        FaceStreamer.from_pretrained(old, backend="torch")  # the checkpoint itself needs no graphs


def test_the_shipped_model_is_of_the_current_onnx_format():
    from talkface_ros.model.files import ONNX_FORMAT, ONNX_FORMAT_KEY
    from talkface_ros.model.streamer import default_model_dir

    assert json.loads((default_model_dir() / "config.json").read_text())[ONNX_FORMAT_KEY] == ONNX_FORMAT
