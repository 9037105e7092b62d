"""Export the inference graphs (talkface_ros.model.steps) to ONNX beside the checkpoint; `talkface export-onnx`."""
from __future__ import annotations

import argparse
import io
import logging
import warnings
from pathlib import Path

import numpy as np
import torch

from talkface_ros.model.checkpoint import load_checkpoint, save_checkpoint
from talkface_ros.model.files import DENOISE_ALL, ENCODE_ALL, STREAM_STEP
from talkface_ros.model.network import FaceModel
from talkface_ros.model.steps import DenoiseAll, EncodeAll, StreamStep

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
        path = out_dir / DENOISE_ALL
        path.write_bytes(denoise_all_onnx(model).SerializeToString())
        written.append(path)
    for p in written:
        log.info("wrote %s (%.0f kB)", p, p.stat().st_size / 1024)
    return written


class _Prepare(torch.nn.Module):
    def __init__(self, all_: DenoiseAll) -> None:
        super().__init__()
        self.all = all_

    def forward(self, h, noise, emotion, lookahead):
        return self.all.prepare(h, noise, emotion, lookahead)


class _Step(torch.nn.Module):
    def __init__(self, all_: DenoiseAll) -> None:
        super().__init__()
        self.all = all_

    def forward(self, hist, c, xn):
        return self.all.step(hist, c, xn)


def _to_onnx(module: torch.nn.Module, args: tuple, names: list[str], outputs: list[str], dynamic: dict | None = None):
    import onnx

    buf = io.BytesIO()
    torch.onnx.export(module, args, buf, input_names=names, output_names=outputs, dynamic_axes=dynamic,
                      opset_version=OPSET, dynamo=False)
    return onnx.load_from_string(buf.getvalue())


def _prefix_names(graph, prefix: str) -> None:
    """Every value, node and initializer name of `graph` (no nested graphs) gets `prefix`, so that the graph can
    be a subgraph without shadowing a name of the outer graph."""
    def rename(name: str) -> str:
        return prefix + name if name else name

    for node in graph.node:
        node.name = rename(node.name)
        node.input[:] = [rename(n) for n in node.input]
        node.output[:] = [rename(n) for n in node.output]
    for seq in (graph.input, graph.output, graph.value_info, graph.initializer):
        for item in seq:
            item.name = rename(item.name)


def denoise_all_onnx(model: FaceModel):
    """`DenoiseAll` as one ONNX graph: (h [T, d], history [1, K, 55], noise [T, 55], emotion [1, 7],
    lookahead [1]) -> frames [T, 55]. The batched `prepare` part feeds a Scan over the frames whose body is
    `step` (state: the flattened history); one onnxruntime call runs the whole recurrence."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    c = model.cfg
    all_ = DenoiseAll(model).eval()
    T = 3
    prep = _to_onnx(_Prepare(all_), (torch.zeros(T, c.d_model), torch.zeros(T, c.face_dim),
                                     torch.zeros(1, c.n_emotions), torch.zeros(1, dtype=torch.int64)),
                    ["h", "noise", "emotion", "lookahead"], ["c", "xn"],
                    {"h": {0: "T"}, "noise": {0: "T"}, "c": {0: "T"}, "xn": {0: "T"}})
    flat = c.history * c.face_dim
    body = _to_onnx(_Step(all_), (torch.zeros(1, flat), torch.zeros(1, c.den_hidden), torch.zeros(1, c.den_hidden)),
                    ["hist", "c_t", "xn_t"], ["hist_out", "frame"]).graph
    _prefix_names(body, "step/")
    body.name = "denoise_step"
    graph = prep.graph
    graph.name = "denoise_all"
    graph.input.insert(1, helper.make_tensor_value_info("history", TensorProto.FLOAT, [1, c.history, c.face_dim]))
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("frames", TensorProto.FLOAT, ["T", c.face_dim]))
    graph.initializer.extend([numpy_helper.from_array(np.array([1, flat], np.int64), "all/hist_shape"),
                              numpy_helper.from_array(np.array([1], np.int64), "all/axis1")])
    graph.node.extend([
        helper.make_node("Reshape", ["history", "all/hist_shape"], ["all/hist0"], name="all/Reshape"),
        helper.make_node("Unsqueeze", ["c", "all/axis1"], ["all/c3"], name="all/Unsqueeze_c"),
        helper.make_node("Unsqueeze", ["xn", "all/axis1"], ["all/xn3"], name="all/Unsqueeze_xn"),
        helper.make_node("Scan", ["all/hist0", "all/c3", "all/xn3"], ["all/hist_last", "all/frames3"],
                         name="all/Scan", num_scan_inputs=2, body=body),
        helper.make_node("Squeeze", ["all/frames3", "all/axis1"], ["frames"], name="all/Squeeze"),
    ])
    onnx.checker.check_model(prep)
    return prep


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
