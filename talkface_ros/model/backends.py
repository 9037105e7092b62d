"""The two runtimes behind FaceStreamer, one interface: onnxruntime (deployment; torch is never imported) and
torch (the checkpoint itself, for development). Each runs the three inference graphs of `steps.py` /
`export.py`: the per-frame streaming step, the encoder over whole windows, the one-step denoiser over a whole
utterance."""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from talkface_ros.model.files import ModelFileError, check_onnx_format

BACKENDS = ("onnxruntime", "torch")
NEG_INF = -1e9


class InferenceBackend(Protocol):
    def stream_step(self, feeds: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
        """One token -> frame, h, k_cache, v_cache."""

    def encode_all(self, tokens: np.ndarray) -> np.ndarray:
        """Whole windows of tokens [1, n * window, 160] -> encodings [1, n * window, d_model]."""

    def denoise_all(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """The one-step denoiser over the frames of an utterance, each fed its own previous outputs."""


def make_backend(name: str, directory: Path, threads: int, config: dict) -> InferenceBackend:
    """`config`: the folder's config.json (the ONNX graphs' format is checked there, once)."""
    if name == "onnxruntime":
        check_onnx_format(directory, config)
        return OrtBackend(directory, threads)
    if name == "torch":
        return TorchBackend(directory, threads)
    raise ValueError(f"unknown backend {name!r}; expected one of {BACKENDS}")


class OrtBackend:
    def __init__(self, directory: Path, threads: int) -> None:
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
        self.no_prev = np.zeros(inputs["prev_k"], dtype=np.float32)
        self.no_prev_mask = np.array([NEG_INF], dtype=np.float32)
        # a plain student's graphs do not read the frame's own encoding (the exporter drops the unused input)
        self.step_inputs = {i.name for i in self.step_session.get_inputs()}
        self.denoise_inputs = {i.name for i in self.denoise_all_session.get_inputs()}

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


class TorchBackend:
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
