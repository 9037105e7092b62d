"""`talkface adapt`: a model's audio encoder made robust to rooms, other talkers and microphone level by
teacher-student adaptation (`talkface_ros.model.adapt`). torch is imported only when the command runs."""
from __future__ import annotations

import argparse

from talkface_ros.model.train_cli import _configure, recipe_names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="the checkpoint to adapt (a folder with model.safetensors + config.json, "
                                      "e.g. talkface_ros/models/talkface)")
    parser.add_argument("--corpus", default="out/corpus", help="corpus folder (contract A): its train split")
    parser.add_argument("-o", "--out", required=True, help="checkpoint folder for the adapted model")
    parser.add_argument("--recipe", default=None, metavar="NAME|FILE",
                        help=f"start from a recipe's 'adapt' section ({', '.join(recipe_names())}); "
                             "--steps, --threads and --set override it")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default 1)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override an AdaptConfig field (values as JSON), e.g. --set p_room=0.8, "
                             "--set 'real_sources=[\"tuxpaint\",\"fillets\"]' (unlabelled real speech, "
                             "tools/install_system_deps.sh --speech-corpora), --set extra_layers=2, "
                             "--set dereverb=true (late-reverb suppression in front, dereverb_rt60_s=0.4)")
    parser.add_argument("--onnx", action="store_true", help="also export the ONNX graphs into OUT")


def run(args: argparse.Namespace) -> int:
    from talkface_ros.model.adapt import AdaptConfig, adapt_checkpoint

    cfg = AdaptConfig()
    _configure(args, "adapt", cfg)
    result = adapt_checkpoint(args.model, args.corpus, args.out, cfg)
    if args.onnx:
        from talkface_ros.model.export import export_onnx

        export_onnx(result.model, args.out)
    return 0
