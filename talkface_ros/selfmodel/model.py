"""The calibrated self-model at run time (numpy only): forward (motors -> landmarks), the amortised
inverse (blendshape frame -> motor commands) and the linear retargeting baseline.

Files: `selfmodel.safetensors` (weights, linear map, neutral landmarks) + `selfmodel.json` (motor and
landmark names, limits, which motors are driven by the head pose, metrics, the face description's hash).
Motor vectors are in controller order of the face description (all motors, the neck included).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from talkface_ros.face.arkit import ARKIT_NAMES, FRAME_SIZE, INDEX
from talkface_ros.face.landmark_basis import Articulation, articulate
from talkface_ros.selfmodel.mlp import NumpyMLP

log = logging.getLogger(__name__)
WEIGHTS_FILE = "selfmodel.safetensors"
CONFIG_FILE = "selfmodel.json"
# head pose (ARKit frame, radians) -> neck motor
NECK_FROM_HEAD_POSE = {"neck_yaw": "headYaw", "neck_pitch": "headPitch", "neck_roll": "headRoll"}


def free_motors(weights: np.ndarray, shape_motors: np.ndarray) -> np.ndarray:
    """[..., 52] weights, [52, F] which face motors each shape moves -> [..., F] bool: the motors a frame
    may move (those of its active shapes)."""
    return (np.asarray(weights) > 0.01).astype(np.float64) @ np.asarray(shape_motors, dtype=np.float64) > 0


def default_calibration_dir() -> Path:
    from talkface_ros.paths import models_dir

    return models_dir() / "selfmodel"


@dataclass
class SelfModel:
    config: dict
    tensors: dict[str, np.ndarray]

    def __post_init__(self) -> None:
        c = self.config
        self.joint_names: list[str] = list(c["joint_names"])
        self.lower = np.array(c["lower"], dtype=np.float64)
        self.upper = np.array(c["upper"], dtype=np.float64)
        self.neutral = np.array(c["neutral"], dtype=np.float64)
        self.face_index = np.array(c["face_motor_index"], dtype=np.int64)
        self.neck = [(self.joint_names.index(m), INDEX[a]) for m, a in c["neck_from_head_pose"].items()]
        self.landmark_names: list[str] = list(c["landmark_names"])
        self.forward_net = NumpyMLP.from_tensors(self.tensors, "forward")
        # [F+1, 3L] mm; calibrations without it have a plain MLP forward model
        affine = self.tensors.get("forward_affine")
        outputs = self.forward_net.weights[-1][1].size
        self.forward_affine = (np.zeros((self.face_index.size + 1, outputs)) if affine is None
                               else affine.astype(np.float64))
        self.residual_inverse = str(c.get("inverse", {}).get("form", "")).startswith("residual_on_linear")
        self.inverse_net = NumpyMLP.from_tensors(self.tensors, "inverse", sigmoid_output=not self.residual_inverse)
        self.linear_map = self.tensors["linear.map"].astype(np.float64)         # [F, 52]
        self.linear_offset = self.tensors["linear.offset"].astype(np.float64)   # [F]
        self.neutral_landmarks = self.tensors["neutral_landmarks"].astype(np.float64)
        # calibrations made since the lips seal ask the inverse for articulate(weights)
        self.articulated = c.get("weights_transform") == "articulate"
        self.articulation = Articulation(**c.get("articulation", {}))
        self._face_lower = self.lower[self.face_index]
        shape_motors = self.tensors.get("shape_motors")      # [52, F]; older calibrations: every motor
        self.shape_motors = None if shape_motors is None else shape_motors > 0.5
        self._face_range = self.upper[self.face_index] - self._face_lower

    # -- files --
    @classmethod
    def load(cls, path: str | Path | None = None) -> "SelfModel":
        """Load from a folder holding selfmodel.safetensors + selfmodel.json (default: the shipped one)."""
        folder = Path(path) if path else default_calibration_dir()
        if folder.is_file():
            folder = folder.parent
        try:
            config = json.loads((folder / CONFIG_FILE).read_text())
            tensors = load_file(str(folder / WEIGHTS_FILE))
        except (OSError, ValueError) as error:
            raise FileNotFoundError(f"cannot load the self-model calibration from {folder}: {error}") from None
        return cls(config, tensors)

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in self.tensors.items()},
                  str(folder / WEIGHTS_FILE))
        (folder / CONFIG_FILE).write_text(json.dumps(self.config, indent=1) + "\n")
        return folder

    def check_matches(self, joint_names: list[str]) -> None:
        if list(joint_names) != self.joint_names:
            raise ValueError("the self-model calibration was made for other motors "
                             f"({self.joint_names}) than the face description's ({list(joint_names)}): "
                             "run `talkface calibrate --sim`")

    # -- maths --
    def to_unit(self, face_motors: np.ndarray) -> np.ndarray:
        return (np.asarray(face_motors) - self._face_lower) / self._face_range

    def from_unit(self, unit: np.ndarray) -> np.ndarray:
        return self._face_lower + np.clip(unit, 0.0, 1.0) * self._face_range

    def forward(self, face_motors: np.ndarray) -> np.ndarray:
        """Face motors [..., F] -> predicted head-frame landmarks [..., L, 3] (metres)."""
        unit = self.to_unit(face_motors)
        displacement_mm = (self.forward_net(unit).astype(np.float64) + unit @ self.forward_affine[:-1]
                           + self.forward_affine[-1])
        return self.neutral_landmarks + displacement_mm.reshape(*unit.shape[:-1], -1, 3) * 1e-3

    def _weights(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames, dtype=np.float64)
        if frames.shape[-1] != FRAME_SIZE:
            raise ValueError(f"expected frames of {FRAME_SIZE} values (FRAME_NAMES order), got {frames.shape[-1]}")
        weights = np.clip(np.nan_to_num(frames[..., : len(ARKIT_NAMES)]), 0.0, 1.0)
        return articulate(weights, self.articulation) if self.articulated else weights

    def _assemble(self, frames: np.ndarray, face_motors: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames, dtype=np.float64)
        out = np.broadcast_to(self.neutral, (*frames.shape[:-1], self.neutral.size)).copy()
        out[..., self.face_index] = face_motors
        for motor, frame_index in self.neck:
            out[..., motor] = np.nan_to_num(frames[..., frame_index])
        return np.clip(out, self.lower, self.upper)

    def retarget(self, frames: np.ndarray) -> np.ndarray:
        """Blendshape frame(s) [..., 55] -> motor commands [..., M] in controller order, within limits
        (the amortised inverse for the face motors, the head pose for the neck)."""
        weights = self._weights(frames)
        unit = self.inverse_net(weights).astype(np.float64)
        if self.residual_inverse:
            unit = unit + self.to_unit(weights @ self.linear_map.T + self.linear_offset)
        return self._assemble(frames, self._only_free(weights, self.from_unit(unit)))

    def free_motors(self, weights: np.ndarray) -> np.ndarray:
        """[..., F] bool: the face motors the (articulated) weights may move."""
        if self.shape_motors is None:
            return np.ones((*np.shape(weights)[:-1], self.face_index.size), dtype=bool)
        return free_motors(weights, self.shape_motors)

    def _only_free(self, weights: np.ndarray, face_motors: np.ndarray) -> np.ndarray:
        return np.where(self.free_motors(weights), face_motors, self.neutral[self.face_index])

    def retarget_linear(self, frames: np.ndarray) -> np.ndarray:
        """The baseline: a least-squares linear map from blendshape weights to motors, clipped."""
        weights = self._weights(frames)
        return self._assemble(frames, weights @ self.linear_map.T + self.linear_offset)
