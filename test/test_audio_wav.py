import numpy as np
import pytest
import soundfile

from talkface_ros.audio.pcm import Chunker, float_to_int16
from talkface_ros.audio.wav import AudioFileError, WavSource, WavSourceConfig, load_audio


def tone(rate: int, seconds: float, freq: float = 300.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(AudioFileError, match="not found"):
        load_audio(tmp_path / "missing.wav")


def test_non_wav_file_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio at all\n" * 20)
    with pytest.raises(AudioFileError, match="cannot read"):
        load_audio(path)


def test_directory_is_rejected(tmp_path):
    with pytest.raises(AudioFileError, match="not a file"):
        load_audio(tmp_path)


def test_stereo_44k_24bit_becomes_16k_mono(tmp_path):
    left = tone(44100, 1.0, 300.0)
    stereo = np.stack([left, left * 0.5], axis=1)  # mono mix = 0.75 * left
    path = tmp_path / "stereo.wav"
    soundfile.write(path, stereo, 44100, subtype="PCM_24")
    loaded = load_audio(path)
    assert loaded.dtype == np.float32 and loaded.ndim == 1
    assert len(loaded) == 16000
    expected = 0.75 * tone(16000, 1.0, 300.0)
    np.testing.assert_allclose(loaded[200:-200], expected[200:-200], atol=2e-3)


def test_pcm_conversion_clips_and_removes_nan():
    samples = np.array([0.0, 0.5, 2.0, -3.0, np.nan, np.inf], dtype=np.float32)
    assert float_to_int16(samples).tolist() == [0, 16384, 32767, -32767, 0, 32767]


def test_chunker_keeps_every_sample_in_order():
    chunker = Chunker(160)
    stream = np.arange(1000, dtype=np.int16)
    chunks = chunker.push(stream[:250]) + chunker.push(stream[250:])
    rest = chunker.flush()
    assert [len(c) for c in chunks] == [160] * 6
    np.testing.assert_array_equal(np.concatenate(chunks + [rest]), stream)


def test_wav_source_fast_and_looping(tmp_path):
    path = tmp_path / "t.wav"
    soundfile.write(path, tone(16000, 0.105), 16000, subtype="PCM_16")
    source = WavSource(WavSourceConfig(str(path), chunk_samples=160, realtime=False))
    chunks = list(source.chunks())
    assert [len(c) for c in chunks] == [160] * 10 + [80]
    np.testing.assert_array_equal(np.concatenate(chunks), source.samples)
    looping = WavSource(WavSourceConfig(str(path), chunk_samples=160, realtime=False, loop=True))
    iterator = looping.chunks()
    first_two_passes = [next(iterator) for _ in range(22)]
    np.testing.assert_array_equal(np.concatenate(first_two_passes[11:]), looping.samples)


def test_realtime_pacing_follows_samples_not_chunks(tmp_path):
    """A looping file whose length is not a whole number of chunks must not drift against the wall clock."""
    import time

    path = tmp_path / "odd.wav"
    soundfile.write(path, tone(16000, 0.0155), 16000, subtype="PCM_16")   # 248 samples: 1 chunk + 88
    source = WavSource(WavSourceConfig(str(path), chunk_samples=160, realtime=True, loop=True))
    started = time.monotonic()
    sent = 0
    for chunk in source.chunks():
        sent += len(chunk)
        if sent >= 16000 * 0.5:
            break
    elapsed = time.monotonic() - started
    # the last chunk is yielded when its start is due: elapsed = (sent - its length) / rate
    assert elapsed == pytest.approx((sent - len(chunk)) / 16000, abs=0.03)
