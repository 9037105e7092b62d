"""Model file names, the model-file error and JSON reading: what the runtime needs, without torch
(the onnxruntime backend must not import it: ~200 MB of RSS in every node)."""
from __future__ import annotations

import json
from pathlib import Path

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
CARD = "card.json"
STREAM_STEP = "stream_step.onnx"
ENCODE_ALL = "encode_all.onnx"
DENOISE_ALL = "denoise_all.onnx"
# The ONNX graphs' interface, written into config.json by the exporter and checked once by the runtime.
# 2: the encoder takes whole windows with the previous window's keys/values (prev_k, prev_v, prev_mask), the
# residual student's graphs read the frame's own encoding (h_past, h_frame).
ONNX_FORMAT_KEY = "onnx_format"
ONNX_FORMAT = 2


class ModelFileError(RuntimeError):
    """A model file is missing, unreadable or does not match its config."""


def read_json(path: Path) -> dict:
    if not path.is_file():
        raise ModelFileError(f"model file missing: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"model file {path} is corrupt: {exc}") from None
    if not isinstance(data, dict):
        raise ModelFileError(f"model file {path} is corrupt: expected a JSON object")
    return data


def check_onnx_format(directory: Path, config: dict) -> None:
    """The one check that a folder's ONNX graphs are of the interface this runtime feeds."""
    found = config.get(ONNX_FORMAT_KEY)
    if found != ONNX_FORMAT:
        what = "no ONNX format (an export older than the format field)" if found is None else f"ONNX format {found}"
        raise ModelFileError(f"{directory / CONFIG}: {what}; this version reads format {ONNX_FORMAT}: re-export "
                             f"with `talkface export-onnx {directory}`")


def write_onnx_format(directory: Path) -> None:
    """Mark a folder's config.json with the format of the graphs just exported into it."""
    path = directory / CONFIG
    config = read_json(path)
    config[ONNX_FORMAT_KEY] = ONNX_FORMAT
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def model_config_fields(config: dict) -> dict:
    """config.json without what the exporter adds: the fields that rebuild the model."""
    return {key: value for key, value in config.items() if key != ONNX_FORMAT_KEY}
