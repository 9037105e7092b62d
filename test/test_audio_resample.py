import numpy as np
import pytest
from scipy.signal import resample_poly

from talkface_ros.audio.resample import StreamingResampler, resample


@pytest.mark.parametrize("src_rate", [8000, 22050, 44100, 48000])
def test_streaming_equals_one_shot_for_any_chunking(src_rate):
    rng = np.random.default_rng(src_rate)
    signal = rng.standard_normal(src_rate // 2).astype(np.float32) * 0.2
    whole = StreamingResampler(src_rate, 16000).process(signal)
    streaming = StreamingResampler(src_rate, 16000)
    pieces, start = [], 0
    while start < len(signal):
        size = int(rng.integers(1, 700))
        pieces.append(streaming.process(signal[start:start + size]))
        start += size
    np.testing.assert_array_equal(np.concatenate(pieces), whole)


@pytest.mark.parametrize("src_rate", [22050, 44100, 48000])
def test_offline_resample_matches_scipy_polyphase(src_rate):
    t = np.arange(src_rate) / src_rate
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    ours = resample(tone, src_rate, 16000)
    g = np.gcd(src_rate, 16000)
    reference = resample_poly(tone, 16000 // g, src_rate // g)
    assert len(ours) == len(reference) == 16000
    assert np.max(np.abs(ours - reference)[100:-100]) < 1e-5


def test_identity_and_bad_rates():
    x = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(StreamingResampler(16000, 16000).process(x), x)
    with pytest.raises(ValueError):
        StreamingResampler(0, 16000)
