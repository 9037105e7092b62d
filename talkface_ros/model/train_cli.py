"""`talkface train` and `talkface distill`: the command lines. torch is imported only when a command runs,
so `--help` stays fast (talkface_ros.model.train imports torch)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

RECIPES_DIR = Path(__file__).resolve().parent / "recipes"


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", default="out/corpus", help="corpus folder (contract A)")
    parser.add_argument("-o", "--out", required=True, help="checkpoint folder")
    parser.add_argument("--recipe", default=None, metavar="NAME|FILE",
                        help=f"start from a recipe: a YAML file or a name in the package ({', '.join(recipe_names())}); "
                             "--steps, --threads and --set override it")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: the recipe's, else 2)")
    parser.add_argument("--limit", type=int, default=None, help="use at most this many utterances per split")
    parser.add_argument("--no-resume", action="store_true", help="start over even if OUT has a checkpoint")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field (training or model), e.g. --set batch=16 --set d_model=96")


def recipe_names() -> list[str]:
    return sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))


def load_recipe(name_or_path: str | None, section: str) -> dict[str, Any]:
    """The `section` (train | distill) of a recipe: a YAML file, or a recipe name in the package."""
    if not name_or_path:
        return {}
    import yaml

    path = Path(name_or_path)
    if not path.is_file():
        path = RECIPES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise SystemExit(f"no recipe {name_or_path!r} (a YAML file, or one of: {', '.join(recipe_names())})")
    try:
        recipe = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise SystemExit(f"recipe {path}: {error}") from None
    values = recipe.get(section, {})
    if not isinstance(values, dict):
        raise SystemExit(f"recipe {path}: '{section}' must be a mapping of config fields")
    return values


def _apply(key: str, value: Any, configs) -> None:
    for cfg in configs:
        if hasattr(cfg, key):
            current = getattr(cfg, key)  # strings as given (--set augment=room), the rest as JSON
            if isinstance(value, str) and not isinstance(current, str):
                try:
                    value = json.loads(value)
                except json.JSONDecodeError:
                    raise SystemExit(f"{key}={value!r}: not a JSON value (e.g. {json.dumps(current)})") from None
            setattr(cfg, key, value if isinstance(current, str) else type(current)(value))
            return
    raise SystemExit(f"unknown config field {key!r}")


def _configure(args: argparse.Namespace, section: str, run_config, *configs) -> None:
    """recipe, then --steps/--threads, then --set, in that order of precedence (last wins)."""
    for key, value in load_recipe(args.recipe, section).items():
        _apply(key, value, (run_config, *configs))
    if args.steps is not None:
        run_config.steps = args.steps
    if args.threads is not None:
        run_config.threads = args.threads
    _overrides(args.set, run_config, *configs)


def _overrides(items: list[str], *configs) -> None:
    for item in items:
        key, _, value = item.partition("=")
        _apply(key, value, configs)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _add_common(parser)


def run(args: argparse.Namespace) -> int:
    from talkface_ros.model.network import ModelConfig
    from talkface_ros.model.train import TrainConfig, train

    tcfg, mcfg = TrainConfig(threads=2), ModelConfig()
    _configure(args, "train", tcfg, mcfg)
    train(args.corpus, args.out, tcfg, mcfg, resume=not args.no_resume, limit=args.limit)
    return 0


def add_distill_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("teacher", help="teacher checkpoint folder (from `talkface train`)")
    _add_common(parser)
    parser.add_argument("--onnx", action="store_true", help="also export the ONNX graphs into OUT")


def run_distill(args: argparse.Namespace) -> int:
    from talkface_ros.model.train import DistillConfig, distill

    dcfg = DistillConfig(threads=2)
    _configure(args, "distill", dcfg)
    model = distill(args.teacher, args.corpus, args.out, dcfg, resume=not args.no_resume, limit=args.limit)
    if args.onnx:
        from talkface_ros.model.export import export_onnx

        export_onnx(model, args.out)
    return 0
