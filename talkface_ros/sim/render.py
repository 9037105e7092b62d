"""Offscreen rendering of the simulated face, on the CPU (OSMesa) or EGL.

Every renderer (`render_png`, `talkface face-png`, the `talkface render` video) draws a frame with
`render_face`: MuJoCo's scene of the model, plus the lips and brows as smooth tubes (`FaceOverlay`):
each lip is a spline through its landmarks, drawn as many short capsules, with a skin fan joining it
to the face or jaw shell's edge. Landmark sites (MJCF site group 4) are hidden unless `landmarks=True`.

MUJOCO_GL must be chosen before mujoco is imported; `ensure_gl_backend()` picks osmesa unless the user
set it already."""
from __future__ import annotations

import logging
import os
import weakref
from pathlib import Path

import numpy as np

from talkface_ros.sim.face_visual import (BROW_RGBA, BROWS, LIP_RGBA, LOWER_LIP, SKIN_RGBA, UPPER_LIP, Capsule,
                                          catmull_rom, chain, cranium_x, mouth_shape, project_to_cranium)

log = logging.getLogger(__name__)
LANDMARK_SITE_GROUP = 4
LIP_RADIUS = 0.0034        # the lips' tube radius mid-mouth (thinner towards the corners)
BROW_RADIUS = 0.0032
LIP_SAMPLES = 12           # spline samples per landmark segment
FAN_INSET = 0.97           # fans end this far inside the shell (a scale about the cranium's centre)


def ensure_gl_backend() -> str:
    os.environ.setdefault("MUJOCO_GL", "osmesa")
    if os.environ["MUJOCO_GL"] == "osmesa":
        os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    return os.environ["MUJOCO_GL"]


def _densify(values: np.ndarray) -> np.ndarray:
    """Insert the midpoint between consecutive entries: [N, ...] -> [2N - 1, ...]."""
    values = np.asarray(values, dtype=float)
    out = np.empty((2 * len(values) - 1, *values.shape[1:]))
    out[0::2], out[1::2] = values, 0.5 * (values[1:] + values[:-1])
    return out


