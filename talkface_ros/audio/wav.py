"""WAV files: load any format soundfile reads (16/24/32-bit, float, stereo, any rate) as 16 kHz mono."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE, Chunker, float_to_int16, to_mono
from talkface_ros.audio.resample import resample

log = logging.getLogger(__name__)


class AudioFileError(RuntimeError):
    """The audio file is missing or cannot be decoded."""


def load_wav_16k(path: str | Path) -> np.ndarray:
    """int16 mono at 16 kHz, resampled with scipy's polyphase filter: the loader of the corpus sources and
    the real eval sets (their cached alignments are keyed by these exact samples: keep it bit-stable)."""
    import soundfile as sf
    from scipy.signal import resample_poly

    audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    if rate != MODEL_SAMPLE_RATE:
        g = np.gcd(int(rate), MODEL_SAMPLE_RATE)
        audio = resample_poly(audio, MODEL_SAMPLE_RATE // g, int(rate) // g)
    return np.clip(np.round(audio * 32767), -32768, 32767).astype(np.int16)


def load_audio(path: str | Path, sample_rate: int = MODEL_SAMPLE_RATE) -> np.ndarray:
    """Float32 mono samples in [-1, 1] at `sample_rate`. Raises AudioFileError with a readable reason."""
    import soundfile

    path = Path(path)
    if not path.exists():
        raise AudioFileError(f"audio file not found: {path}")
    if not path.is_file():
        raise AudioFileError(f"not a file: {path}")
    try:
        samples, native_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as error:  # soundfile raises LibsndfileError / RuntimeError / TypeError variants
        raise AudioFileError(f"cannot read {path} as audio ({error})") from None
    mono = to_mono(samples)
    if not np.all(np.isfinite(mono)):
        log.warning("%s contains NaN/Inf samples; replacing them with silence", path)
        mono = np.nan_to_num(mono, nan=0.0, posinf=0.0, neginf=0.0)
    if native_rate != sample_rate:
        log.debug("resampling %s from %d Hz to %d Hz", path, native_rate, sample_rate)
        mono = resample(mono, native_rate, sample_rate)
    return np.clip(mono, -1.0, 1.0).astype(np.float32)


@dataclass
class WavSourceConfig:
    path: str
    chunk_samples: int = 160          # 10 ms at 16 kHz
    sample_rate: int = MODEL_SAMPLE_RATE
    realtime: bool = True             # pace chunks at the audio rate; False = as fast as possible
    loop: bool = False


class WavSource:
    """Yields int16 chunks of a WAV file, paced in real time or as fast as possible, optionally looping."""

    def __init__(self, config: WavSourceConfig) -> None:
        self.config = config
        self.samples = float_to_int16(load_audio(config.path, config.sample_rate))
        self.late_chunks = 0  # chunks we could not send on time (the consumer or the machine was slow)
        self._stopped = False

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.config.sample_rate

    def stop(self) -> None:
        self._stopped = True

    def chunks(self) -> Iterator[np.ndarray]:
        rate = self.config.sample_rate
        chunk_s = self.config.chunk_samples / rate
        start = time.monotonic()
        samples_sent = 0  # paced by samples, not chunks: a short last chunk must not stretch the clock
        while not self._stopped:
            chunker = Chunker(self.config.chunk_samples)
            pieces = chunker.push(self.samples)
            rest = chunker.flush()
            if rest is not None:
                pieces.append(rest)
            for chunk in pieces:
                if self._stopped:
                    return
                if self.config.realtime:
                    due = start + samples_sent / rate
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    elif delay < -chunk_s:
                        self.late_chunks += 1
                yield chunk
                samples_sent += len(chunk)
            if not self.config.loop or len(self.samples) == 0:
                return
