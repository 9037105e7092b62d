"""Export the inference graphs (talkface_ros.model.steps) to ONNX beside the checkpoint; `talkface export-onnx`."""
from __future__ import annotations

import argparse
import logging
import warnings
from pathlib import Path

import torch

from talkface_ros.model.checkpoint import load_checkpoint, save_checkpoint
from talkface_ros.model.files import DENOISE_STEP, ENCODE_ALL, STREAM_STEP  # noqa: F401
from talkface_ros.model.network import FaceModel
from talkface_ros.model.steps import DenoiseStep, EncodeAll, StreamStep

log = logging.getLogger(__name__)

OPSET = 17


def example_inputs(model: FaceModel) -> dict[str, torch.Tensor]:
    c = model.cfg
    k, v = model.encoder.empty_cache(1)
    return {
        "token": torch.zeros(1, c.token_dim), "k_cache": k, "v_cache": v, "mask": torch.zeros(c.window),
        "history": torch.zeros(1, c.history, c.face_dim), "noise": torch.zeros(1, c.face_dim),
        "emotion": torch.zeros(1, c.n_emotions), "lookahead": torch.zeros(1, dtype=torch.int64),
    }


def export_onnx(model: FaceModel, out_dir: str | Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    ex = example_inputs(model)
    written = []
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation/constant-folding notes
        path = out_dir / STREAM_STEP
        names = ["token", "k_cache", "v_cache", "mask", "history", "noise", "emotion", "lookahead"]
        torch.onnx.export(StreamStep(model), tuple(ex[n] for n in names), str(path), input_names=names,
                          output_names=["frame", "h", "k_cache_out", "v_cache_out"], opset_version=OPSET,
                          dynamo=False)
        written.append(path)
        path = out_dir / ENCODE_ALL
        tokens = torch.zeros(1, 2 * model.cfg.window, model.cfg.token_dim)
        torch.onnx.export(EncodeAll(model), (tokens,), str(path), input_names=["tokens"], output_names=["h"],
                          dynamic_axes={"tokens": {1: "T"}, "h": {1: "T"}}, opset_version=OPSET, dynamo=False)
        written.append(path)
        path = out_dir / DENOISE_STEP
        names = ["history", "noise", "emotion", "lookahead"]
        h = torch.zeros(1, model.cfg.d_model)
        torch.onnx.export(DenoiseStep(model), (h,) + tuple(ex[n] for n in names), str(path),
                          input_names=["h"] + names, output_names=["frame"], opset_version=OPSET, dynamo=False)
        written.append(path)
    for p in written:
        log.info("wrote %s (%.0f kB)", p, p.stat().st_size / 1024)
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="checkpoint folder (model.safetensors + config.json)")
    parser.add_argument("-o", "--out", default=None, help="output folder (default: the checkpoint folder)")


def run(args: argparse.Namespace) -> int:
    model, card, _ = load_checkpoint(args.checkpoint)
    out = Path(args.out or args.checkpoint)
    if out.resolve() != Path(args.checkpoint).resolve():
        # a release folder: weights without optimizer state, config, card, ONNX graphs
        save_checkpoint(model, out, {**card, "exported_from": str(args.checkpoint)})
    export_onnx(model, out)
    return 0
