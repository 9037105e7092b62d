"""The pictures of docs/face.md: the simulated robot at m, ah and oo of the bundled clip, and at each of the
7 emotions, as a user of `make run` sees it (model -> self-model + safety at 100 Hz -> MuJoCo in real time).

    python tools/robot_doc_frames.py [-o docs]   # writes robot_visemes.png and robot_emotions.png
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

# (label, seconds into talkface_ros/assets/demo_speech.wav): the middle of each phone (demo_speech.json)
VISEME_TIMES = (("m of 'My' 2.39 s", 2.39), ("ah of 'ah' 6.21 s", 6.21), ("u of 'mucho' 8.35 s", 8.35))
EMOTION_TIME_S = 0.6          # between "Hello!" and "I am": the face at rest with the emotion on it


def robot_frame_at(robot, frames: np.ndarray, seconds: float, size: int) -> np.ndarray:
    from talkface_ros.sim.render import ensure_gl_backend, render_face

    ensure_gl_backend()
    import mujoco

    index = min(len(frames) - 1, int(round(seconds / 0.02)))
    robot.run(frames[: index + 1])          # the sim now holds the face at the end of that frame
    with mujoco.Renderer(robot.sim.model, height=size, width=size) as renderer:
        return render_face(renderer, robot.sim, camera="front")


def grid(images: list[np.ndarray], labels: list[str], columns: int):
    from PIL import Image, ImageDraw

    size = images[0].shape[0]
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (columns * size, rows * (size + 18)), "white")
    draw = ImageDraw.Draw(sheet)
    for k, (image, label) in enumerate(zip(images, labels)):
        x, y = (k % columns) * size, (k // columns) * (size + 18)
        sheet.paste(Image.fromarray(image), (x, y + 18))
        draw.text((x + 6, y + 3), label, fill="black")
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="docs")
    parser.add_argument("--size", type=int, default=260)
    parser.add_argument("--calibration", default=None, help="self-model folder (default: the shipped one)")
    args = parser.parse_args()
    from talkface_ros.audio.wav import load_audio
    from talkface_ros.eval.robot import RobotFace
    from talkface_ros.face.emotion import EMOTIONS
    from talkface_ros.model.streamer import FaceStreamer
    from talkface_ros.paths import assets_dir

    audio = load_audio(assets_dir() / "demo_speech.wav")
    streamer = FaceStreamer.from_pretrained(threads=1)
    from talkface_ros.selfmodel.model import SelfModel

    robot = RobotFace(model=SelfModel.load(args.calibration))

    def animate(emotion: str) -> np.ndarray:
        streamer.reset()
        streamer.set_emotion(emotion, 1.0)
        return np.array([f.values for f in streamer.push(audio)], np.float64)

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    frames = animate("neutral")
    images = [robot_frame_at(robot, frames, t, args.size) for _, t in VISEME_TIMES]
    grid(images, [label for label, _ in VISEME_TIMES], 3).save(out / "robot_visemes.png", optimize=True)
    images = [robot_frame_at(robot, animate(e), EMOTION_TIME_S, args.size) for e in EMOTIONS]
    grid(images, [f"{e} (1.0)" for e in EMOTIONS], 4).save(out / "robot_emotions.png", optimize=True)
    print(out / "robot_visemes.png", out / "robot_emotions.png")


if __name__ == "__main__":
    main()
