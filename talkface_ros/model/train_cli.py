"""`talkface train` and `talkface distill`: the command lines. torch is imported only when a command runs,
so `--help` stays fast (talkface_ros.model.train imports torch)."""
from __future__ import annotations

import argparse
import json


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", default="out/corpus", help="corpus folder (contract A)")
    parser.add_argument("-o", "--out", required=True, help="checkpoint folder")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="use at most this many utterances per split")
    parser.add_argument("--no-resume", action="store_true", help="start over even if OUT has a checkpoint")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field (training or model), e.g. --set batch=16 --set d_model=96")


def _overrides(items: list[str], *configs) -> None:
    for item in items:
        key, _, value = item.partition("=")
        for cfg in configs:
            if hasattr(cfg, key):
                current = getattr(cfg, key)  # strings as given (--set augment=room), the rest as JSON
                setattr(cfg, key, value if isinstance(current, str) else type(current)(json.loads(value)))
                break
        else:
            raise SystemExit(f"unknown config field {key!r}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _add_common(parser)


def run(args: argparse.Namespace) -> int:
    from talkface_ros.model.network import ModelConfig
    from talkface_ros.model.train import TrainConfig, train

    tcfg, mcfg = TrainConfig(threads=args.threads), ModelConfig()
    if args.steps is not None:
        tcfg.steps = args.steps
    _overrides(args.set, tcfg, mcfg)
    train(args.corpus, args.out, tcfg, mcfg, resume=not args.no_resume, limit=args.limit)
    return 0


def add_distill_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("teacher", help="teacher checkpoint folder (from `talkface train`)")
    _add_common(parser)
    parser.add_argument("--onnx", action="store_true", help="also export the ONNX graphs into OUT")


def run_distill(args: argparse.Namespace) -> int:
    from talkface_ros.model.train import DistillConfig, distill

    dcfg = DistillConfig(threads=args.threads)
    if args.steps is not None:
        dcfg.steps = args.steps
    _overrides(args.set, dcfg)
    model = distill(args.teacher, args.corpus, args.out, dcfg, resume=not args.no_resume, limit=args.limit)
    if args.onnx:
        from talkface_ros.model.export import export_onnx

        export_onnx(model, args.out)
    return 0
