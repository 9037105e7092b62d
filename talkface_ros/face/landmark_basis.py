"""Blendshape -> landmark basis: what each ARKit blendshape at weight 1 does to the face's landmarks.

Displacements are written once for a reference face (millimetres, head frame: x forward, y to the
subject's left, z up; "Left" shapes are mirrored to "Right") and scaled to the robot by the ratio of its
eye distance to the reference's (62 mm). A frame's target landmarks are neutral + sum_i w_i * basis_i.
Shapes the robot has no actuator for (browDown, jawForward, cheekPuff, tongueOut) are kept: the inverse
then does the best it can, and the evaluation counts what it misses.
"""
from __future__ import annotations

import numpy as np

from talkface_ros.face.arkit import ARKIT_NAMES, FRAME_SIZE
from talkface_ros.face.description import FaceDescription

REFERENCE_EYE_DISTANCE_M = 0.062

# shape -> {landmark: (dx, dy, dz) mm}; for *Left shapes, landmarks named *_left (y mirrored for Right)
_LEFT_SHAPES: dict[str, dict[str, tuple[float, float, float]]] = {
    "eyeBlink": {"eyelid_upper_left": (1.0, 0.0, -11.0), "eyelid_lower_left": (0.0, 0.0, 1.0)},
    "eyeLookDown": {"pupil_left": (-0.5, 0.0, -3.5), "eyelid_upper_left": (0.0, 0.0, -1.5)},
    "eyeLookIn": {"pupil_left": (0.0, -4.0, 0.0)},
    "eyeLookOut": {"pupil_left": (0.0, 4.0, 0.0)},
    "eyeLookUp": {"pupil_left": (-0.5, 0.0, 3.5), "eyelid_upper_left": (0.0, 0.0, 1.0)},
    "eyeSquint": {"eyelid_lower_left": (0.5, 0.0, 3.0), "cheek_left": (0.0, 0.0, 1.0)},
    "eyeWide": {"eyelid_upper_left": (0.0, 0.0, 2.5)},
    "mouthSmile": {"lip_corner_left": (-1.5, 1.5, 6.0), "cheek_left": (-1.0, 0.5, 4.0),
                   "upper_lip_left": (0.0, 0.5, 1.5), "lower_lip_left": (0.0, 0.5, 1.0)},
    "mouthFrown": {"lip_corner_left": (0.0, 0.0, -5.0), "lower_lip_left": (0.0, 0.0, -1.0)},
    "mouthDimple": {"lip_corner_left": (-1.5, 2.0, 0.5)},
    "mouthStretch": {"lip_corner_left": (0.0, 1.0, -3.0), "lower_lip_left": (0.0, 0.5, -3.0)},
    "mouthPress": {"upper_lip_left": (0.0, 0.0, -1.0), "lower_lip_left": (0.0, 0.0, 1.0)},
    "mouthLowerDown": {"lower_lip_left": (-1.0, 0.5, -6.0), "lower_lip_center": (-0.5, 0.0, -2.5)},
    "mouthUpperUp": {"upper_lip_left": (-1.0, 0.0, 5.0), "upper_lip_center": (-0.5, 0.0, 2.0),
                     "nostril_left": (0.0, 0.0, 1.0)},
    "browDown": {"brow_inner_left": (0.0, -1.0, -4.0), "brow_mid_left": (0.0, 0.0, -3.0),
                 "brow_outer_left": (0.0, 0.0, -2.0)},
    "browOuterUp": {"brow_outer_left": (-1.0, 0.0, 7.0), "brow_mid_left": (0.0, 0.0, 2.0)},
    "cheekSquint": {"cheek_left": (-1.0, 0.5, 4.0), "eyelid_lower_left": (0.0, 0.0, 1.5)},
    "noseSneer": {"nostril_left": (-1.0, 0.0, 4.0), "upper_lip_left": (0.0, 0.0, 1.5),
                  "brow_inner_left": (0.0, 0.0, -1.0)},
}
_LOWER_LIP = ("lower_lip_left", "lower_lip_center", "lower_lip_right")
_UPPER_LIP = ("upper_lip_left", "upper_lip_center", "upper_lip_right")
_CORNERS = ("lip_corner_left", "lip_corner_right")
_CENTRAL_SHAPES: dict[str, dict[str, tuple[float, float, float]]] = {
    "jawForward": {"chin": (3.0, 0.0, 0.0), **{n: (3.0, 0.0, 0.0) for n in _LOWER_LIP}},
    "jawLeft": {"chin": (0.0, 6.0, 0.0), **{n: (0.0, 5.0, 0.0) for n in _LOWER_LIP}},
    "jawOpen": {"chin": (-6.0, 0.0, -20.0), **{n: (-4.0, 0.0, -17.0) for n in _LOWER_LIP},
                **{n: (-1.0, 0.0, -3.0) for n in _CORNERS}},
    "mouthClose": {**{n: (0.0, 0.0, 3.0) for n in _LOWER_LIP}, **{n: (0.0, 0.0, -1.0) for n in _UPPER_LIP}},
    "mouthFunnel": {**{n: (3.0, 0.0, 1.5) for n in _UPPER_LIP}, **{n: (3.0, 0.0, -1.5) for n in _LOWER_LIP},
                    "lip_corner_left": (1.0, -3.0, 0.0), "lip_corner_right": (1.0, 3.0, 0.0)},
    "mouthPucker": {**{n: (4.0, 0.0, 0.0) for n in _UPPER_LIP + _LOWER_LIP},
                    "lip_corner_left": (1.0, -5.0, 0.0), "lip_corner_right": (1.0, 5.0, 0.0)},
    "mouthLeft": {n: (0.0, 5.0, 0.0) for n in _UPPER_LIP + _LOWER_LIP + _CORNERS},
    "mouthRollLower": {n: (-2.0, 0.0, 2.0) for n in _LOWER_LIP},
    "mouthRollUpper": {n: (-2.0, 0.0, -2.0) for n in _UPPER_LIP},
    "mouthShrugLower": {"chin": (0.0, 0.0, 2.0), **{n: (1.0, 0.0, 3.0) for n in _LOWER_LIP}},
    "mouthShrugUpper": {n: (1.0, 0.0, 2.0) for n in _UPPER_LIP},
    "browInnerUp": {"brow_inner_left": (-1.0, 0.0, 7.0), "brow_inner_right": (-1.0, 0.0, 7.0),
                    "brow_mid_left": (0.0, 0.0, 2.5), "brow_mid_right": (0.0, 0.0, 2.5)},
    "cheekPuff": {"cheek_left": (5.0, 3.0, 0.0), "cheek_right": (5.0, -3.0, 0.0)},
    "tongueOut": {},
}


