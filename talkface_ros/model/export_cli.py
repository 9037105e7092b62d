"""`talkface export-onnx CHECKPOINT [-o OUT]`; torch is imported only when the command runs."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="checkpoint folder (model.safetensors + config.json)")
    parser.add_argument("-o", "--out", default=None, help="output folder (default: the checkpoint folder)")


def run(args: argparse.Namespace) -> int:
    from talkface_ros.model.checkpoint import load_checkpoint, save_checkpoint
    from talkface_ros.model.export import export_onnx

    model, card, _ = load_checkpoint(args.checkpoint)
    out = Path(args.out or args.checkpoint)
    if out.resolve() != Path(args.checkpoint).resolve():
        # a release folder: weights without optimizer state, config, card, ONNX graphs
        save_checkpoint(model, out, {**card, "exported_from": str(args.checkpoint)})
    export_onnx(model, out)
    return 0
