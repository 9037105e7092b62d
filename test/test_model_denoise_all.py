"""The offline graphs of `talkface animate`: DenoiseAll (the denoiser recurrence in one call) and EncodeAll equal
the per-frame streaming computation; FaceStreamer.animate == reset + push + flush frame by frame for both backends,
also after a NaN frame; the shipped model carries denoise_all.onnx. Tiny random-weight models (fast)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from talkface_ros.face.arkit import FRAME_SIZE, sanitize_frames
from talkface_ros.model.checkpoint import save_checkpoint
from talkface_ros.model.export import export_onnx
from talkface_ros.model.files import DENOISE_ALL, ModelFileError
from talkface_ros.model.network import FaceModel, ModelConfig
from talkface_ros.model.steps import DenoiseAll, DenoiseStep, EncodeAll
from talkface_ros.model.streamer import FaceStreamer, default_model_dir
from model_helpers import speech_like_pcm, stream_in_random_chunks

TINY = dict(d_model=32, n_layer=2, n_head=2, window=8, den_hidden=32, den_layers=2, history=3, residual_student=True)
TOL = 1e-4  # the offline == streaming tolerance of test_model_streaming / test_animate


def _random_model(seed: int = 0, **overrides) -> FaceModel:
    torch.manual_seed(seed)
    model = FaceModel(ModelConfig(**{**TINY, **overrides}))
    with torch.no_grad():  # every part matters, the zero-initialised emotion input included
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
        model.face_mean.uniform_(0.1, 0.5)
        model.face_std.uniform_(0.1, 0.3)
    return model.eval()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tiny_denoise_all")
    model = _random_model()
    save_checkpoint(model, d)
    export_onnx(model, d)
    return d


_audio = speech_like_pcm


def test_denoise_all_equals_denoise_step_fed_back_frame_by_frame():
    model = _random_model(1)
    T, K = 60, model.cfg.history
    g = torch.Generator().manual_seed(0)
    h = torch.randn(T, model.cfg.d_model, generator=g)
    h_frame = torch.randn(T, model.cfg.d_model, generator=g)
    noise = torch.randn(T, FRAME_SIZE, generator=g)
    history = torch.rand(1, K, FRAME_SIZE, generator=g) * 0.5
    emotion = torch.zeros(1, model.cfg.n_emotions)
    emotion[0, 3] = 0.8
    lookahead = torch.tensor([2])
    step = DenoiseStep(model)
    with torch.no_grad():
        offline = DenoiseAll(model)(h, h_frame, history, noise, emotion, lookahead)
        hist, expected = history.clone(), []
        for t in range(T):
            raw = step(h[t:t + 1], h_frame[t:t + 1], hist, noise[t:t + 1], emotion, lookahead)
            frame = torch.from_numpy(sanitize_frames(raw.numpy()))
            expected.append(frame)
            hist = torch.cat([hist[:, 1:], frame[:, None]], dim=1)
    torch.testing.assert_close(offline, torch.cat(expected), atol=2e-5, rtol=0)
    assert offline.shape == (T, FRAME_SIZE)


@pytest.mark.parametrize("batch,blocks", [(1, 1), (1, 4), (2, 3)])
def test_encode_all_equals_the_encoder(batch, blocks):
    model = _random_model(2)
    tokens = torch.randn(batch, blocks * model.cfg.window, model.cfg.token_dim) * 3
    with torch.no_grad():
        torch.testing.assert_close(EncodeAll(model)(tokens), model.encoder(tokens), atol=2e-5, rtol=1e-4)


@pytest.fixture(scope="module")
def one_block_student_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tiny_one_block_student")
    model = _random_model(7, student_layers=1)
    assert len(model.student.blocks) == 1 and len(model.teacher.blocks) == 2
    save_checkpoint(model, d)
    export_onnx(model, d)
    return d


@pytest.mark.parametrize("backend", ["onnxruntime", "torch"])
@pytest.mark.parametrize("lookahead", [0, 2])
@pytest.mark.parametrize("student", ["two_blocks", "one_block"])
def test_animate_equals_streaming_push_frame_by_frame(model_dir, one_block_student_dir, backend, lookahead, student):
    if student == "one_block":  # the Scan body goes from its first block straight to the output norm
        model_dir = one_block_student_dir
    pcm = _audio(2.37, seed=lookahead)
    s = FaceStreamer.from_pretrained(model_dir, backend=backend, lookahead=lookahead, seed=11)
    s.set_emotion("surprised", 0.7)
    streamed = stream_in_random_chunks(s, pcm, seed=3)
    offline = s.animate(pcm)
    assert offline.shape == streamed.shape == (-(-len(pcm) // 320), FRAME_SIZE)
    np.testing.assert_allclose(offline, streamed, atol=TOL, rtol=0)
    # the stream continues from the offline state like from the streamed one
    assert s.n_frames == len(streamed)
    np.testing.assert_allclose(s.state.history[0], streamed[-s.history_len:], atol=TOL, rtol=0)


@pytest.mark.parametrize("lookahead", [0, 2])
def test_animate_on_two_threads_gives_the_one_thread_frames(model_dir, lookahead, monkeypatch):
    """threads=2 overlaps the front end + encoder (in chunks of windows, each carrying the last window's keys
    and values to the next) with the denoiser (its history carried across chunks): the same frames as one thread."""
    pcm = _audio(6.1, seed=5)  # 305 frames: 39 windows of the tiny model's 8 tokens, 19 chunks
    one = FaceStreamer.from_pretrained(model_dir, seed=2, lookahead=lookahead).animate(pcm)
    two_threads = FaceStreamer.from_pretrained(model_dir, seed=2, lookahead=lookahead, threads=2)
    calls = []
    from talkface_ros.model import offline

    original = offline.encode_and_denoise_pipelined
    monkeypatch.setattr(offline, "encode_and_denoise_pipelined", lambda *a: calls.append(1) or original(*a))
    two = two_threads.animate(pcm)
    assert calls == [1]
    assert one.shape == two.shape == (-(-len(pcm) // 320), FRAME_SIZE)
    np.testing.assert_allclose(two, one, atol=TOL, rtol=0)
    np.testing.assert_allclose(two_threads.state.history[0], one[-two_threads.history_len:], atol=TOL, rtol=0)


def test_encoder_in_pieces_equals_the_encoder_on_the_whole():
    """EncodeAll.forward_chunk piece after piece (each given the last window's keys and values of the one
    before) == forward on the whole; at the start (prev_mask = NEG_INF) whatever prev_k/prev_v hold is ignored."""
    from talkface_ros.model.network import NEG_INF

    model = _random_model(3)
    c = model.cfg
    enc = EncodeAll(model).eval()
    tokens = torch.randn(1, 7 * c.window, c.token_dim, generator=torch.Generator().manual_seed(4))
    shape = (c.n_layer, 1, c.n_head, c.window, c.d_model // c.n_head)
    with torch.no_grad():
        whole = enc(tokens)
        garbage = torch.randn(shape)
        start, k, v = enc.forward_chunk(tokens, garbage, garbage, torch.tensor([NEG_INF]))
        np.testing.assert_allclose(start, whole, atol=1e-5, rtol=0)
        pieces, k, v = [], garbage, garbage
        for i, (a, b) in enumerate(((0, 1), (1, 4), (4, 5), (5, 7))):
            mask = torch.tensor([NEG_INF if i == 0 else 0.0])
            h, k, v = enc.forward_chunk(tokens[:, a * c.window:b * c.window], k, v, mask)
            pieces.append(h)
        np.testing.assert_allclose(torch.cat(pieces, dim=1), whole, atol=1e-5, rtol=0)
        # the carried keys and values matter: a piece encoded as if at the start differs
        alone, _, _ = enc.forward_chunk(tokens[:, 4 * c.window:5 * c.window], k, v, torch.tensor([NEG_INF]))
        assert (alone - whole[:, 4 * c.window:5 * c.window]).abs().max() > 1e-3


def test_onnx_encoder_in_pieces_equals_the_whole(model_dir):
    from talkface_ros.model.backends import OrtBackend

    backend = OrtBackend(model_dir, threads=1)
    W = TINY["window"]
    tokens = np.random.default_rng(6).standard_normal((1, 6 * W, 160)).astype(np.float32)
    whole = backend.encode_all(tokens)
    state, pieces = None, []
    for a, b in ((0, 2), (2, 3), (3, 6)):
        h, state = backend.encode_chunk(tokens[:, a * W:b * W], state)
        pieces.append(h)
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), whole, atol=1e-5, rtol=0)


@pytest.mark.parametrize("backend", ["onnxruntime", "torch"])
@pytest.mark.parametrize("lookahead", [0, 2])
def test_a_residual_students_mean_comes_from_its_own_frames_encoding(tmp_path, backend, lookahead):
    """With the student's output layer at zero, frame t is exactly the aux head's estimate from h[t], the
    encoding of its own token, never from h[t + lookahead] (streaming through h_past and offline through
    h_frame alike); a plain student (residual_student false) gets no such mean."""
    from talkface_ros.model.features import audio_tokens

    model = _random_model(4)
    with torch.no_grad():
        model.student.out.weight.zero_()
        model.student.out.bias.zero_()
        model.face_mean.fill_(0.5)  # inside the limits, so the clamp rarely acts
        model.face_std.fill_(0.2)
    save_checkpoint(model, tmp_path)
    export_onnx(model, tmp_path)
    pcm = _audio(1.3, seed=8)
    n = -(-len(pcm) // 320)
    samples = np.concatenate([pcm, np.zeros(n * 320 - len(pcm) + lookahead * 320, pcm.dtype)])
    with torch.no_grad():
        h = model.encoder(torch.from_numpy(audio_tokens(samples))[None])[0]
        own = np.clip((model.aux_head(h) * model.face_std + model.face_mean).numpy(), 0.0, 1.0)
    s = FaceStreamer.from_pretrained(tmp_path, backend=backend, lookahead=lookahead)
    streamed = np.stack([f.values for f in s.push(pcm) + s.flush()])
    np.testing.assert_allclose(streamed[:, :52], own[:n, :52], atol=TOL, rtol=0)
    np.testing.assert_allclose(s.animate(pcm)[:, :52], own[:n, :52], atol=TOL, rtol=0)
    if lookahead:  # the frame's own encoding, not the one it looks ahead to
        assert np.abs(own[lookahead:n + lookahead, :52] - own[:n, :52]).max() > 1e-2
    plain = tmp_path / "plain"
    model.cfg.residual_student = False
    save_checkpoint(model, plain)
    export_onnx(model, plain)
    flat = FaceStreamer.from_pretrained(plain, backend=backend, lookahead=lookahead).animate(pcm)
    np.testing.assert_allclose(flat[:, :52], 0.5, atol=1e-6)  # denormalize(0) = the face mean


def test_pipeline_chunks_cover_the_windows_once():
    from talkface_ros.model.offline import pipeline_chunks

    assert pipeline_chunks(20, 4) == [(0, 4), (4, 8), (8, 12), (12, 16), (16, 20)]
    assert pipeline_chunks(9, 4) == [(0, 4), (4, 9)]  # a short tail joins the chunk before it
    assert pipeline_chunks(3, 4) == [(0, 3)]
    for n in range(1, 40):
        chunks = pipeline_chunks(n, 4)
        assert chunks[0][0] == 0 and chunks[-1][1] == n and all(b == c for (_, b), (c, _) in zip(chunks, chunks[1:]))


def test_tokens_between_equals_the_offline_front_end():
    from talkface_ros.model.features import audio_tokens, tokens_between, with_left_context

    for dtype, scale in ((np.int16, 3000), (np.float32, 0.3)):
        pcm = (np.random.default_rng(1).standard_normal(50_077) * scale).astype(dtype)
        whole, context = audio_tokens(pcm), with_left_context(pcm)
        pieces = np.concatenate([tokens_between(context, a, b) for a, b in ((0, 37), (37, 100), (100, len(whole)))])
        assert np.array_equal(pieces, whole)  # bit for bit
        with pytest.raises(ValueError, match="outside"):
            tokens_between(context, 100, len(whole) + 1)


class _ScriptedNoise:
    """Stands in for the streamer's generator: the same rows whatever the batch size they are drawn in."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows, self.i = rows, 0

    def standard_normal(self, shape):
        n = shape[0]
        out = self.rows[self.i:self.i + n]
        self.i += n
        return out.reshape(shape)


