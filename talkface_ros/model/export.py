"""Export the inference graphs (talkface_ros.model.steps) to ONNX beside the checkpoint; `talkface export-onnx`
(the command line is in export_cli)."""
from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path

import numpy as np
import torch

from talkface_ros.model.files import CONFIG, DENOISE_ALL, ENCODE_ALL, STREAM_STEP, write_onnx_format
from talkface_ros.model.network import FaceModel
from talkface_ros.model.steps import DenoiseAll, EncodeChunk, StreamStep, frame_limits

log = logging.getLogger(__name__)

OPSET = 17


def example_inputs(model: FaceModel) -> dict[str, torch.Tensor]:
    c = model.cfg
    k, v = model.encoder.empty_cache(1)
    return {
        "token": torch.zeros(1, c.token_dim), "k_cache": k, "v_cache": v, "mask": torch.zeros(c.window),
        "h_past": torch.zeros(c.max_lookahead, c.d_model), "history": torch.zeros(1, c.history, c.face_dim), "noise": torch.zeros(1, c.face_dim),
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
        names = ["token", "k_cache", "v_cache", "mask", "h_past", "history", "noise", "emotion", "lookahead"]
        torch.onnx.export(StreamStep(model), tuple(ex[n] for n in names), str(path), input_names=names,
                          output_names=["frame", "h", "k_cache_out", "v_cache_out"], opset_version=OPSET,
                          dynamo=False)
        written.append(path)
        path = out_dir / ENCODE_ALL
        c = model.cfg
        tokens = torch.zeros(1, 2 * c.window, c.token_dim)
        prev = torch.zeros(c.n_layer, 1, c.n_head, c.window, c.d_model // c.n_head)
        torch.onnx.export(EncodeChunk(model), (tokens, prev, prev, torch.zeros(1)), str(path),
                          input_names=["tokens", "prev_k", "prev_v", "prev_mask"], output_names=["h", "last_k", "last_v"],
                          dynamic_axes={"tokens": {1: "T"}, "h": {1: "T"}}, opset_version=OPSET, dynamo=False)
        written.append(path)
        path = out_dir / DENOISE_ALL
        path.write_bytes(denoise_all_onnx(model).SerializeToString())
        written.append(path)
    if (out_dir / CONFIG).is_file():
        write_onnx_format(out_dir)
    for p in written:
        log.info("wrote %s (%.0f kB)", p, p.stat().st_size / 1024)
    return written


class _Prepare(torch.nn.Module):
    def __init__(self, all_: DenoiseAll) -> None:
        super().__init__()
        self.all = all_

    def forward(self, h, h_frame, noise, emotion, lookahead):
        return self.all.prepare(h, h_frame, noise, emotion, lookahead)


def _to_onnx(module: torch.nn.Module, args: tuple, names: list[str], outputs: list[str], dynamic: dict | None = None):
    import onnx

    buf = io.BytesIO()
    torch.onnx.export(module, args, buf, input_names=names, output_names=outputs, dynamic_axes=dynamic,
                      opset_version=OPSET, dynamo=False)
    return onnx.load_from_string(buf.getvalue())


def _denoise_step_body(all_: DenoiseAll, lo: np.ndarray, span: np.ndarray):
    """The Scan body: one frame of `DenoiseAll.step`, written op by op for onnxruntime (19 kernels where the
    exported module gave 24 after ORT's fusions): each residual add + layer norm is one SkipLayerNormalization
    (its `bias` input carries fc2's bias, its `beta` the conditioning), fc1 + GELU two kernels, and frames
    and history live in *limit units* ((x - lo) / (hi - lo), folded into the history and output weights)
    so that the clamp is one Clip(0, 1). Inputs: hist [1, K * 55] (limit units), c_t, xn_t [1, hidden], b_t [1, 55]
    (the frame's output bias, limit units); outputs: hist_out, frame [1, 55] (limit units)."""
    from onnx import TensorProto, helper, numpy_helper

    den, hid, fd = all_.den, all_.hidden, all_.face_dim
    k = all_.w_hist.shape[0] // fd

    def arr(t) -> np.ndarray:
        return (t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)).astype(np.float32)

    inits = {
        "w_hist": arr(all_.w_hist) * np.tile(span, k)[:, None],
        "w_out": arr(all_.w_out) / span[None, :],
        "ln_out_w": arr(den.ln_out.weight), "ln_out_b": arr(den.ln_out.bias),
        "hid_shape": np.array([hid], np.int64), "zero": np.array(0.0, np.float32), "one": np.array(1.0, np.float32),
        "slice_start": np.array([fd], np.int64), "slice_end": np.array([k * fd], np.int64),
        "slice_axis": np.array([1], np.int64),
    }
    nodes = [
        helper.make_node("Gemm", ["hist", "w_hist", "c_t"], ["cond"]),
        helper.make_node("Reshape", ["cond", "hid_shape"], ["cond1"]),
    ]
    blocks = den.blocks
    # z0 = cond + xn; u0 = LN0(z0) with shift cond (the norm's own shift is folded into fc1's bias)
    nodes.append(helper.make_node("SkipLayerNormalization", ["cond", "xn_t", "ln0_w", "cond1"], ["u0", "", "", "z0"],
                                  domain="com.microsoft", epsilon=blocks[0].ln.eps))
    inits["ln0_w"] = arr(blocks[0].ln.weight)
    for i, block in enumerate(blocks):
        inits[f"fc1_w{i}"] = arr(block.fc1.weight).T.copy()
        inits[f"fc1_b{i}"] = arr(getattr(all_, f"fc1_bias_{i}"))
        inits[f"fc2_w{i}"] = arr(block.fc2.weight).T.copy()
        inits[f"fc2_b{i}"] = arr(block.fc2.bias)
        nodes += [
            helper.make_node("Gemm", [f"u{i}", f"fc1_w{i}", f"fc1_b{i}"], [f"a{i}"]),
            helper.make_node("Gelu", [f"a{i}"], [f"g{i}"], domain="com.microsoft"),
            helper.make_node("MatMul", [f"g{i}", f"fc2_w{i}"], [f"f{i}"]),
        ]
        if i + 1 < len(blocks):  # z_{i+1} = z_i + fc2(..); u_{i+1} = LN_{i+1}(z_{i+1}) with shift cond
            inits[f"ln{i + 1}_w"] = arr(blocks[i + 1].ln.weight)
            nodes.append(helper.make_node(
                "SkipLayerNormalization", [f"z{i}", f"f{i}", f"ln{i + 1}_w", "cond1", f"fc2_b{i}"],
                [f"u{i + 1}", "", "", f"z{i + 1}"], domain="com.microsoft", epsilon=blocks[i + 1].ln.eps))
        else:  # the output norm
            nodes.append(helper.make_node(
                "SkipLayerNormalization", [f"z{i}", f"f{i}", "ln_out_w", "ln_out_b", f"fc2_b{i}"], ["u_out"],
                domain="com.microsoft", epsilon=den.ln_out.eps))
    nodes += [
        helper.make_node("Gemm", ["u_out", "w_out", "b_t"], ["frame_free"]),
        helper.make_node("Clip", ["frame_free", "zero", "one"], ["frame"]),
        helper.make_node("Slice", ["hist", "slice_start", "slice_end", "slice_axis"], ["hist_old"]),
        helper.make_node("Concat", ["hist_old", "frame"], ["hist_out"], axis=1),
    ]
    f32 = TensorProto.FLOAT
    return helper.make_graph(
        [helper.make_node(n.op_type, [f"step/{x}" if x else "" for x in n.input],
                          [f"step/{x}" if x else "" for x in n.output], domain=n.domain, name=f"step/{i}",
                          **{a.name: helper.get_attribute_value(a) for a in n.attribute})
         for i, n in enumerate(nodes)],
        "denoise_step",
        [helper.make_tensor_value_info("step/hist", f32, [1, k * fd]),
         helper.make_tensor_value_info("step/c_t", f32, [1, hid]),
         helper.make_tensor_value_info("step/xn_t", f32, [1, hid]),
         helper.make_tensor_value_info("step/b_t", f32, [1, fd])],
        [helper.make_tensor_value_info("step/hist_out", f32, [1, k * fd]),
         helper.make_tensor_value_info("step/frame", f32, [1, fd])],
        [numpy_helper.from_array(v, f"step/{name}") for name, v in inits.items()],
    )


def denoise_all_onnx(model: FaceModel):
    """`DenoiseAll` as one ONNX graph: (h [T, d], h_frame [T, d], history [1, K, 55], noise [T, 55],
    emotion [1, 7], lookahead [1]) -> frames [T, 55]. The batched `prepare` part (exported from torch) feeds a Scan over the
    frames whose body is `_denoise_step_body` (state: the flattened history, in limit units); one onnxruntime
    call runs the whole recurrence."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    c = model.cfg
    all_ = DenoiseAll(model).eval()
    T = 3
    prep = _to_onnx(_Prepare(all_), (torch.zeros(T, c.d_model), torch.zeros(T, c.d_model), torch.zeros(T, c.face_dim),
                                     torch.zeros(1, c.n_emotions), torch.zeros(1, dtype=torch.int64)),
                    ["h", "h_frame", "noise", "emotion", "lookahead"], ["c", "xn", "b"],
                    {"h": {0: "T"}, "h_frame": {0: "T"}, "noise": {0: "T"}, "c": {0: "T"}, "xn": {0: "T"},
                     "b": {0: "T"}})
    lo_t, hi_t = frame_limits()
    lo, span = lo_t.numpy().astype(np.float32), (hi_t - lo_t).numpy().astype(np.float32)
    flat = c.history * c.face_dim
    body = _denoise_step_body(all_, lo, span)
    # history in limit units: hist_raw @ w_hist = hist_units @ (span * w_hist) + lo @ w_hist (the constant joins c)
    c_shift = np.tile(lo, c.history) @ all_.w_hist.numpy()
    graph = prep.graph
    graph.name = "denoise_all"
    graph.input.insert(2, helper.make_tensor_value_info("history", TensorProto.FLOAT, [1, c.history, c.face_dim]))
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("frames", TensorProto.FLOAT, ["T", c.face_dim]))
    graph.initializer.extend([numpy_helper.from_array(np.array([1, flat], np.int64), "all/hist_shape"),
                              numpy_helper.from_array(np.array([1], np.int64), "all/axis1"),
                              numpy_helper.from_array(lo, "all/lo"), numpy_helper.from_array(span, "all/span"),
                              numpy_helper.from_array(c_shift.astype(np.float32), "all/c_shift")])
    graph.node.extend([
        helper.make_node("Sub", ["history", "all/lo"], ["all/hist_off"], name="all/Sub"),
        helper.make_node("Div", ["all/hist_off", "all/span"], ["all/hist_units"], name="all/Div"),
        helper.make_node("Reshape", ["all/hist_units", "all/hist_shape"], ["all/hist0"], name="all/Reshape"),
        helper.make_node("Add", ["c", "all/c_shift"], ["all/c_units"], name="all/Add_c"),
        helper.make_node("Unsqueeze", ["all/c_units", "all/axis1"], ["all/c3"], name="all/Unsqueeze_c"),
        helper.make_node("Unsqueeze", ["xn", "all/axis1"], ["all/xn3"], name="all/Unsqueeze_xn"),
        helper.make_node("Sub", ["b", "all/lo"], ["all/b_off"], name="all/Sub_b"),
        helper.make_node("Div", ["all/b_off", "all/span"], ["all/b_units"], name="all/Div_b"),
        helper.make_node("Unsqueeze", ["all/b_units", "all/axis1"], ["all/b3"], name="all/Unsqueeze_b"),
        helper.make_node("Scan", ["all/hist0", "all/c3", "all/xn3", "all/b3"], ["all/hist_last", "all/frames3"],
                         name="all/Scan", num_scan_inputs=3, body=body),
        helper.make_node("Squeeze", ["all/frames3", "all/axis1"], ["all/frames_units"], name="all/Squeeze"),
        helper.make_node("Mul", ["all/frames_units", "all/span"], ["all/frames_off"], name="all/Mul"),
        helper.make_node("Add", ["all/frames_off", "all/lo"], ["frames"], name="all/Add_lo"),
    ])
    del prep.opset_import[:]
    prep.opset_import.extend([helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)])
    onnx.checker.check_model(prep)
    return prep
