"""`talkface render`: the command line of talkface_ros.demo.render."""
from __future__ import annotations

import argparse

from talkface_ros.demo.render import render_video


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("wav", help="speech (any format/rate libsndfile reads)")
    parser.add_argument("-o", "--output", required=True, help="output MP4")
    parser.add_argument("--emotion", default="neutral", help="label[:intensity]")
    parser.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    parser.add_argument("--calibration", default=None, help="self-model folder (default: the shipped one)")
    parser.add_argument("--size", type=int, default=360, help="height of the video (width is twice this)")
    parser.add_argument("--fps", type=int, default=25, choices=(10, 25, 50))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--frames-png", default="",
                        help="also save one video frame (both faces, as composed) every 0.5 s as PNG in this folder")
    parser.add_argument("--landmarks", action="store_true", help="draw the robot face's landmark sites")


def run(args: argparse.Namespace) -> int:
    from talkface_ros.audio.wav import AudioFileError
    from talkface_ros.demo.video import VideoWriterError

    try:
        path = render_video(args.wav, args.output, args.emotion, args.model, args.calibration, args.size, args.fps,
                            args.seed, frames_png=args.frames_png or None, landmarks=args.landmarks)
    except (AudioFileError, VideoWriterError, ValueError, FileNotFoundError) as error:
        print(f"error: {error}")
        return 1
    print(f"wrote {path}")
    if args.frames_png:
        print(f"wrote PNG frames to {args.frames_png}")
    return 0
