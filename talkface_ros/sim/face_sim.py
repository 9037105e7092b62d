"""The simulated face: motor commands (controller order, joint units) in, joint and landmark positions out."""
from __future__ import annotations

import logging

import mujoco
import numpy as np

from talkface_ros.face.description import FaceDescription, load_face_description
from talkface_ros.sim.mjcf import build_mjcf, rigid_joint_names, tendon_rest_lengths

log = logging.getLogger(__name__)


class FaceSim:
    """A MuJoCo face built from the description. Landmarks are reported in the head frame (metres), so
    neck motion does not move them; `landmarks_world()` gives them in the world frame."""

    def __init__(self, description: FaceDescription | None = None) -> None:
        self.description = description or load_face_description()
        d = self.description
        self.model = mujoco.MjModel.from_xml_string(build_mjcf(d))
        self.data = mujoco.MjData(self.model)
        self.dt = float(self.model.opt.timestep)
        self.lower, self.upper = d.lower_limits(), d.upper_limits()
        rest = tendon_rest_lengths(d)
        joint_names = rigid_joint_names(d)
        # per motor: the actuator ids it drives and how a command maps onto their ctrl
        self._actuators: list[list[int]] = []
        self._ctrl_offset = np.zeros(len(d.motors))
        self._ctrl_sign = np.ones(len(d.motors))
        self._rigid_qpos: list[int | None] = []
        self._tendon_id: list[int | None] = []
        self._rest = np.zeros(len(d.motors))
        for i, m in enumerate(d.motors):
            if m.kind == "rigid":
                names = [f"act_{j}" for j in joint_names[m.name]]
                joint_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, joint_names[m.name][0])
                self._rigid_qpos.append(int(self.model.jnt_qposadr[joint_id]))
                self._tendon_id.append(None)
            else:
                names = [f"act_{m.name}"]
                self._ctrl_offset[i] = rest[m.name] + m.tendon.slack
                self._ctrl_sign[i] = -1.0
                self._rest[i] = rest[m.name]
                self._rigid_qpos.append(None)
                self._tendon_id.append(mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_TENDON, m.name))
            self._actuators.append([mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_ACTUATOR, n) for n in names])
        self._landmark_sites = np.array([mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_SITE, f"lm_{n}")
                                         for n in d.landmark_names])
        self._head = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, "head")
        self.command = d.neutral_positions()
        self.reset()

    def reset(self) -> None:
        mujoco.mj_resetData(self.model, self.data)
        self.set_command(self.description.neutral_positions())
        mujoco.mj_forward(self.model, self.data)

    def set_command(self, command: np.ndarray) -> None:
        """Motor targets in controller order; clipped to the limits (the sim never sees more)."""
        command = np.asarray(command, dtype=np.float64)
        if command.shape != self.lower.shape or not np.all(np.isfinite(command)):
            raise ValueError(f"expected {self.lower.size} finite motor commands, got shape {command.shape}")
        self.command = np.clip(command, self.lower, self.upper)
        ctrl = self._ctrl_offset + self._ctrl_sign * self.command
        for i, ids in enumerate(self._actuators):
            self.data.ctrl[ids] = ctrl[i]

    def step(self, seconds: float) -> None:
        mujoco.mj_step(self.model, self.data, nstep=max(1, int(round(seconds / self.dt))))

    def settle(self, command: np.ndarray, seconds: float = 0.3) -> np.ndarray:
        """Hold `command` until the face is (nearly) static; returns head-frame landmarks [L, 3]."""
        self.set_command(command)
        self.step(seconds)
        return self.landmarks()

    def landmarks_world(self) -> np.ndarray:
        return self.data.site_xpos[self._landmark_sites].copy()

    def landmarks(self) -> np.ndarray:
        """Landmarks in the head frame [L, 3] (metres)."""
        rotation = self.data.xmat[self._head].reshape(3, 3)
        return (self.landmarks_world() - self.data.xpos[self._head]) @ rotation

    def joint_positions(self) -> np.ndarray:
        """Measured motor positions in controller order: hinge angles, and for tendons the reel position
        (metres of string taken in; the reel is a position servo, whether or not the string is taut)."""
        out = self.command.copy()
        for i, address in enumerate(self._rigid_qpos):
            if address is not None:
                out[i] = self.data.qpos[address]
        return np.clip(out, self.lower, self.upper)
