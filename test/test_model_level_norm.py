"""The causal level normaliser of the front end (features.LevelNormaliser) and the models that carry it:
any chunking gives the same tokens bit for bit, a quiet speaker looks like a loud one, silence stays silent,
the syllable envelope survives, and FaceStreamer's streaming, offline and two-thread paths all apply it."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from talkface_ros.face.arkit import FRAME_SIZE
from talkface_ros.model.features import (NATS_PER_DB, SILENT_TOKEN, FrontEnd, LevelNormaliser, audio_tokens,
                                         level_norm_config, model_tokens, normalise_levels)
from model_helpers import speech_like_pcm, stream_in_random_chunks


def _float_speech(seconds: float, seed: int = 0) -> np.ndarray:
    return speech_like_pcm(seconds, seed=seed).astype(np.float64) / 32768.0


def test_any_chunking_gives_the_same_tokens_bit_for_bit():
    tokens = audio_tokens(speech_like_pcm(3.0, seed=1))
    whole = normalise_levels(tokens)
    rng = np.random.default_rng(0)
    for _ in range(5):
        norm, pieces, i = LevelNormaliser(), [], 0
        while i < len(tokens):
            n = int(rng.integers(0, 17))
            pieces.append(norm.push(tokens[i:i + n]))
            i += n
        np.testing.assert_array_equal(np.concatenate(pieces), whole)


def test_a_quiet_speaker_looks_like_a_loud_one():
    x = _float_speech(3.0, seed=2)
    loud, quiet = audio_tokens(x), audio_tokens(x * 10 ** (-30 / 20))
    settle = 25  # half a second
    raw_gap = float(np.mean(loud[settle:] - quiet[settle:]))
    assert raw_gap > 4.0  # 30 dB is 6.9 nats where the floor does not hide it
    gap = float(np.mean(np.abs(normalise_levels(loud)[settle:] - normalise_levels(quiet)[settle:])))
    assert gap < 0.1 * raw_gap, (gap, raw_gap)


def test_silence_stays_silent_and_the_envelope_survives():
    silence = audio_tokens(np.zeros(16000))
    np.testing.assert_allclose(normalise_levels(silence), SILENT_TOKEN, atol=1e-3)
    x = _float_speech(3.0, seed=3)
    dip = slice(int(1.5 * 16000), int(1.7 * 16000))  # a 200 ms closure, 25 dB down
    x[dip] *= 10 ** (-25 / 20)
    tokens = normalise_levels(audio_tokens(x))
    power = np.log(np.exp(tokens.astype(np.float64)).mean(axis=1))
    inside, before = power[76:84].mean(), power[60:74].mean()
    assert before - inside > 20 * NATS_PER_DB


def test_models_without_the_flag_read_raw_tokens():
    assert level_norm_config({"d_model": 128}) is None
    assert level_norm_config({"level_norm": False}) is None
    cfg = level_norm_config({"level_norm": True, "level_norm_max_gain_db": 30.0})
    assert cfg is not None and cfg.max_gain_db == 30.0
    pcm = speech_like_pcm(1.0)
    np.testing.assert_array_equal(model_tokens(pcm, None), audio_tokens(pcm))
    assert not np.array_equal(model_tokens(pcm, FrontEnd(level_norm=cfg)), audio_tokens(pcm))


@pytest.fixture(scope="module")
def level_model_dir(tmp_path_factory):
    from talkface_ros.model.checkpoint import save_checkpoint
    from talkface_ros.model.export import export_onnx
    from talkface_ros.model.network import FaceModel, ModelConfig

    torch.manual_seed(0)
    model = FaceModel(ModelConfig(d_model=32, n_layer=2, n_head=2, window=8, den_hidden=32, den_layers=1, history=3,
                                  residual_student=True, level_norm=True, dereverb=True))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
        model.face_mean.fill_(0.3)
        model.face_std.fill_(0.2)
    d = tmp_path_factory.mktemp("level_model")
    save_checkpoint(model.eval(), d)
    export_onnx(model.eval(), d)
    return d


def test_streamer_carries_dereverb_and_normaliser_streaming_offline_and_pipelined(level_model_dir):
    from talkface_ros.model.checkpoint import load_checkpoint
    from talkface_ros.model.streamer import FaceStreamer

    assert load_checkpoint(level_model_dir)[0].cfg.level_norm
    pcm = speech_like_pcm(6.1, seed=4)
    s = FaceStreamer.from_pretrained(level_model_dir, seed=3)
    assert s.front_end.level_norm is not None and s.front_end.dereverb is not None
    streamed = stream_in_random_chunks(s, pcm, seed=1)
    offline = s.animate(pcm)
    assert offline.shape == streamed.shape == (-(-len(pcm) // 320), FRAME_SIZE)
    np.testing.assert_allclose(offline, streamed, atol=1e-4, rtol=0)
    two = FaceStreamer.from_pretrained(level_model_dir, seed=3, threads=2).animate(pcm)
    np.testing.assert_allclose(two, offline, atol=1e-4, rtol=0)
    # the torch backend (the training-side encoder) reads the same normalised tokens
    torch_s = FaceStreamer.from_pretrained(level_model_dir, seed=3, backend="torch")
    np.testing.assert_allclose(np.stack([f.values for f in torch_s.push(pcm) + torch_s.flush()]), streamed, atol=1e-4)
    # and the normaliser matters: the same audio 30 dB down gives nearly the same frames
    quiet = np.round(pcm.astype(np.float64) * 10 ** (-30 / 20)).astype(np.int16)
    np.testing.assert_allclose(s.animate(quiet)[25:], offline[25:], atol=0.05)


def test_the_noise_gate_keeps_a_rooms_hiss_quiet_and_chunking_exact():
    from talkface_ros.model.features import LevelNormConfig

    rng = np.random.default_rng(6)
    speech = _float_speech(2.0, seed=6)
    hiss_rms = 10 ** (-45 / 20) * np.sqrt(np.mean(speech**2))  # room noise 45 dB under the speech
    x = np.concatenate([hiss_rms * rng.standard_normal(16000), speech + hiss_rms * rng.standard_normal(32000)])
    tokens = audio_tokens(x)
    power = lambda t: np.log(np.exp(t.astype(np.float64)).mean(axis=1))  # noqa: E731
    ungated = power(normalise_levels(tokens, LevelNormConfig()))
    gated_cfg = LevelNormConfig(gate_db=30.0)
    gated = power(normalise_levels(tokens, gated_cfg))
    speech = np.median(gated[60:])
    # without the gate the hiss before the first word is lifted to near speech level; with it, it stays >= 25 dB down
    assert speech - np.median(ungated[5:45]) < 15 * NATS_PER_DB
    assert speech - np.median(gated[5:45]) > 25 * NATS_PER_DB
    # the speech itself is normalised the same way once it is there
    assert abs(np.median(gated[60:]) - np.median(ungated[60:])) < 1 * NATS_PER_DB
    norm, pieces = LevelNormaliser(gated_cfg), []
    for i in range(0, len(tokens), 7):
        pieces.append(norm.push(tokens[i:i + 7]))
    np.testing.assert_array_equal(np.concatenate(pieces), normalise_levels(tokens, gated_cfg))


def _vowel_then_closure(room_tail: bool) -> np.ndarray:
    """300 ms of a harmonic vowel, then 200 ms of silence (a closure), optionally with an exponential room tail
    (RT60 0.5 s) after the vowel."""
    sr = 16000
    t = np.arange(int(0.3 * sr)) / sr
    vowel = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 20))
    audio = np.concatenate([vowel, np.zeros(int(0.2 * sr))])
    if room_tail:
        rng = np.random.default_rng(0)
        n = int(0.5 * sr)
        rir = rng.standard_normal(n) * np.exp(-3 * np.log(10) * np.arange(n) / sr / 0.5) * 0.05
        rir[0] = 1.0
        audio = np.convolve(audio, rir)[:len(audio)]
    return np.round(audio / np.abs(audio).max() * 12000).astype(np.int16)


def test_the_dereverberator_darkens_a_closure_under_a_room_tail_and_leaves_steady_speech_almost_alone():
    from talkface_ros.model.features import DereverbConfig, Dereverberator

    def level(tokens: np.ndarray, a: int, b: int) -> float:
        return float(np.log(np.exp(tokens[a:b].astype(np.float64)).mean()))

    wet = audio_tokens(_vowel_then_closure(room_tail=True))
    out = Dereverberator(DereverbConfig(rt60_s=0.5)).push(wet)
    # the closure (tokens 17..24, 40-180 ms after the vowel) loses at least 3 dB of its tail, at its darkest 7 dB
    assert level(wet, 17, 24) - level(out, 17, 24) > 3 * NATS_PER_DB
    assert max(level(wet, t, t + 1) - level(out, t, t + 1) for t in range(17, 24)) > 7 * NATS_PER_DB
    # the steady vowel (tokens 5..14) loses less than 2 dB
    assert level(wet, 5, 14) - level(out, 5, 14) < 2 * NATS_PER_DB
    # never a gain above 1, never below the floor
    assert np.all(out <= wet + 1e-5)
    assert np.all(np.exp(out.astype(np.float64)) >= (np.exp(wet.astype(np.float64)) - 1e-6) * 10 ** -1.5 - 1e-9)


def test_the_dereverberator_is_chunking_exact_and_level_invariant():
    from talkface_ros.model.features import Dereverberator

    pcm = speech_like_pcm(2.0, seed=9)
    tokens = audio_tokens(pcm)
    whole = Dereverberator().push(tokens)
    pieces = Dereverberator()
    rng = np.random.default_rng(2)
    cuts = np.sort(rng.choice(np.arange(1, len(tokens)), 6, replace=False))
    chunked = np.concatenate([pieces.push(p) for p in np.split(tokens, cuts)])
    np.testing.assert_array_equal(chunked, whole)
    # gains are ratios of powers: 20 dB louder input gives the same output 20 dB up (where well above the floor)
    loud = Dereverberator().push(tokens + np.float32(20 * NATS_PER_DB))
    strong = whole > np.log(1e-1)  # well above the log floor (1e-6)
    np.testing.assert_allclose(loud[strong] - whole[strong], 20 * NATS_PER_DB, atol=1e-3)


def test_a_front_end_runs_dereverb_then_level_norm_and_configs_without_keys_have_neither():
    from talkface_ros.model.features import (DereverbConfig, Dereverberator, LevelNormConfig, dereverb_config,
                                             front_end_config)

    assert front_end_config({"d_model": 128}).filters() is None
    fe = front_end_config({"dereverb": True, "dereverb_rt60_s": 0.7, "level_norm": True})
    assert fe.dereverb == DereverbConfig(rt60_s=0.7) and fe.level_norm == LevelNormConfig()
    assert dereverb_config({"dereverb": False, "dereverb_rt60_s": 0.7}) is None
    pcm = speech_like_pcm(1.5, seed=2)
    expected = normalise_levels(Dereverberator(DereverbConfig(rt60_s=0.7)).push(audio_tokens(pcm)))
    np.testing.assert_array_equal(model_tokens(pcm, fe), expected)
    with pytest.raises(ValueError, match="rt60_s > 0"):
        Dereverberator(DereverbConfig(rt60_s=0.0))
