"""`talkface render IN.wav -o OUT.mp4`: the blendshape face (what the model says) and the simulated robot
face (what the motors do with it, through the learned self-model) side by side, with the audio.

The frames come from the same causal streaming computation as the node (`talkface animate`); the robot
face is the MuJoCo sim stepped in real time with the retargeted motor commands, so tendon lag and
slew show up as they would on the robot."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
MODEL_FPS = 50


def _label(image, text: str):
    from PIL import ImageDraw

    ImageDraw.Draw(image).text((8, 6), text, fill=(30, 30, 30) if image.getpixel((2, 2))[0] > 128 else (230, 230, 230))
    return image


def render_frames(frames: np.ndarray, motors: np.ndarray, size: int = 360, fps: int = 25,
                  frames_png: str | Path | None = None, png_every: int | None = None, landmarks: bool = False) -> Iterator[np.ndarray]:
    """Yields the video's frames, RGB [size, 2 * size, 3]: the blendshape face (ARKit `frames` [T, 52] at
    MODEL_FPS) beside the simulated robot face stepped in real time with `motors` [T, M] (controller order).
    With `frames_png`, every `png_every`-th video frame (default: one every 0.5 s) is also written there as
    frame_NNNNN.png (NNNNN = the video frame's index)."""
    from PIL import Image

    from talkface_ros.face.cartoon import draw_face
    from talkface_ros.sim.render import ensure_gl_backend, render_face

    if MODEL_FPS % fps:
        raise ValueError(f"fps must divide {MODEL_FPS}, got {fps}")
    if len(frames) != len(motors):
        raise ValueError(f"{len(frames)} blendshape frames but {len(motors)} motor frames")
    ensure_gl_backend()
    import mujoco

    from talkface_ros.sim.face_sim import FaceSim

    sim = FaceSim()
    every = MODEL_FPS // fps
    png_every = max(1, png_every or fps // 2)
    folder = Path(frames_png) if frames_png else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    index = 0
    with mujoco.Renderer(sim.model, height=size, width=size) as renderer:
        for t in range(len(frames)):
            sim.set_command(motors[t])
            sim.step(1.0 / MODEL_FPS)
            if t % every != every - 1:
                continue
            robot = Image.fromarray(render_face(renderer, sim, "front", landmarks))
            panel = Image.new("RGB", (2 * size, size))
            panel.paste(_label(draw_face(frames[t], size), "blendshapes (model)"), (0, 0))
            panel.paste(_label(robot, "robot face (sim, self-model)"), (size, 0))
            if folder is not None and index % png_every == 0:
                panel.save(folder / f"frame_{index:05d}.png")
            index += 1
            yield np.asarray(panel)


def render_video(wav: str | Path, output: str | Path, emotion: str = "neutral", model: str | None = None,
                 calibration: str | None = None, size: int = 360, fps: int = 25, seed: int = 0,
                 frames_png: str | Path | None = None, landmarks: bool = False) -> Path:
    """Writes the MP4 and returns its path. Raises AudioFileError / ModelFileError / VideoWriterError."""
    from talkface_ros.demo.video import VideoWriter
    from talkface_ros.face.description import load_face_description
    from talkface_ros.model.animate import animate_file
    from talkface_ros.selfmodel.model import SelfModel

    if MODEL_FPS % fps:
        raise ValueError(f"fps must divide {MODEL_FPS}, got {fps}")
    frames = animate_file(str(wav), model=model, emotion=emotion, seed=seed)
    selfmodel = SelfModel.load(calibration)
    selfmodel.check_matches(load_face_description().joint_names)
    motors = selfmodel.retarget(frames)
    output = Path(output)
    log.info("rendering %d frames of %s to %s", len(frames) // (MODEL_FPS // fps), wav, output)
    with VideoWriter(output, 2 * size, size, fps, audio_wav=wav) as video:
        for panel in render_frames(frames, motors, size, fps, frames_png, landmarks=landmarks):
            video.write(panel)
    return output
