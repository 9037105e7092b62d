"""FaceStreamer (contract F): the online model runtime used by the face_inference node and `talkface animate`.

push(pcm) -> list[Frame]: PCM of any chunk size in; every 20 ms of audio (plus `lookahead` frames of delay)
gives one face frame. The runtimes behind it share one interface (model/backends.py: onnxruntime, the default,
never imports torch; torch); everything a stream has heard and generated is one StreamState; the whole-utterance
path (`animate`) is model/offline.py.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from talkface_ros.face.arkit import FRAME_SIZE, sanitize_frames
from talkface_ros.face.emotion import EMOTION_INDEX, EMOTIONS
from talkface_ros.model.backends import BACKENDS, NEG_INF, make_backend
from talkface_ros.model.files import CONFIG, ModelFileError, read_json
from talkface_ros.model.features import (SAMPLE_RATE, SAMPLES_PER_FRAME, StreamingTokens, TokenFilters,
                                         front_end_config)

log = logging.getLogger(__name__)

DEFAULT_MODEL = "talkface"


@dataclass
class Frame:
    index: int
    time_s: float  # centre of the frame's 20 ms interval, in audio time
    values: np.ndarray  # float32 [55], FRAME_NAMES order


def default_model_dir() -> Path:
    from talkface_ros.paths import models_dir

    return models_dir() / DEFAULT_MODEL


def emotion_vector(label: str, intensity: float) -> np.ndarray:
    if label not in EMOTION_INDEX:
        raise ValueError(f"unknown emotion {label!r}; expected one of {', '.join(EMOTIONS)}")
    if not np.isfinite(intensity):
        raise ValueError(f"emotion intensity {intensity} is not finite")
    vec = np.zeros((1, len(EMOTIONS)), dtype=np.float32)
    vec[0, EMOTION_INDEX[label]] = float(np.clip(intensity, 0.0, 1.0))
    return vec


@dataclass
class StreamState:
    """Everything one stream has heard and generated: FaceStreamer.reset() starts a new one."""

    tokens: StreamingTokens                # the streaming front end (log-mel tokens)
    filters: TokenFilters | None           # the causal token filters (dereverb, level), for models trained with them
    k_cache: np.ndarray                    # the encoder's attention keys/values over its window
    v_cache: np.ndarray
    history: np.ndarray                    # the last frames, fed back to the denoiser [1, history, 55]
    h_past: np.ndarray                     # the last encodings, oldest first (lookahead: a frame reads its own)
    rng: np.random.Generator               # the denoiser's noise, restarted from the seed
    n_tokens: int = 0
    n_frames: int = 0
    samples_in: int = 0

    @classmethod
    def new(cls, streamer: "FaceStreamer") -> "StreamState":
        return cls(
            tokens=StreamingTokens(),
            filters=streamer.front_end.filters(),
            k_cache=np.zeros(streamer.cache_shape, dtype=np.float32),
            v_cache=np.zeros(streamer.cache_shape, dtype=np.float32),
            history=np.zeros((1, streamer.history_len, FRAME_SIZE), dtype=np.float32),
            h_past=np.zeros((streamer.max_lookahead, streamer.d_model), dtype=np.float32),
            rng=np.random.default_rng(streamer.seed),
        )


class FaceStreamer:
    """Online audio -> face frames. Not thread-safe: one stream per instance."""

    frame_rate: float = SAMPLE_RATE / SAMPLES_PER_FRAME  # 50.0

    def __init__(self, directory: Path, config: dict, backend: str = "onnxruntime", threads: int = 1,
                 lookahead: int = 0, seed: int = 0) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
        self.max_lookahead = int(config.get("max_lookahead", 3))
        if not 0 <= int(lookahead) <= self.max_lookahead:
            raise ValueError(f"lookahead {lookahead} is outside [0, {self.max_lookahead}] frames")
        if int(threads) < 1:
            raise ValueError("threads must be >= 1")
        self.directory = directory
        self.backend_name = backend
        self.lookahead = int(lookahead)
        self.seed = int(seed)
        self.window = int(config["window"])
        self.d_model = int(config["d_model"])
        self.history_len = int(config["history"])
        self.cache_shape = (int(config["n_layer"]), 1, int(config["n_head"]), self.window,
                            int(config["d_model"]) // int(config["n_head"]))
        self.threads = int(threads)
        self.residual = bool(config.get("residual_student", False))
        self.front_end = front_end_config(config)  # no filters: the model reads the raw log-mel (models before them)
        self.backend = make_backend(backend, directory, threads, config)
        self._emotion = emotion_vector("neutral", 1.0)
        self._lookahead_arr = np.array([self.lookahead], dtype=np.int64)
        self.reset()

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, backend: str = "onnxruntime", threads: int = 1,
                        lookahead: int = 0, seed: int = 0) -> "FaceStreamer":
        """path: a model folder (config.json, model.safetensors, *.onnx); None = the shipped model."""
        directory = Path(path) if path is not None else default_model_dir()
        if not directory.is_dir():
            raise ModelFileError(f"model folder not found: {directory}")
        config = read_json(directory / CONFIG)
        for key in ("window", "history", "n_layer", "n_head", "d_model"):
            if not isinstance(config.get(key), int) or config[key] <= 0:
                raise ModelFileError(f"{directory / CONFIG}: missing or bad {key!r}")
        return cls(directory, config, backend=backend, threads=threads, lookahead=lookahead, seed=seed)

    # -- state ---------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget all audio and generated frames; the noise generator restarts from the seed."""
        self.state = StreamState.new(self)

    @property
    def n_frames(self) -> int:
        """Frames emitted in this stream."""
        return self.state.n_frames

    def warm_up(self, frames: int = 4) -> float:
        """Run the streaming step on `frames` frames of silence, then reset; returns the seconds it took.
        The first step in a process is ~100x slower than the rest (onnxruntime allocates and plans on its first
        run): a node pays that before its first audio chunk, not in the middle of a stream."""
        started = time.perf_counter()
        self.push(np.zeros((frames + self.lookahead) * SAMPLES_PER_FRAME, dtype=np.float32))
        self.reset()
        return time.perf_counter() - started

    def set_emotion(self, label: str, intensity: float = 1.0) -> None:
        """Raises ValueError for an unknown label; intensity is clipped to [0, 1]."""
        self._emotion = emotion_vector(label, intensity)

    def _mask(self) -> np.ndarray:
        valid = min(self.state.n_tokens + 1, self.window)
        mask = np.full(self.window, NEG_INF, dtype=np.float32)
        mask[self.window - valid:] = 0.0
        return mask

    def _noise(self) -> np.ndarray:
        return self.state.rng.standard_normal((1, FRAME_SIZE)).astype(np.float32)

    def _emit(self, raw: np.ndarray) -> Frame:
        values = sanitize_frames(raw[0])
        self.state.history = np.concatenate([self.state.history[:, 1:], values[None, None]], axis=1)
        frame = Frame(self.state.n_frames, (self.state.n_frames + 0.5) / self.frame_rate, values)
        self.state.n_frames += 1
        return frame

    # -- streaming -----------------------------------------------------------------------------------------
    def step_token(self, token: np.ndarray) -> Frame | None:
        """One 20 ms token [160] -> the frame `lookahead` tokens back (None during the first `lookahead`)."""
        noise = self._noise()
        feeds = {"token": token.reshape(1, -1).astype(np.float32), "k_cache": self.state.k_cache,
                 "v_cache": self.state.v_cache, "mask": self._mask(), "h_past": self.state.h_past, "history": self.state.history,
                 "noise": noise, "emotion": self._emotion, "lookahead": self._lookahead_arr}
        raw, h, self.state.k_cache, self.state.v_cache = self.backend.stream_step(feeds)
        if self.max_lookahead:
            self.state.h_past = np.concatenate([self.state.h_past[1:], h.reshape(1, -1)])
        self.state.n_tokens += 1
        if self.state.n_tokens <= self.lookahead:
            self.state.rng = np.random.default_rng(self.seed)  # noise draws start with the first emitted frame
            return None
        return self._emit(raw)

    def push(self, pcm: np.ndarray) -> list[Frame]:
        """PCM chunk (int16, or float in [-1, 1]; NaN/Inf -> 0, clipped), 16 kHz mono -> new frames."""
        pcm = np.asarray(pcm)
        if pcm.ndim != 1:
            pcm = pcm.reshape(-1)
        self.state.samples_in += len(pcm)
        frames = []
        tokens = self.state.tokens.push(pcm)
        if self.state.filters is not None:
            tokens = self.state.filters.push(tokens)
        for token in tokens:
            frame = self.step_token(token)
            if frame is not None:
                frames.append(frame)
        return frames

    def flush(self) -> list[Frame]:
        """End of utterance: zero-pad so every started 20 ms frame is output (T = ceil(samples / 320)),
        then the `lookahead` frames still held back. The stream continues afterwards as if zeros were heard."""
        pad = (-self.state.samples_in) % SAMPLES_PER_FRAME
        frames = self.push(np.zeros(pad, dtype=np.float32)) if pad else []
        frames += self.push(np.zeros(self.lookahead * SAMPLES_PER_FRAME, dtype=np.float32))
        return frames

    # -- offline ---------------------------------------------------------------------------------------------
    def animate(self, pcm: np.ndarray) -> np.ndarray:
        """A whole utterance -> [ceil(N / 320), 55] frames, equal to reset + push + flush (within float
        tolerance), computed in batches: talkface_ros.model.offline."""
        from talkface_ros.model.offline import animate

        return animate(self, pcm)
