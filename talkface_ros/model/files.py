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
