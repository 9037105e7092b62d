"""Checkpoints: DIR/model.safetensors + DIR/config.json (the config rebuilds the model) + DIR/card.json.

Nothing is ever unpickled. Missing or corrupt files raise `ModelFileError` with the path and the reason."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from talkface_ros.model.files import CARD, CONFIG, WEIGHTS, ModelFileError, model_config_fields, read_json  # noqa: F401
from talkface_ros.model.network import FaceModel, ModelConfig

log = logging.getLogger(__name__)


def save_checkpoint(model: FaceModel, directory: str | Path, card: dict | None = None,
                    extra: dict[str, torch.Tensor] | None = None) -> None:
    """Atomic-ish: write to tmp names, then rename. `extra` tensors (e.g. optimizer moments) go in the same file."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    for k, v in (extra or {}).items():
        tensors[f"extra/{k}"] = v.detach().contiguous()
    tmp = directory / (WEIGHTS + ".tmp")
    save_file(tensors, str(tmp))
    tmp.replace(directory / WEIGHTS)
    (directory / CONFIG).write_text(json.dumps(model.cfg.to_dict(), indent=2) + "\n", encoding="utf-8")
    if card is not None:
        (directory / CARD).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")


def load_checkpoint(directory: str | Path) -> tuple[FaceModel, dict, dict[str, torch.Tensor]]:
    """-> (model in eval mode, card (may be empty), extra tensors). Raises ModelFileError."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    directory = Path(directory)
    cfg_dict = read_json(directory / CONFIG)
    try:
        cfg = ModelConfig.from_dict(model_config_fields(cfg_dict))
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{directory / CONFIG}: bad model config: {exc}") from None
    weights = directory / WEIGHTS
    if not weights.is_file():
        raise ModelFileError(f"model file missing: {weights}")
    try:
        tensors = load_file(str(weights))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"model file {weights} is corrupt: {exc}") from None
    model = FaceModel(cfg)
    state = {k: v for k, v in tensors.items() if not k.startswith("extra/")}
    extra = {k[len("extra/"):]: v for k, v in tensors.items() if k.startswith("extra/")}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelFileError(f"{weights} does not match {directory / CONFIG}: {str(exc)[:300]}") from None
    model.eval()
    card = read_json(directory / CARD) if (directory / CARD).is_file() else {}
    return model, card, extra
