"""`talkface`: the command-line front door. Each subcommand lives in its own module, imported lazily
so `talkface --help` stays fast and a missing optional dependency only affects its own command.

A subcommand module defines `add_arguments(parser)` and `run(args) -> int`.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "capture": ("talkface_ros.audio.capture_cli", "capture audio (microphone or WAV) to a WAV file, without ROS"),
    "devices": ("talkface_ros.audio.devices_cli", "list audio input devices"),
    "servo-scan": ("talkface_ros.hardware.scan_cli", "list the servo controllers/servos answering on a serial port"),
    "emulate": ("talkface_ros.hardware.emulate_cli", "a Maestro or Dynamixel emulated on a pseudo-terminal"),
    "bringup": ("talkface_ros.nodes.bringup_cli", "start the node graph here, without ros2 launch"),
    "render": ("talkface_ros.demo.render_cli", "MP4 of the blendshape face and the simulated robot face, with the audio"),
    "demo": ("talkface_ros.demo.demo_cli", "the bundled clip through the whole simulated graph (what make run runs)"),
    "eval": ("talkface_ros.eval.eval_cli", "lip-sync metrics table for a system on an eval set"),
    "generate": ("talkface_ros.sim.generate_cli", "regenerate the URDF, controllers, rviz config and MuJoCo model from config/face.yaml"),
    "calibrate": ("talkface_ros.selfmodel.calibrate_cli", "learn the face self-model (babble in the sim, fit, evaluate, save)"),
    "face-png": ("talkface_ros.sim.png_cli", "render the simulated face at neutral and a few expressions to PNG"),
    "data": ("talkface_ros.data.data_cli", "synthesise the training corpus (data synth), check phone timings"),
    "train": ("talkface_ros.model.train_cli", "train the audio encoder + diffusion teacher on the corpus"),
    "distill": ("talkface_ros.model.distill_cli", "distill the diffusion teacher into the one-step student"),
    "adapt": ("talkface_ros.model.adapt_cli", "make a model's audio encoder robust to rooms, other talkers and mic level"),
    "export-onnx": ("talkface_ros.model.export_cli", "export a checkpoint's inference graphs to ONNX"),
    "animate": ("talkface_ros.model.animate_cli", "WAV -> Live Link Face CSV with the streaming model"),
}


def _top_level_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="talkface",
        description="Speech in, a talking robot face out.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n" + "\n".join(f"  {name:<14} {text}" for name, (_, text) in COMMANDS.items()),
    )
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND", help="see the list below")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in argv or "--verbose" in argv
    argv = [a for a in argv if a not in ("-v", "--verbose")]
    if not argv or argv[0] not in COMMANDS:
        _top_level_parser().parse_args(argv or ["--help"])
        return 2
    name, rest = argv[0], argv[1:]
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    module_name, text = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"talkface {name}", description=text)
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
