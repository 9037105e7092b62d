"""`talkface calibrate --sim`: babble, fit, evaluate and save the self-model calibration.

It writes to out/selfmodel by default, never over the calibration shipped in the package (a
`pip install`ed package may not even be writable): the nodes use the new one when told to
(face_retarget's calibration_path), or when it is copied over the shipped one on purpose."""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from talkface_ros.selfmodel.model import default_calibration_dir

log = logging.getLogger(__name__)

DEFAULT_OUTPUT = "out/selfmodel"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sim", action="store_true", help="babble in the MuJoCo face (the only source for now)")
    parser.add_argument("--face", default=None, help="face description YAML (default: config/face.yaml)")
    parser.add_argument("-o", "--output", default=DEFAULT_OUTPUT,
                        help=f"output folder (default: {DEFAULT_OUTPUT}; the shipped calibration in "
                             f"{default_calibration_dir()} is replaced only when named here)")
    parser.add_argument("--samples", type=int, default=4000, help="babbling poses")
    parser.add_argument("--steps", type=int, default=4000, help="training steps of the forward and inverse nets")
    parser.add_argument("--inverse-frames", type=int, default=4000, help="frames solved by gradient descent")
    parser.add_argument("--eval-frames", type=int, default=200, help="held-out frames evaluated in the sim")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    if not args.sim:
        log.error("only --sim calibration exists so far (a camera-based one needs landmark tracking)")
        return 2
    output = Path(args.output)
    if output.exists() and not output.is_dir():  # before minutes of babbling and training
        log.error("-o %s is a file, not a folder", output)
        return 1
    from talkface_ros.face.description import load_face_description
    from talkface_ros.selfmodel.train import CalibrateConfig, calibrate
    from talkface_ros.sim.face_sim import FaceSim

    config = CalibrateConfig(babble_samples=args.samples, forward_steps=args.steps, inverse_frames=args.inverse_frames,
                             solver_steps=300, inverse_steps=args.steps, eval_frames=args.eval_frames, seed=args.seed)
    model = calibrate(FaceSim(load_face_description(args.face)), config)
    folder = Path(model.save(output)).resolve()
    print(json.dumps(model.config["metrics"], indent=1))
    print(f"saved the calibration in {folder}")
    if folder != default_calibration_dir().resolve():
        print(f"the nodes still use the shipped one ({default_calibration_dir()}): pass "
              f"calibration_path:={folder} to face_retarget, or copy it over the shipped one")
    return 0