# shapes this face has no actuator for (no brow depressor, no jaw protrusion, no cheek inflation, no lip
# protrusion/rolling, no tongue): the evaluation also reports frames made only of the other shapes
UNEXPRESSIBLE = ("browDownLeft", "browDownRight", "jawForward", "cheekPuff", "tongueOut", "mouthRollLower",
                 "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft", "mouthPressRight",
                 "mouthClose", "mouthFunnel", "mouthPucker")


def _mirror(name: str) -> str:
    return name.replace("_left", "_tmp").replace("_right", "_left").replace("_tmp", "_right")


def reference_displacements_mm() -> dict[str, dict[str, tuple[float, float, float]]]:
    """ARKit name -> {landmark: (dx, dy, dz) mm} on the reference face, both sides expanded."""
    table: dict[str, dict[str, tuple[float, float, float]]] = {}
    for stem, moves in _LEFT_SHAPES.items():
        table[f"{stem}Left"] = dict(moves)
        table[f"{stem}Right"] = {_mirror(k): (dx, -dy, dz) for k, (dx, dy, dz) in moves.items()}
    for name, moves in _CENTRAL_SHAPES.items():
        table[name] = dict(moves)
    table["jawRight"] = {_mirror(k): (dx, -dy, dz) for k, (dx, dy, dz) in table["jawLeft"].items()}
    table["mouthRight"] = {_mirror(k): (dx, -dy, dz) for k, (dx, dy, dz) in table["mouthLeft"].items()}
    missing = set(ARKIT_NAMES) - set(table)
    assert not missing, f"landmark basis lacks {sorted(missing)}"
    return table


def eye_distance(description: FaceDescription) -> float:
    pupils = {lm.name: np.array(lm.pos) for lm in description.landmarks if lm.name.startswith("pupil_")}
    if len(pupils) == 2:
        return float(np.linalg.norm(pupils["pupil_left"] - pupils["pupil_right"]))
    return REFERENCE_EYE_DISTANCE_M


class LandmarkBasis:
    """targets(frame[55]) -> landmark targets [L, 3] (metres, head frame) for this robot face."""

    def __init__(self, description: FaceDescription, neutral_landmarks: np.ndarray,
                 robot_basis: np.ndarray | None = None) -> None:
        """`robot_basis` [52, L, 3] (metres) replaces the scaled reference one, e.g. the robot basis that
        calibration fits (each shape projected onto what this robot can reach)."""
        names = description.landmark_names
        index = {n: i for i, n in enumerate(names)}
        self.scale = eye_distance(description) / REFERENCE_EYE_DISTANCE_M
        table = reference_displacements_mm()
        basis = np.zeros((len(ARKIT_NAMES), len(names), 3))
        for k, shape in enumerate(ARKIT_NAMES):
            for landmark, move in table[shape].items():
                if landmark in index:
                    basis[k, index[landmark]] = np.array(move) * 1e-3 * self.scale
        self.reference_basis = basis                              # [52, L, 3] metres
        if robot_basis is not None:
            robot_basis = np.asarray(robot_basis, dtype=np.float64)
            if robot_basis.shape != basis.shape:
                raise ValueError(f"robot basis must have shape {basis.shape}, got {robot_basis.shape}")
        self.basis = basis if robot_basis is None else robot_basis
        self.neutral = np.asarray(neutral_landmarks, dtype=np.float64).reshape(len(names), 3)

    def displacements(self, frames: np.ndarray) -> np.ndarray:
        """frames [..., 55] (or [..., 52]) -> displacement from neutral [..., L, 3] in metres."""
        frames = np.asarray(frames, dtype=np.float64)
        if frames.shape[-1] not in (FRAME_SIZE, len(ARKIT_NAMES)):
            raise ValueError(f"expected frames of {FRAME_SIZE} (or 52) values, got {frames.shape[-1]}")
        weights = np.clip(np.nan_to_num(frames[..., : len(ARKIT_NAMES)]), 0.0, 1.0)
        return np.einsum("...k,klc->...lc", weights, self.basis)

    def targets(self, frames: np.ndarray) -> np.ndarray:
        return self.neutral + self.displacements(frames)
