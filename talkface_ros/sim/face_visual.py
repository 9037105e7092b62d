"""The face's look (no physics): the skin shells as meshes for the MJCF, and the lips and brows as smooth
curves added to the renderer's scene at render time.

The skin is the cranium ellipsoid cut in two along the mouth:
- the face shell (on the head) ends at the upper lip; beside the mouth corners its edge runs down and
  out to the jaw's angle (the seam an animatronic's jaw plate leaves),
- the jaw shell (on the jaw) is the rest of the lower face, with a chin;
- a cheek flap (on the head) hangs below the seam just inside the jaw shell: hidden at rest, it is the
  cheek's skin once the jaw drops and slides back, so that the seam never opens onto the inside.
Between the two edges, across the mouth, a lens-shaped window is left open. At render time the lips are
drawn over it: each lip is a tube along a spline through its landmarks (`FaceOverlay`), joined back to
the shell's edge by a skin-coloured fan (the philtrum above, the skin over the chin below) that
stretches as the lips move. Behind the window sit a dark cavity, teeth and a tongue, seen only
between parted lips.
"""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from talkface_ros.face.description import FaceDescription

CRANIUM_CENTER = np.array([0.0, 0.0, 0.12])
CRANIUM_RADII = np.array([0.09, 0.075, 0.12])
SKIN_RGBA = (0.93, 0.78, 0.66, 1.0)
LIP_RGBA = (0.74, 0.33, 0.34, 1.0)
BROW_RGBA = (0.30, 0.18, 0.10, 1.0)
CAVITY_RGBA = (0.16, 0.04, 0.05, 1.0)
TEETH_RGBA = (0.95, 0.93, 0.86, 1.0)
TONGUE_RGBA = (0.55, 0.22, 0.24, 1.0)
MESH_SCALE = 1e-4                  # mesh vertices are written in units of 0.1 mm

UPPER_LIP = ("lip_corner_left", "upper_lip_left", "upper_lip_center", "upper_lip_right", "lip_corner_right")
LOWER_LIP = ("lip_corner_left", "lower_lip_left", "lower_lip_center", "lower_lip_right", "lip_corner_right")
BROWS = {"brow_left": ("brow_outer_left", "brow_mid_left", "brow_inner_left"),
         "brow_right": ("brow_inner_right", "brow_mid_right", "brow_outer_right")}


def smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def cranium_x(y, z):
    """The cranium ellipsoid's front surface x at (y, z) (head frame; 0 off the ellipsoid)."""
    c, a = CRANIUM_CENTER, CRANIUM_RADII
    inside = 1.0 - ((np.asarray(y) - c[1]) / a[1]) ** 2 - ((np.asarray(z) - c[2]) / a[2]) ** 2
    return c[0] + a[0] * np.sqrt(np.clip(inside, 0.0, None))


