"""`talkface generate`: the command line of talkface_ros.sim.generate (URDF, controllers, rviz config and
MuJoCo model from config/face.yaml)."""
from __future__ import annotations

import argparse
from pathlib import Path

from talkface_ros.face.description import load_face_description
from talkface_ros.sim.generate import PLUGINS, generated_files


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--face", default=None, help="face description YAML (default: the package's config/face.yaml)")
    parser.add_argument("--root", default=None, help="write under this folder (default: the package share folder)")
    parser.add_argument("--hardware", choices=sorted(PLUGINS), default="mock", help="ros2_control hardware plugin")
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1 if any)")


def run(args: argparse.Namespace) -> int:
    from talkface_ros.paths import share_dir

    root = Path(args.root) if args.root else share_dir()
    d = load_face_description(args.face)
    files = generated_files(d, args.hardware)
    if args.check:
        stale = [p for p, text in files.items() if not (root / p).is_file() or (root / p).read_text() != text]
        for p in stale:
            print(f"stale: {p}")
        return 1 if stale else 0
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")
    return 0
