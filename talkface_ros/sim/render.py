"""Offscreen rendering of the simulated face to PNG, on the CPU (OSMesa) or EGL.

MUJOCO_GL must be chosen before mujoco is imported; `ensure_gl_backend()` picks osmesa unless the user
set it already."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def ensure_gl_backend() -> str:
    os.environ.setdefault("MUJOCO_GL", "osmesa")
    if os.environ["MUJOCO_GL"] == "osmesa":
        os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    return os.environ["MUJOCO_GL"]


def render_png(sim, path: str | Path, camera: str = "front", size: int = 480) -> Path:
    """Render the sim's current state from a named camera to a PNG file."""
    ensure_gl_backend()
    import mujoco
    from PIL import Image

    with mujoco.Renderer(sim.model, height=size, width=size) as renderer:
        renderer.update_scene(sim.data, camera=camera)
        pixels = renderer.render()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels)).save(path)
    return path
