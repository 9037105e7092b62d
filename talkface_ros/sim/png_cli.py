"""`talkface face-png`: render the simulated face at neutral and at a few expressions to PNG files.

Expressions are ARKit frames retargeted by the shipped self-model (the same path as the face_retarget
node), so the pictures show what the robot does with a blendshape frame."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

EXPRESSIONS: dict[str, dict[str, float]] = {
    "neutral": {},
    "smile": {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0, "cheekSquintLeft": 0.6, "cheekSquintRight": 0.6,
              "eyeSquintLeft": 0.4, "eyeSquintRight": 0.4},
    "surprise": {"jawOpen": 0.7, "browInnerUp": 1.0, "browOuterUpLeft": 1.0, "browOuterUpRight": 1.0,
                 "eyeWideLeft": 1.0, "eyeWideRight": 1.0},
    "sneer": {"noseSneerLeft": 1.0, "noseSneerRight": 1.0, "mouthUpperUpLeft": 0.8, "mouthUpperUpRight": 0.8,
              "browDownLeft": 0.8, "browDownRight": 0.8},
    "sad": {"browInnerUp": 0.9, "mouthFrownLeft": 1.0, "mouthFrownRight": 1.0, "mouthLowerDownLeft": 0.5,
            "mouthLowerDownRight": 0.5},
    "talk_aa": {"jawOpen": 0.8, "mouthLowerDownLeft": 0.4, "mouthLowerDownRight": 0.4},
    "wink_look_left": {"eyeBlinkRight": 1.0, "eyeLookOutLeft": 0.8, "eyeLookInRight": 0.8, "mouthSmileLeft": 0.6,
                       "headYaw": 0.3},
}


def expression_frame(weights: dict[str, float]) -> np.ndarray:
    from talkface_ros.face.arkit import FRAME_SIZE, INDEX

    frame = np.zeros(FRAME_SIZE)
    for name, value in weights.items():
        frame[INDEX[name]] = value
    return frame


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", default="out/face_png", help="output folder")
    parser.add_argument("--calibration", default=None, help="self-model folder (default: the shipped one)")
    parser.add_argument("--size", type=int, default=480)
    parser.add_argument("--camera", default="front", choices=("front", "three_quarter"))
    parser.add_argument("--landmarks", action="store_true", help="draw the landmark sites (green dots)")


def run(args: argparse.Namespace) -> int:
    from talkface_ros.sim.face_sim import FaceSim
    from talkface_ros.sim.render import render_png
    from talkface_ros.selfmodel.model import SelfModel

    sim = FaceSim()
    model = SelfModel.load(args.calibration)
    model.check_matches(sim.description.joint_names)
    for name, weights in EXPRESSIONS.items():
        sim.reset()
        sim.settle(model.retarget(expression_frame(weights)), 0.5)
        path = render_png(sim, Path(args.output) / f"face_{name}.png", camera=args.camera, size=args.size,
                          landmarks=args.landmarks)
        print(path)
    return 0