@pytest.mark.parametrize("backend", ["onnxruntime", "torch"])
def test_a_nan_frame_is_fed_back_sanitized_like_streaming(model_dir, backend):
    pcm = _audio(0.8, seed=5)
    rows = np.random.default_rng(0).standard_normal((200, FRAME_SIZE))
    rows[9, :5] = np.nan  # frame 9 comes out NaN, streaming feeds back its sanitized values

    class Streamer(FaceStreamer):
        def reset(self) -> None:
            super().reset()
            self.state.rng = _ScriptedNoise(rows)

    s = Streamer.from_pretrained(model_dir, backend=backend)
    streamed = np.stack([f.values for f in s.push(pcm) + s.flush()])
    offline = s.animate(pcm)
    assert np.isfinite(offline).all()
    assert (streamed[9] == 0).all() and (offline[9] == 0).all()  # sanitize_frames: NaN -> 0
    np.testing.assert_allclose(offline, streamed, atol=TOL, rtol=0)


def test_animate_of_short_and_empty_audio(model_dir):
    s = FaceStreamer.from_pretrained(model_dir, lookahead=1)
    assert s.animate(np.zeros(0, np.int16)).shape == (0, FRAME_SIZE)
    one = s.animate(np.full(5, 1000, np.int16))
    s.reset()
    streamed = np.stack([f.values for f in s.push(np.full(5, 1000, np.int16)) + s.flush()])
    assert one.shape == (1, FRAME_SIZE)
    np.testing.assert_allclose(one, streamed, atol=TOL, rtol=0)
    floats = s.animate(np.full(700, 0.25, np.float64))
    s.reset()
    np.testing.assert_allclose(floats, np.stack([f.values for f in s.push(np.full(700, 0.25)) + s.flush()]), atol=TOL)


def test_missing_denoise_all_graph_is_named(model_dir, tmp_path):
    for f in model_dir.iterdir():
        if f.name != DENOISE_ALL:
            (tmp_path / f.name).write_bytes(f.read_bytes())
    with pytest.raises(ModelFileError, match="denoise_all.onnx"):
        FaceStreamer.from_pretrained(tmp_path)


def test_the_shipped_model_has_the_offline_graph_and_stays_small():
    d = default_model_dir()
    assert (d / DENOISE_ALL).is_file()
    assert sum(f.stat().st_size for f in d.iterdir() if f.is_file()) < 20e6
    frames = FaceStreamer.from_pretrained(d).animate(_audio(0.5))
    assert frames.shape == (25, FRAME_SIZE) and np.isfinite(frames).all()
