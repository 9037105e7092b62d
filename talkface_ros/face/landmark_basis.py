"""Blendshape -> landmark basis: what each ARKit blendshape at weight 1 does to the face's landmarks.

Displacements are written once for a reference face (millimetres, head frame: x forward, y to the
subject's left, z up; "Left" shapes are mirrored to "Right") and scaled to the robot by the ratio of its
eye distance to the reference's (62 mm). A frame's target landmarks are neutral + sum_i w_i * basis_i.
Shapes the robot has no actuator for (jawForward, cheekPuff, tongueOut, lip rolls) are kept: the inverse
then does the best it can, and the evaluation counts what it misses.

On the robot, lips touch at rest and the lower lip rides on the jaw, so "lips closed" (mouthClose,
mouthPress, the lip rolls of p/b/m) cannot be a displacement: `articulate` turns it into what the robot
must do, a jaw (and lip raisers/depressors) that close in proportion (see `articulate`).
"""
from __future__ import annotations

from dataclasses import dataclass

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
    # the corners carry smile and frown; the lips' margins follow them and stay together
    "mouthSmile": {"lip_corner_left": (-1.5, 1.5, 6.0), "cheek_left": (-1.0, 0.5, 4.0)},
    "mouthFrown": {"lip_corner_left": (0.0, 0.0, -5.0)},
    "mouthDimple": {"lip_corner_left": (-1.5, 2.0, 0.5)},
    "mouthStretch": {"lip_corner_left": (-0.5, 3.0, -2.5), "lower_lip_left": (0.0, 0.5, -1.5)},
    "mouthPress": {"upper_lip_left": (0.0, 0.0, -1.0), "lower_lip_left": (0.0, 0.0, 1.0)},
    "mouthLowerDown": {"lower_lip_left": (-1.0, 0.5, -6.0), "lower_lip_center": (-0.5, 0.0, -2.5)},
    "mouthUpperUp": {"upper_lip_left": (-1.0, 0.0, 5.0), "upper_lip_center": (-0.5, 0.0, 2.0),
                     "nostril_left": (0.0, 0.0, 1.0)},
    "browDown": {"brow_inner_left": (0.0, -1.0, -4.0), "brow_mid_left": (0.0, 0.0, -3.0),
                 "brow_outer_left": (0.0, 0.0, -2.0)},
    "browOuterUp": {"brow_outer_left": (-1.0, 0.0, 7.0), "brow_mid_left": (0.0, 0.0, 2.0)},
    "cheekSquint": {"cheek_left": (-1.0, 0.5, 4.0), "eyelid_lower_left": (0.0, 0.0, 1.5)},
    "noseSneer": {"nostril_left": (-1.0, 0.0, 4.0), "upper_lip_left": (0.0, 0.0, 0.5),
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


# shapes this face has no actuator for (no jaw protrusion, no cheek inflation, no lip rolling or shrugging,
# no tongue) or that are not displacements on it (mouthClose/mouthPress: lips in contact, see articulate):
# the evaluation also reports frames made only of the other shapes
UNEXPRESSIBLE = ("jawForward", "cheekPuff", "tongueOut", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
                 "mouthShrugUpper", "mouthPressLeft", "mouthPressRight", "mouthClose")

# shapes that, at weight 1, mean the robot's full travel for them (calibration scales their projected
# displacement until the most-used motor reaches its limit): the jaw, rounding, and what shows emotion
FULL_TRAVEL_SHAPES = ("jawOpen", "mouthPucker", "mouthFunnel", "mouthSmileLeft", "mouthSmileRight",
                      "mouthFrownLeft", "mouthFrownRight", "browDownLeft", "browDownRight", "browInnerUp",
                      "browOuterUpLeft", "browOuterUpRight", "noseSneerLeft", "noseSneerRight",
                      "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight")

# what shows emotion: Articulation.expression_gain scales these (not the speech shapes)
EXPRESSION_SHAPES = ("mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight", "browDownLeft",
                     "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "noseSneerLeft",
                     "noseSneerRight", "cheekSquintLeft", "cheekSquintRight", "eyeWideLeft", "eyeWideRight",
                     "eyeSquintLeft", "eyeSquintRight")
_EXPRESSION_INDEX = np.array([ARKIT_NAMES.index(n) for n in EXPRESSION_SHAPES])

# lip closure = sum of these weights times the shapes, + Articulation.press_weight times the presses
SEAL_WEIGHTS = {"mouthClose": 1.0, "mouthRollLower": 1.0, "mouthRollUpper": 1.0}
_PRESS_INDEX = np.array([ARKIT_NAMES.index("mouthPressLeft"), ARKIT_NAMES.index("mouthPressRight")])
LIP_OPENING_SHAPES = ("jawOpen", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight")
# shapes whose robot displacement is zero: on this face they act only through articulate
SEAL_SHAPES = (*SEAL_WEIGHTS, "mouthPressLeft", "mouthPressRight")
_SEAL_INDEX = np.array([ARKIT_NAMES.index(n) for n in SEAL_WEIGHTS])
_SEAL_COEFF = np.array(list(SEAL_WEIGHTS.values()))
_OPENING_INDEX = np.array([ARKIT_NAMES.index(n) for n in LIP_OPENING_SHAPES])
_JAW = ARKIT_NAMES.index("jawOpen")
_LIP_PARTING_INDEX = np.array([ARKIT_NAMES.index(n) for n in LIP_OPENING_SHAPES if n != "jawOpen"])


@dataclass(frozen=True)
class Articulation:
    """How the robot articulates speech (see `articulate`); the defaults are what the shipped calibration
    was evaluated with. A streaming speech model's jaw on real speech spans ~0.1 (p/b/m) to ~0.3 (open
    vowels), a third of the viseme table's range, so the robot's jaw curve starts late and ends early."""
    jaw_closed_below: float = 0.14  # jawOpen up to this keeps the lips in contact (lips meet with the jaw ajar)
    jaw_full_at: float = 0.45       # jawOpen from this on is the full jaw travel (the viseme table's "aa" is 0.6)
    seal_from: float = 0.04         # lip closure (mouthClose + rolls, SEAL_WEIGHTS) below this is noise (open vowels' ~0.03)
    seal_full: float = 0.12         # lip closure that seals the lips
    # mouthPress in the closure: 0 by default, as an emotion's steady press (angry) must not shut the mouth
    press_weight: float = 0.0
    # expressions (EXPRESSION_SHAPES) are exaggerated this much: the model's emotions peak at 0.6-0.75,
    # and an animatronic face must show them at a glance (clipped at 1 = the full travel)
    expression_gain: float = 1.6
    # the lips are asked to touch while the articulated jaw is below this share of its travel (~3 mm)
    contact_jaw: float = 0.1

    def as_dict(self) -> dict[str, float]:
        return {"jaw_closed_below": self.jaw_closed_below, "jaw_full_at": self.jaw_full_at,
                "seal_from": self.seal_from, "seal_full": self.seal_full, "press_weight": self.press_weight,
                "expression_gain": self.expression_gain, "contact_jaw": self.contact_jaw}


def articulate(weights: np.ndarray, articulation: Articulation = Articulation()) -> np.ndarray:
    """ARKit weights [..., 52] -> the weights the robot is asked to show, with lip contact made physical.

    ARKit's mouthClose/mouthPress mean "lips in contact" whatever jawOpen says (a captured /m/ often has
    jawOpen 0.1-0.3 with mouthClose as large), and human lips meet while the jaw is a few mm open. This
    robot's lips touch at rest and the lower lip rides on the jaw, so contact means closing the jaw:
    jawOpen goes through the articulation curve (0 up to `jaw_closed_below`, 1 from `jaw_full_at`), then
    every lip-parting shape is scaled by 1 - clip((closure - seal_from) / (seal_full - seal_from), 0, 1),
    and the lip raisers/depressors fade out as the jaw closes (below `contact_jaw` of its travel).
    Expressions are scaled by `expression_gain` (clipped at 1)."""
    a = articulation
    weights = np.array(weights, dtype=np.float64, copy=True)
    weights[..., _EXPRESSION_INDEX] = np.clip(weights[..., _EXPRESSION_INDEX] * a.expression_gain, 0.0, 1.0)
    weights[..., _JAW] = np.clip((weights[..., _JAW] - a.jaw_closed_below) / (a.jaw_full_at - a.jaw_closed_below), 0.0, 1.0)
    closure = (np.clip(weights[..., _SEAL_INDEX], 0.0, 1.0) @ _SEAL_COEFF
               + a.press_weight * np.clip(weights[..., _PRESS_INDEX], 0.0, 1.0).sum(-1))
    keep = 1.0 - np.clip((closure - a.seal_from) / (a.seal_full - a.seal_from), 0.0, 1.0)
    weights[..., _OPENING_INDEX] *= keep[..., None]
    # lips in contact while the jaw is (nearly) closed: the lip raisers/depressors give way, so a smiling
    # or disgusted robot still seals on p/b/m
    contact = 1.0 - np.clip(weights[..., _JAW] / a.contact_jaw, 0.0, 1.0)
    weights[..., _LIP_PARTING_INDEX] *= (1.0 - contact)[..., None]
    return weights


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
                 robot_basis: np.ndarray | None = None, articulated: bool = False,
                 articulation: Articulation = Articulation()) -> None:
        """`robot_basis` [52, L, 3] (metres) replaces the scaled reference one, e.g. the robot basis that
        calibration fits (each shape projected onto what this robot can reach). `articulated`: weights go
        through `articulate` first (the robot's targets)."""
        self.articulated = articulated
        self.articulation = articulation
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
        if self.articulated:
            weights = articulate(weights, self.articulation)
        return np.einsum("...k,klc->...lc", weights, self.basis)

    def targets(self, frames: np.ndarray) -> np.ndarray:
        return self.neutral + self.displacements(frames)
