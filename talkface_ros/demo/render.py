"""`talkface render IN.wav -o OUT.mp4`: the blendshape face (what the model says) and the simulated robot
face (what the motors do with it, through the learned self-model) side by side, with the audio.

The frames come from the same causal streaming computation as the node (`talkface animate`); the robot
face is the MuJoCo sim stepped in real time with the retargeted motor commands, so tendon lag and
slew show up as they would on the robot."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
MODEL_FPS = 50


def _label(image, text: str):
    from PIL import ImageDraw

    ImageDraw.Draw(image).text((8, 6), text, fill=(30, 30, 30) if image.getpixel((2, 2))[0] > 128 else (230, 230, 230))
    return image


def render_video(wav: str | Path, output: str | Path, emotion: str = "neutral", model: str | None = None,
                 calibration: str | None = None, size: int = 360, fps: int = 25, seed: int = 0) -> Path:
    """Writes the MP4 and returns its path. Raises AudioFileError / ModelFileError / VideoWriterError."""
    from PIL import Image

    from talkface_ros.demo.video import VideoWriter
    from talkface_ros.face.cartoon import draw_face
    from talkface_ros.model.animate import animate_file
    from talkface_ros.selfmodel.model import SelfModel
    from talkface_ros.sim.render import ensure_gl_backend

    if MODEL_FPS % fps:
        raise ValueError(f"fps must divide {MODEL_FPS}, got {fps}")
    frames = animate_file(str(wav), model=model, emotion=emotion, seed=seed)
    ensure_gl_backend()
    import mujoco

    from talkface_ros.sim.face_sim import FaceSim

    sim = FaceSim()
    selfmodel = SelfModel.load(calibration)
    selfmodel.check_matches(sim.description.joint_names)
    motors = selfmodel.retarget(frames)
    every = MODEL_FPS // fps
    output = Path(output)
    log.info("rendering %d frames of %s to %s", len(frames) // every, wav, output)
    with mujoco.Renderer(sim.model, height=size, width=size) as renderer, \
            VideoWriter(output, 2 * size, size, fps, audio_wav=wav) as video:
        for t in range(len(frames)):
            sim.set_command(motors[t])
            sim.step(1.0 / MODEL_FPS)
            if t % every != every - 1:
                continue
            renderer.update_scene(sim.data, camera="front")
            robot = Image.fromarray(np.asarray(renderer.render()))
            panel = Image.new("RGB", (2 * size, size))
            panel.paste(_label(draw_face(frames[t], size), "blendshapes (model)"), (0, 0))
            panel.paste(_label(robot, "robot face (sim, self-model)"), (size, 0))
            video.write(np.asarray(panel))
    return output


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("wav", help="speech (any format/rate libsndfile reads)")
    parser.add_argument("-o", "--output", required=True, help="output MP4")
    parser.add_argument("--emotion", default="neutral", help="label[:intensity]")
    parser.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    parser.add_argument("--calibration", default=None, help="self-model folder (default: the shipped one)")
    parser.add_argument("--size", type=int, default=360, help="height of the video (width is twice this)")
    parser.add_argument("--fps", type=int, default=25, choices=(10, 25, 50))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--frames-png", default="", help="also save a few frames as PNG in this folder")


def run(args: argparse.Namespace) -> int:
    from talkface_ros.audio.wav import AudioFileError
    from talkface_ros.demo.video import VideoWriterError

    try:
        path = render_video(args.wav, args.output, args.emotion, args.model, args.calibration, args.size, args.fps, args.seed)
    except (AudioFileError, VideoWriterError, ValueError, FileNotFoundError) as error:
        print(f"error: {error}")
        return 1
    print(f"wrote {path}")
    return 0