def project_to_cranium(points: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Radially (about the cranium's centre) onto the ellipsoid scaled by `scale`."""
    rel = (np.asarray(points, dtype=float) - CRANIUM_CENTER) / CRANIUM_RADII
    rel = rel / np.linalg.norm(rel, axis=-1, keepdims=True)
    return CRANIUM_CENTER + rel * CRANIUM_RADII * scale


@dataclass(frozen=True)
class MouthShape:
    """Where the skin is cut for the mouth (head frame, at rest)."""
    z_lip: float                 # the lips' meeting line
    corner_y: float              # half the mouth's width
    upper_rise: float = 0.0045   # the face shell's edge above the lip line, mid-mouth
    lower_drop: float = 0.0055   # the jaw shell's edge below it
    seam_slope: float = 1.15     # the seam's fall (m per m of |y|) from the corners outward
    front_x: float = 0.02        # the jaw shell is the cranium's part with x > front_x below the seam
    flap: float = 0.045          # how far the cheek flap reaches down behind the jaw shell beside the mouth
    inset: float = 0.0025        # the hidden flap sits this far inside the jaw shell

    def _u(self, y):
        return np.clip(np.abs(y) / self.corner_y, 0.0, 1.0)

    def seam(self, y):
        """The seam beside the mouth (|y| > corner_y): from the corner down and out."""
        return self.z_lip - self.seam_slope * np.clip(np.abs(y) - self.corner_y, 0.0, None)

    def upper_edge(self, y):
        """The face shell's lower edge: above the lip line across the mouth, the seam beside it."""
        y = np.abs(y)
        return np.where(y < self.corner_y, self.z_lip + self.upper_rise * (1 - self._u(y) ** 2), self.seam(y))

    def lower_edge(self, y):
        """The jaw shell's visible top edge: below the lip line across the mouth, the seam beside it."""
        y = np.abs(y)
        return np.where(y < self.corner_y, self.z_lip - self.lower_drop * (1 - self._u(y) ** 2), self.seam(y))


def mouth_shape(description: FaceDescription) -> MouthShape:
    nodes = {n.name: np.array(n.pos) for n in description.skin_nodes}
    landmarks = {lm.name: lm for lm in description.landmarks}
    z = [nodes[n][2] for n in ("upper_lip_center", "lower_lip_center") if n in nodes]
    corner = landmarks.get("lip_corner_left")
    corner_y = abs(corner.pos[1]) if corner is not None and corner.pos is not None else 0.026
    return MouthShape(z_lip=float(np.mean(z)) if z else 0.065, corner_y=float(corner_y))


def chin_bulge(points: np.ndarray, shape: MouthShape) -> np.ndarray:
    """Outward displacement (m) of the jaw shell at head-frame rest points: the chin and the lower lip's
    roll, zero at the jaw shell's visible edge so that it meets the face shell there."""
    y, z = points[..., 1], points[..., 2]
    below = shape.lower_edge(y) - z
    chin = 0.017 * np.exp(-(y / 0.032) ** 2 - ((z - (shape.z_lip - 0.036)) / 0.02) ** 2)
    return chin * smoothstep(below / 0.016)


# ---- meshes ----------------------------------------------------------------------------------------

def _angles(coarse_step: float, fine_lo: float, fine_hi: float, fine_step: float, lo: float, hi: float) -> np.ndarray:
    coarse = np.arange(lo, hi + 1e-9, coarse_step)
    fine = np.arange(fine_lo, fine_hi + 1e-9, fine_step)
    values = np.unique(np.round(np.concatenate([coarse[(coarse < fine_lo) | (coarse > fine_hi)], fine]), 6))
    return values[(values >= lo) & (values <= hi)]


def _ellipsoid_mesh() -> tuple[np.ndarray, np.ndarray]:
    """The cranium as a latitude/longitude mesh, finer around the mouth and jaw; outward winding."""
    deg = np.pi / 180
    lat = _angles(8 * deg, -84 * deg, -8 * deg, 2.5 * deg, -84 * deg, 84 * deg)
    lon = _angles(10 * deg, -75 * deg, 75 * deg, 2.5 * deg, -180 * deg, 180 * deg - 1e-6)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    unit = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1).reshape(-1, 3)
    verts = [*(CRANIUM_CENTER + unit * CRANIUM_RADII), CRANIUM_CENTER - [0, 0, CRANIUM_RADII[2]],
             CRANIUM_CENTER + [0, 0, CRANIUM_RADII[2]]]
    n_lat, n_lon = len(lat), len(lon)
    south, north = n_lat * n_lon, n_lat * n_lon + 1
    idx = lambda i, j: i * n_lon + j % n_lon  # noqa: E731
    faces = []
    for i in range(n_lat - 1):
        for j in range(n_lon):
            a, b, c, d = idx(i, j), idx(i, j + 1), idx(i + 1, j + 1), idx(i + 1, j)
            faces += [(a, b, c), (a, c, d)]
    for j in range(n_lon):
        faces.append((south, idx(0, j + 1), idx(0, j)))
        faces.append((north, idx(n_lat - 1, j), idx(n_lat - 1, j + 1)))
    return np.array(verts), np.array(faces)


def clip_mesh(verts: np.ndarray, faces: np.ndarray, field: np.ndarray, reproject: bool = True):
    """Keep the part of a mesh where `field` (per vertex) <= 0; edges crossing zero are cut where the
    linearly interpolated field vanishes (the new vertices pushed back onto the cranium). Cut vertices
    are shared between neighbouring triangles, so the result has no cracks. Unused vertices dropped."""
    verts = list(map(np.asarray, verts))
    cut: dict[tuple[int, int], int] = {}

    def crossing(i: int, j: int) -> int:
        key = (min(i, j), max(i, j))
        if key not in cut:
            s = field[i] / (field[i] - field[j])
            p = verts[i] + s * (verts[j] - verts[i])
            verts.append(project_to_cranium(p) if reproject else p)
            cut[key] = len(verts) - 1
        return cut[key]

    out = []
    for tri in faces:
        inside = field[tri] <= 0
        if inside.all():
            out.append(tuple(tri))
            continue
        if not inside.any():
            continue
        polygon = []
        for k in range(3):
            i, j = tri[k], tri[(k + 1) % 3]
            if field[i] <= 0:
                polygon.append(i)
            if (field[i] <= 0) != (field[j] <= 0):
                polygon.append(crossing(i, j))
        out += [(polygon[0], polygon[m], polygon[m + 1]) for m in range(1, len(polygon) - 1)]
    verts_arr = np.array(verts)
    faces_arr = np.array(out, dtype=int)
    used = np.unique(faces_arr)
    remap = -np.ones(len(verts_arr), dtype=int)
    remap[used] = np.arange(len(used))
    return verts_arr[used], remap[faces_arr]


@lru_cache(maxsize=8)
def _shell_meshes(shape: MouthShape) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    verts, faces = _ellipsoid_mesh()
    x, y, z = verts[:, 0], verts[:, 1], verts[:, 2]
    # the face shell: everything but the front below its edge
    face_field = np.minimum(x - shape.front_x, shape.upper_edge(y) - z)
    face = clip_mesh(verts, faces, face_field)
    # the jaw shell: the front below its visible edge, with the chin
    jv, jf = clip_mesh(verts, faces, np.maximum(shape.front_x - x, z - shape.lower_edge(y)))
    normal = (jv - CRANIUM_CENTER) / CRANIUM_RADII ** 2
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    jv = jv + normal * chin_bulge(jv, shape)[:, None]
    # the cheek flap (on the head): beside the mouth, from just above the seam down behind the jaw shell,
    # a little inside it: hidden at rest, the cheek's skin once the jaw shell drops and slides back
    flap_field = np.maximum.reduce([shape.front_x - 0.025 - x, z - (shape.seam(y) + 0.003),
                                    shape.seam(y) - shape.flap - z, shape.corner_y - 0.002 - np.abs(y)])
    fv, ff = clip_mesh(verts, faces, flap_field)
    fv = CRANIUM_CENTER + (fv - CRANIUM_CENTER) * (1.0 - shape.inset / 0.08)
    return {"face_shell": face, "jaw_shell": (jv, jf), "cheek_flap": (fv, ff)}


def shell_meshes(description: FaceDescription) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (vertices [V, 3] in the head frame at rest, triangles [F, 3]) for the face and jaw shells."""
    return _shell_meshes(mouth_shape(description))


def mesh_xml(name: str, verts: np.ndarray, faces: np.ndarray, offset=(0.0, 0.0, 0.0)) -> str:
    """An MJCF <mesh> asset: vertices (minus `offset`, e.g. the body's pivot) in 0.1 mm units."""
    v = np.round((np.asarray(verts) - np.asarray(offset)) / MESH_SCALE).astype(int)
    vertex = " ".join(map(str, v.ravel()))
    face = " ".join(map(str, np.asarray(faces).ravel()))
    return (f'<mesh name="{name}" scale="{MESH_SCALE:g} {MESH_SCALE:g} {MESH_SCALE:g}" inertia="shell" '
            f'vertex="{vertex}" face="{face}"/>')


# ---- render-time curves ----------------------------------------------------------------------------

Capsule = namedtuple("Capsule", "start end radius rgba")


def catmull_rom(points: np.ndarray, samples: int = 10, alpha: float = 0.5) -> np.ndarray:
    """A centripetal Catmull-Rom spline through `points` [N, 3] (N >= 2): [(N - 1) * samples + 1, 3],
    passing through every point (the ends are extended by reflection)."""
    p = np.asarray(points, dtype=float)
    if len(p) < 2:
        raise ValueError("a spline needs at least two points")
    p = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    out = []
    for k in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[k - 1], p[k], p[k + 1], p[k + 2]
        t0 = 0.0
        t1 = t0 + max(np.linalg.norm(p1 - p0), 1e-9) ** alpha
        t2 = t1 + max(np.linalg.norm(p2 - p1), 1e-9) ** alpha
        t3 = t2 + max(np.linalg.norm(p3 - p2), 1e-9) ** alpha
        t = np.linspace(t1, t2, samples + 1)[:, None]
        if k < len(p) - 3:
            t = t[:-1]
        a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
        a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
        a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
        b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
        b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
        out.append((t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2)
    return np.vstack(out)


def chain(points: np.ndarray, radii: np.ndarray, rgba) -> list[Capsule]:
    """Capsules joining consecutive points: capsule i ends where capsule i + 1 starts."""
    radii = np.broadcast_to(np.asarray(radii, dtype=float), (len(points),))
    return [Capsule(points[i], points[i + 1], 0.5 * (radii[i] + radii[i + 1]), rgba) for i in range(len(points) - 1)]
