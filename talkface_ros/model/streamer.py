"""FaceStreamer (contract F): the online model runtime used by the face_inference node and `talkface animate`.

push(pcm) -> list[Frame]: PCM of any chunk size in; every 20 ms of audio (plus `lookahead` frames of delay)
gives one face frame. Backends: "onnxruntime" (default; torch is never imported) and "torch".
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from talkface_ros.face.arkit import FRAME_SIZE, sanitize_frames
from talkface_ros.face.emotion import EMOTION_INDEX, EMOTIONS
from talkface_ros.model.files import CONFIG, ModelFileError, read_json
from talkface_ros.model.features import (SAMPLE_RATE, SAMPLES_PER_FRAME, SILENT_TOKEN, TOKEN_DIM, LevelNormaliser,
                                         StreamingTokens, level_norm_config)

log = logging.getLogger(__name__)

DEFAULT_MODEL = "talkface"
NEG_INF = -1e9
BACKENDS = ("onnxruntime", "torch")
PIPELINE_WINDOWS = 2  # encoder windows per chunk when animate overlaps the encoder with the denoiser


def pipeline_chunks(n_windows: int, size: int = PIPELINE_WINDOWS) -> list[tuple[int, int]]:
    """Window ranges [a, b) of `size` covering 0 .. n_windows; a last piece smaller than `size` joins the one
    before it."""
    bounds = [*range(0, n_windows, size), n_windows]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < size:
        del bounds[-2]
    return list(zip(bounds[:-1], bounds[1:]))


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


class _OrtBackend:
    def __init__(self, directory: Path, threads: int, residual: bool = False) -> None:
        import onnxruntime as ort

        from talkface_ros.model.files import DENOISE_ALL, ENCODE_ALL, STREAM_STEP

        def options(intra_op_threads: int):
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = intra_op_threads
            opts.inter_op_num_threads = 1
            opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            return opts

        # The denoiser recurrence is a chain of tiny matrix-vector products: a thread pool only adds its sync cost.
        # With threads > 1, FaceStreamer.animate runs the encoder on a thread of its own beside the denoiser.
        threads_of = {STREAM_STEP: threads, ENCODE_ALL: max(1, threads - 1), DENOISE_ALL: 1}
        self.sessions = {}
        for name in (STREAM_STEP, ENCODE_ALL, DENOISE_ALL):
            path = directory / name
            if not path.is_file():
                raise ModelFileError(f"model file missing: {path} (run `talkface export-onnx {directory}`)")
            try:
                self.sessions[name] = ort.InferenceSession(str(path), options(threads_of[name]),
                                                           providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own exception types
                raise ModelFileError(f"model file {path} is corrupt: {str(exc)[:300]}") from None
        self.step_session = self.sessions[STREAM_STEP]
        self.encode_session = self.sessions[ENCODE_ALL]
        self.denoise_all_session = self.sessions[DENOISE_ALL]
        inputs = {i.name: i.shape for i in self.encode_session.get_inputs()}
        if "prev_k" not in inputs:
            raise ModelFileError(f"{directory / ENCODE_ALL} is an older export without the chunk inputs "
                                 f"(prev_k, prev_v, prev_mask): re-export with `talkface export-onnx`")
        self.no_prev = np.zeros(inputs["prev_k"], dtype=np.float32)
        self.no_prev_mask = np.array([NEG_INF], dtype=np.float32)
        # a plain student's graphs do not read the frame's own encoding (the exporter drops the unused input)
        self.step_inputs = {i.name for i in self.step_session.get_inputs()}
        self.denoise_inputs = {i.name for i in self.denoise_all_session.get_inputs()}
        for path, inputs, needed in ((directory / STREAM_STEP, self.step_inputs, "h_past"),
                                     (directory / DENOISE_ALL, self.denoise_inputs, "h_frame")):
            if residual and needed not in inputs:
                raise ModelFileError(f"{path} is an older export without the {needed!r} input: "
                                     f"re-export with `talkface export-onnx`")

    def stream_step(self, feeds: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
        """-> frame, h, k_cache, v_cache"""
        return tuple(self.step_session.run(None, {k: v for k, v in feeds.items() if k in self.step_inputs}))

    def encode_all(self, tokens: np.ndarray) -> np.ndarray:
        return self.encode_chunk(tokens, None)[0]

    def encode_chunk(self, tokens: np.ndarray, prev: tuple[np.ndarray, np.ndarray] | None
                     ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Whole windows of tokens after the piece that returned `prev` (None: the utterance's start) ->
        (h, the state for the next piece)."""
        if prev is None:
            feeds = {"tokens": tokens, "prev_k": self.no_prev, "prev_v": self.no_prev, "prev_mask": self.no_prev_mask}
        else:
            feeds = {"tokens": tokens, "prev_k": prev[0], "prev_v": prev[1], "prev_mask": np.zeros(1, np.float32)}
        h, k, v = self.encode_session.run(None, feeds)
        return h, (k, v)

    def denoise_all(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        return self.denoise_all_session.run(None, {k: v for k, v in feeds.items() if k in self.denoise_inputs})[0]


class _TorchBackend:
    def __init__(self, directory: Path, threads: int) -> None:
        import torch

        from talkface_ros.model.checkpoint import load_checkpoint
        from talkface_ros.model.steps import DenoiseAll, EncodeAll, StreamStep

        torch.set_num_threads(threads)
        self.torch = torch
        model, _, _ = load_checkpoint(directory)
        self.step_module = StreamStep(model).eval()
        self.encode_module = EncodeAll(model).eval()
        self.denoise_all_module = DenoiseAll(model).eval()

    def _t(self, feeds: dict[str, np.ndarray]) -> dict:
        return {k: self.torch.from_numpy(np.ascontiguousarray(v)) for k, v in feeds.items()}

    def stream_step(self, feeds):
        with self.torch.inference_mode():
            return tuple(x.numpy() for x in self.step_module(**self._t(feeds)))

    def encode_all(self, tokens):
        with self.torch.inference_mode():
            return self.encode_module(self.torch.from_numpy(tokens)).numpy()

    def denoise_all(self, feeds):
        with self.torch.inference_mode():
            return self.denoise_all_module(**self._t(feeds)).numpy()


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
        self.level_norm = level_norm_config(config)  # None: the model reads the raw log-mel (models before it)
        self.backend = (_OrtBackend(directory, threads, self.residual) if backend == "onnxruntime"
                        else _TorchBackend(directory, threads))
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
        self.tokens = StreamingTokens()
        self.normaliser = LevelNormaliser(self.level_norm) if self.level_norm is not None else None
        self.k_cache = np.zeros(self.cache_shape, dtype=np.float32)
        self.v_cache = np.zeros(self.cache_shape, dtype=np.float32)
        self.history = np.zeros((1, self.history_len, FRAME_SIZE), dtype=np.float32)
        self.h_past = np.zeros((self.max_lookahead, self.d_model), dtype=np.float32)  # oldest first
        self.n_tokens = 0
        self.n_frames = 0
        self.samples_in = 0
        self.rng = np.random.default_rng(self.seed)

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
        valid = min(self.n_tokens + 1, self.window)
        mask = np.full(self.window, NEG_INF, dtype=np.float32)
        mask[self.window - valid:] = 0.0
        return mask

    def _noise(self) -> np.ndarray:
        return self.rng.standard_normal((1, FRAME_SIZE)).astype(np.float32)

    def _emit(self, raw: np.ndarray) -> Frame:
        values = sanitize_frames(raw[0])
        self.history = np.concatenate([self.history[:, 1:], values[None, None]], axis=1)
        frame = Frame(self.n_frames, (self.n_frames + 0.5) / self.frame_rate, values)
        self.n_frames += 1
        return frame

    # -- streaming -----------------------------------------------------------------------------------------
    def step_token(self, token: np.ndarray) -> Frame | None:
        """One 20 ms token [160] -> the frame `lookahead` tokens back (None during the first `lookahead`)."""
        noise = self._noise()
        feeds = {"token": token.reshape(1, -1).astype(np.float32), "k_cache": self.k_cache,
                 "v_cache": self.v_cache, "mask": self._mask(), "h_past": self.h_past, "history": self.history,
                 "noise": noise, "emotion": self._emotion, "lookahead": self._lookahead_arr}
        raw, h, self.k_cache, self.v_cache = self.backend.stream_step(feeds)
        if self.max_lookahead:
            self.h_past = np.concatenate([self.h_past[1:], h.reshape(1, -1)])
        self.n_tokens += 1
        if self.n_tokens <= self.lookahead:
            self.rng = np.random.default_rng(self.seed)  # noise draws start with the first emitted frame
            return None
        return self._emit(raw)

    def push(self, pcm: np.ndarray) -> list[Frame]:
        """PCM chunk (int16, or float in [-1, 1]; NaN/Inf -> 0, clipped), 16 kHz mono -> new frames."""
        pcm = np.asarray(pcm)
        if pcm.ndim != 1:
            pcm = pcm.reshape(-1)
        self.samples_in += len(pcm)
        frames = []
        tokens = self.tokens.push(pcm)
        if self.normaliser is not None:
            tokens = self.normaliser.push(tokens)
        for token in tokens:
            frame = self.step_token(token)
            if frame is not None:
                frames.append(frame)
        return frames

    def flush(self) -> list[Frame]:
        """End of utterance: zero-pad so every started 20 ms frame is output (T = ceil(samples / 320)),
        then the `lookahead` frames still held back. The stream continues afterwards as if zeros were heard."""
        pad = (-self.samples_in) % SAMPLES_PER_FRAME
        frames = self.push(np.zeros(pad, dtype=np.float32)) if pad else []
        frames += self.push(np.zeros(self.lookahead * SAMPLES_PER_FRAME, dtype=np.float32))
        return frames

    # -- offline (same computation, batched encoder and denoiser terms) --------------------------------------------
    def animate(self, pcm: np.ndarray) -> np.ndarray:
        """A whole utterance -> [ceil(N / 320), 55] frames, equal to reset + push + flush (within float
        tolerance): the encoder runs over all tokens at once, and the denoiser over all frames in one call
        (`DenoiseAll`: its history-free terms batched, the recurrence on its own outputs inside the graph), with
        the same noise draws."""
        from talkface_ros.model.features import audio_tokens, to_float

        self.reset()
        pcm = np.asarray(pcm).reshape(-1)
        n_frames = -(-len(pcm) // SAMPLES_PER_FRAME)
        if n_frames == 0:
            return np.zeros((0, FRAME_SIZE), dtype=np.float32)
        pad = n_frames * SAMPLES_PER_FRAME - len(pcm) + self.lookahead * SAMPLES_PER_FRAME
        if pcm.dtype != np.int16:  # as push() reads it (int16 stays int16: the same samples, converted once)
            pcm = to_float(pcm)
        samples = np.concatenate([pcm, np.zeros(pad, dtype=pcm.dtype)])
        n_tokens = len(samples) // SAMPLES_PER_FRAME
        n_windows = -(-n_tokens // self.window)  # the blocked encoder graph takes whole windows
        # the same noise stream as n_frames calls of _noise() (the generator is sequential)
        noise = self.rng.standard_normal((n_frames, FRAME_SIZE)).astype(np.float32)
        if self.threads > 1 and self.backend_name == "onnxruntime" and n_windows >= 2 * PIPELINE_WINDOWS:
            out, h_all = self._encode_and_denoise_pipelined(samples, n_tokens, noise, n_frames)
        else:
            tokens = audio_tokens(samples)
            if self.normaliser is not None:
                tokens = self.normaliser.push(tokens)
            padded = np.full((1, n_windows * self.window, TOKEN_DIM), SILENT_TOKEN, dtype=np.float32)
            padded[0, :n_tokens] = tokens
            h_all = self.backend.encode_all(padded)[0]
            out = self.backend.denoise_all(self._denoise_feeds(h_all, 0, n_frames, self.history, noise))
        bad = ~np.isfinite(out).all(axis=1)
        if bad.any():  # the graph fed a NaN frame back; streaming feeds back its sanitized frame: redo from there
            out = self._denoise_from(int(np.argmax(bad)), out, h_all, noise)
        out = sanitize_frames(out)
        self.history = np.concatenate([self.history, out[None]], axis=1)[:, -self.history_len:].copy()
        self.n_frames = n_frames
        self.n_tokens = n_tokens
        if self.max_lookahead:  # as stepping would leave it (zeros stand for tokens before the start)
            past = np.concatenate([np.zeros_like(self.h_past), h_all[:n_tokens]])
            self.h_past = np.ascontiguousarray(past[-self.max_lookahead:])
        return out

    def _denoise_feeds(self, h_all: np.ndarray, start: int, stop: int, history: np.ndarray,
                       noise: np.ndarray) -> dict[str, np.ndarray]:
        """Frames start .. stop-1 of an utterance encoded as h_all: frame t reads h[t + lookahead] and, for a
        residual student's mean, its own encoding h[t]."""
        la = self.lookahead
        return {"h": h_all[start + la:stop + la], "h_frame": h_all[start:stop], "history": history, "noise": noise,
                "emotion": self._emotion, "lookahead": self._lookahead_arr}

    def _encode_and_denoise_pipelined(self, samples: np.ndarray, n_tokens: int, noise: np.ndarray,
                                      n_frames: int) -> tuple[np.ndarray, np.ndarray]:
        """`animate` with its stages overlapped: the front end and the encoder on a worker thread, in chunks
        of windows (`pipeline_chunks`), the denoiser on this one, each chunk of frames as soon as its encoding
        is there (numpy's FFT and onnxruntime release the GIL). Exact: tokens are computed frame by frame
        (`tokens_between`), each chunk is encoded after the one before it, carrying its last window's keys and
        values (the blocked attention reads one window back), and the denoiser carries its history from chunk
        to chunk. -> (frames, the encodings of all tokens)."""
        from concurrent.futures import ThreadPoolExecutor

        from talkface_ros.model.features import tokens_between, with_left_context

        W, la = self.window, self.lookahead
        n_windows = -(-n_tokens // W)
        chunks = pipeline_chunks(n_windows)
        context = with_left_context(samples)
        tokens = np.full((1, n_windows * W, TOKEN_DIM), SILENT_TOKEN, dtype=np.float32)
        h_all = np.empty((n_windows * W, self.d_model), dtype=np.float32)
        state: list = [None]

        def encode(a: int, b: int) -> None:  # chunks run one after the other on the worker (one thread)
            t1 = min(b * W, n_tokens)
            if t1 > a * W:  # in order, so the level normaliser carries its state from chunk to chunk
                piece = tokens_between(context, a * W, t1)
                tokens[0, a * W:t1] = piece if self.normaliser is None else self.normaliser.push(piece)
            h, state[0] = self.backend.encode_chunk(tokens[:, a * W:b * W], state[0])
            h_all[a * W:b * W] = h[0]

        out = np.empty((n_frames, FRAME_SIZE), dtype=np.float32)
        history, done = self.history, 0
        with ThreadPoolExecutor(1) as pool:
            futures = [pool.submit(encode, a, b) for a, b in chunks]
            for (a, b), future in zip(chunks, futures):
                future.result()
                stop = n_frames if b == n_windows else min(n_frames, b * W - la)  # frame t reads h[t + la]
                if stop <= done:
                    continue
                part = self.backend.denoise_all(self._denoise_feeds(h_all, done, stop, history, noise[done:stop]))
                out[done:stop] = part
                history = np.concatenate([history, part[None]], axis=1)[:, -self.history_len:]
                done = stop
        return out, h_all

    def _denoise_from(self, start: int, out: np.ndarray, h_all: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """Frames from `start` on one call each, each fed back sanitized like `_emit` does (only after a NaN)."""
        k = self.history_len
        frames = np.concatenate([self.history[0], out])  # frames[k + t] = frame t; those before `start` are good
        for t in range(start, len(out)):
            raw = self.backend.denoise_all(self._denoise_feeds(h_all, t, t + 1, frames[None, t:t + k], noise[t:t + 1]))
            frames[k + t] = sanitize_frames(raw[0])
        return frames[k:]