def _lip_profile(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per spline sample: the tube radius and how far (in radii) it sits off the inner margin."""
    t = np.linspace(0.0, 1.0, n)
    bulge = np.sin(np.pi * t)
    return LIP_RADIUS * (0.5 + 0.5 * bulge), np.sqrt(bulge) * 0.95


class FaceOverlay:
    """The lips and brows of one FaceSim, as capsules in world coordinates for its current state."""

    def __init__(self, sim) -> None:
        import mujoco

        d = sim.description
        self.model = sim.model
        site = lambda name: mujoco.mj_name2id(sim.model, mujoco.mjtObj.mjOBJ_SITE, f"lm_{name}")  # noqa: E731
        body = lambda name: mujoco.mj_name2id(sim.model, mujoco.mjtObj.mjOBJ_BODY, name)  # noqa: E731
        names = set(d.landmark_names)
        self.lips = all(n in names for n in UPPER_LIP + LOWER_LIP)
        self.brows = {k: [site(n) for n in v] for k, v in BROWS.items() if all(n in names for n in v)}
        self.head = body("head")
        if not self.lips:
            return
        self.upper_sites = [site(n) for n in UPPER_LIP]
        self.lower_sites = [site(n) for n in LOWER_LIP]
        nodes = {n.name: n for n in d.skin_nodes}
        self.lower_body = body(nodes["lower_lip_center"].body) if "lower_lip_center" in nodes else self.head
        jaw = nodes["lower_lip_center"].body if "lower_lip_center" in nodes else "head"
        self.jaw = body(jaw)
        pivot = np.array(next((b.pivot for b in d.bodies if b.name == jaw), (0.0, 0.0, 0.0)))
        rest = {lm.name: np.array(nodes[lm.node].pos if lm.node else lm.pos) for lm in d.landmarks}
        shape = mouth_shape(d)
        upper_rest = catmull_rom(np.array([rest[n] for n in UPPER_LIP]), LIP_SAMPLES)
        lower_rest = catmull_rom(np.array([rest[n] for n in LOWER_LIP]), LIP_SAMPLES)
        y = upper_rest[:, 1]
        z = shape.upper_edge(y)
        self.upper_attach = project_to_cranium(np.stack([cranium_x(y, z), y, z], 1), FAN_INSET)  # head frame
        y = lower_rest[:, 1]
        z = shape.lower_edge(y)
        self.lower_attach = project_to_cranium(np.stack([cranium_x(y, z), y, z], 1), FAN_INSET) - pivot  # jaw frame

    def _world(self, data, body: int, local: np.ndarray) -> np.ndarray:
        return data.xpos[body] + local @ data.xmat[body].reshape(3, 3).T

    def lip_curves(self, data) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """'lip_upper' / 'lip_lower' -> (tube centre points [N, 3], radii [N]), world frame: the spline
        through the lip's landmarks (its inner margin), moved off the margin by about a tube radius
        (up for the upper lip, down for the lower one, none at the corners)."""
        if not self.lips:
            return {}
        out = {}
        for name, sites, body, sign in (("lip_upper", self.upper_sites, self.head, 1.0),
                                         ("lip_lower", self.lower_sites, self.lower_body, -1.0)):
            margin = catmull_rom(data.site_xpos[sites], LIP_SAMPLES)
            radius, offset = _lip_profile(len(margin))
            up = data.xmat[body].reshape(3, 3)[:, 2]
            out[name] = (margin + sign * (radius * offset)[:, None] * up, radius)
        return out

    def capsules(self, data) -> dict[str, list[Capsule]]:
        """Stroke name -> capsules. 'lip_upper', 'lip_lower', 'brow_left', 'brow_right' are chains (each
        capsule starts where the one before ends); 'fan_upper' and 'fan_lower' join each lip sample to
        the shell's edge."""
        out: dict[str, list[Capsule]] = {}
        curves = self.lip_curves(data)
        if curves:
            upper, upper_r = curves["lip_upper"]
            lower, lower_r = curves["lip_lower"]
            attach_up = self._world(data, self.head, self.upper_attach)
            attach_low = self._world(data, self.jaw, self.lower_attach)
            # fans twice as dense as the lips, so that the skin they draw looks smooth rather than ribbed
            out["fan_upper"] = [Capsule(p, q, max(0.75 * r, 0.0018), SKIN_RGBA)
                                for p, q, r in zip(*map(_densify, (upper, attach_up, upper_r)))]
            out["fan_lower"] = [Capsule(p, q, max(0.75 * r, 0.0018), SKIN_RGBA)
                                for p, q, r in zip(*map(_densify, (lower, attach_low, lower_r)))]
            out["lip_upper"] = chain(upper, upper_r, LIP_RGBA)
            out["lip_lower"] = chain(lower, lower_r, LIP_RGBA)
        for name, sites in self.brows.items():
            points = catmull_rom(data.site_xpos[sites], LIP_SAMPLES)
            t = np.linspace(0.0, 1.0, len(points))
            out[name] = chain(points, BROW_RADIUS * (0.65 + 0.35 * np.sin(np.pi * t)), BROW_RGBA)
        return out

    def add_to_scene(self, scene, data) -> int:
        """Append the capsules to a mjvScene (after update_scene); returns how many were added."""
        import mujoco

        added = 0
        identity = np.eye(3).ravel()
        for strokes in self.capsules(data).values():
            for c in strokes:
                if scene.ngeom >= scene.maxgeom:
                    log.warning("scene full (%d geoms): face overlay truncated", scene.maxgeom)
                    return added
                geom = scene.geoms[scene.ngeom]
                mujoco.mjv_initGeom(geom, mujoco.mjtGeom.mjGEOM_CAPSULE, np.zeros(3), np.zeros(3), identity,
                                    np.asarray(c.rgba, dtype=np.float32))
                mujoco.mjv_connector(geom, mujoco.mjtGeom.mjGEOM_CAPSULE, float(c.radius),
                                     np.asarray(c.start, dtype=float), np.asarray(c.end, dtype=float))
                geom.category = mujoco.mjtCatBit.mjCAT_DECOR
                scene.ngeom += 1
                added += 1
        return added


_overlays: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def face_overlay(sim) -> FaceOverlay:
    """The sim's FaceOverlay (built once per sim)."""
    overlay = _overlays.get(sim)
    if overlay is None or overlay.model is not sim.model:
        overlay = _overlays[sim] = FaceOverlay(sim)
    return overlay


def render_face(renderer, sim, camera: str = "front", landmarks: bool = False) -> np.ndarray:
    """One RGB frame [H, W, 3] of the sim's current state: the model, the lips and brows as smooth
    tubes, and (opt-in) the landmark sites."""
    import mujoco

    option = mujoco.MjvOption()
    option.sitegroup[LANDMARK_SITE_GROUP] = 1 if landmarks else 0
    renderer.update_scene(sim.data, camera=camera, scene_option=option)
    face_overlay(sim).add_to_scene(renderer.scene, sim.data)
    return np.asarray(renderer.render())


def render_png(sim, path: str | Path, camera: str = "front", size: int = 480, landmarks: bool = False) -> Path:
    """Render the sim's current state from a named camera to a PNG file."""
    ensure_gl_backend()
    import mujoco
    from PIL import Image

    with mujoco.Renderer(sim.model, height=size, width=size) as renderer:
        pixels = render_face(renderer, sim, camera, landmarks)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path
