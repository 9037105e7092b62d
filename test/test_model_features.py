"""The streaming log-mel front end equals the offline one on the same samples, for any chunking."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talkface_ros.model.features import (HOP, N_MELS, TOKEN_DIM, StreamingLogMel, StreamingTokens, audio_tokens,
                                         log_mel, to_float)


def _speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * 16000)
    t = np.arange(n) / 16000
    x = 0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + 0.05 * rng.standard_normal(n)
    return (np.clip(x, -1, 1) * 32767).astype(np.int16)


def _stream(pcm: np.ndarray, cuts: list[int], cls) -> np.ndarray:
    fe = cls()
    parts = [fe.push(pcm[a:b]) for a, b in zip([0] + cuts, cuts + [len(pcm)])]
    return np.concatenate(parts)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 8000), max_size=12))
def test_streaming_log_mel_equals_offline_for_any_chunking(cut_points):
    pcm = _speechlike(0.5)
    cuts = sorted(set(cut_points))
    offline = log_mel(pcm)
    streamed = _stream(pcm, cuts, StreamingLogMel)
    assert offline.shape == (len(pcm) // HOP, N_MELS)
    np.testing.assert_array_equal(streamed, offline)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 8000), max_size=8))
def test_streaming_tokens_equal_offline(cut_points):
    pcm = _speechlike(0.5, seed=1)
    cuts = sorted(set(cut_points))
    np.testing.assert_array_equal(_stream(pcm, cuts, StreamingTokens), audio_tokens(pcm))


def test_token_count_and_causality():
    pcm = _speechlike(1.0)
    tokens = audio_tokens(pcm)
    assert tokens.shape == (50, TOKEN_DIM)
    # token t depends only on samples before 320 (t + 1): changing later samples leaves it unchanged
    changed = pcm.copy()
    changed[320 * 10:] = 0
    np.testing.assert_array_equal(audio_tokens(changed)[:10], tokens[:10])
    assert not np.array_equal(audio_tokens(changed)[10], tokens[10])


def test_float_and_int16_inputs_agree_and_bad_values_are_sanitised():
    pcm = _speechlike(0.2)
    np.testing.assert_allclose(log_mel(pcm.astype(np.float32) / 32768.0), log_mel(pcm), atol=1e-4)
    bad = np.array([np.nan, np.inf, -np.inf, 5.0, -5.0, 0.5], dtype=np.float32)
    assert to_float(bad).tolist() == [0.0, 0.0, 0.0, 1.0, -1.0, 0.5]
    assert np.isfinite(log_mel(np.full(1600, np.nan, np.float32))).all()


def test_empty_and_tiny_chunks():
    fe = StreamingTokens()
    assert fe.push(np.zeros(0, np.int16)).shape == (0, TOKEN_DIM)
    out = [fe.push(np.zeros(1, np.int16)) for _ in range(640)]
    assert sum(len(o) for o in out) == 2


@pytest.mark.parametrize("gain", [0.01, 1.0])
def test_silence_is_finite(gain):
    assert np.isfinite(log_mel(np.zeros(16000, np.float32) * gain)).all()
