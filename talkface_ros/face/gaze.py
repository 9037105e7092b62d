"""Gaze without ROS: a 3-D look-at target -> eye and neck motor targets, with vergence, eye-head
coordination, saccades, micro-saccades and blinks, blended over the speech model's own motor targets.

Frames. The target is given in the *base* frame: the head frame of the face description (REP-103, x
forward, y left, z up, origin at the neck pivot) with the neck at neutral; the URDF's `base_link`, which
does not move with the neck. Eye centres are the pivots of the bodies that carry the `eye` landmarks
(pupils); the eye gimbal is yaw (about z) outside pitch (about y), as in the description and the URDF.

Each control tick (`GazeController.apply`):
- the neck follows its goal with a first-order lag (`neck_tau_s`, at most 90 % of the neck motors' speed):
  the goal is the part of the gaze shift beyond what the eyes cover comfortably (`eye_range_share` of their
  range), so small shifts are made by the eyes alone and large ones end with the head turned (eyes lead,
  the head follows);
- each eye is pointed at the target from its own centre, given the neck angles actually commanded (so the
  eyes counter-rotate while the head turns and gaze holds; a speech head nod is compensated the same way):
  vergence comes from the geometry. A motor that moves both eyes (the shipped face's linked `eye_yaw`)
  gets the mean of its eyes' angles, so vergence is only shown on faces with one motor per eye;
- a jump of the target larger than `saccade_threshold_rad` is a saccade, at the eye motors' full speed,
  commanded ahead of a first-order model of the eye servos (`eye_servo_tau_s`, `eye_lead_gain`) so the
  pupils land sooner; on a still target, micro-saccades (seeded, random intervals) add small eye offsets
  (none while a moving target is pursued); blinks
  come at random intervals and, with `saccade_blink_probability`, on large saccades;
- a target older than `timeout_s` releases gaze: the weight eases back to 0 over `release_s` and the
  speech model's own eyes and neck return.
Everything returned is finite and within the motors' limits.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

YAW, PITCH = "yaw", "pitch"


@dataclass(frozen=True)
class GazeConfig:
    timeout_s: float = 2.0                # no new target for this long: ease back to the speech model's gaze
    engage_s: float = 0.03                # weight 0 -> 1 when a target arrives
    release_s: float = 0.6                # weight 1 -> 0 after the timeout
    eye_range_share: float = 0.5         # share of the eyes' range used before the neck takes over
    neck_tau_s: float = 0.25              # neck time constant (the eyes are as fast as their motors)
    keep_head_motion: bool = True         # add the speech model's head motion to the gaze neck (eyes compensate)
    min_distance_m: float = 0.15          # nearer targets are pushed out to this distance from the eyes
    saccade_threshold_rad: float = 0.05   # a target jump larger than this (seen from the eyes) is a saccade
    microsaccade_amplitude_rad: float = 0.012  # 0 = none
    microsaccade_interval_s: tuple[float, float] = (0.8, 2.5)
    pursuit_speed_rad_s: float = 0.05     # a target moving faster than this is pursued: no micro-saccades
    blink_interval_s: tuple[float, float] = (2.5, 6.0)  # (0, 0) = no periodic blinks
    blink_close_s: float = 0.06
    blink_hold_s: float = 0.04
    blink_open_s: float = 0.12
    # servo lag compensation: the eye motors are modelled as first-order lags (`eye_servo_tau_s`; the sim's
    # eye servos: ~22 ms) and commanded ahead of the model by `eye_lead_gain` of what is left, within the
    # motors' speed, so the pupils land sooner without overshoot (tau 0 = no lead: a plain step)
    eye_servo_tau_s: float = 0.022
    eye_lead_gain: float = 1.0
    saccade_blink_rad: float = 0.35       # saccades larger than this may blink
    saccade_blink_probability: float = 0.6
    seed: int = 0

    def __post_init__(self) -> None:
        positive = ("engage_s", "release_s", "neck_tau_s", "min_distance_m", "blink_close_s", "blink_open_s")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"GazeConfig.{name} must be > 0")
        if not 0.0 < self.eye_range_share <= 1.0:
            raise ValueError("GazeConfig.eye_range_share must be in (0, 1]")
        if self.timeout_s <= 0 or self.blink_hold_s < 0 or self.microsaccade_amplitude_rad < 0:
            raise ValueError("GazeConfig: timeout_s > 0, blink_hold_s >= 0, microsaccade_amplitude_rad >= 0")
        if self.eye_servo_tau_s < 0 or self.eye_lead_gain < 0:
            raise ValueError("GazeConfig: eye_servo_tau_s and eye_lead_gain must be >= 0")
        if not 0.0 <= self.saccade_blink_probability <= 1.0:
            raise ValueError("GazeConfig.saccade_blink_probability must be in [0, 1]")
        for name in ("microsaccade_interval_s", "blink_interval_s"):
            low, high = getattr(self, name)
            if low < 0 or high < low:
                raise ValueError(f"GazeConfig.{name} must be (low, high) with 0 <= low <= high")


@dataclass(frozen=True)
class EyeJoint:
    """One hinge of an eye motor: which eye, which angle, and sign (motor value = sign * angle)."""
    eye: str
    angle: str          # YAW (left positive) | PITCH (up positive)
    sign: float


@dataclass(frozen=True)
class GazeRig:
    """What gaze needs of the face description, in controller order."""
    joint_names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    neutral: np.ndarray
    max_speed: np.ndarray
    eye_centers: dict[str, np.ndarray]                 # eye body -> pivot (head frame, m)
    eye_motors: dict[int, tuple[EyeJoint, ...]]        # motor index -> its eye hinges
    neck_axes: dict[int, np.ndarray]                   # motor index -> hinge axis on the head, in chain order
    lid_motors: tuple[int, ...]

    @classmethod
    def from_description(cls, description) -> "GazeRig":
        eyes = {lm.body for lm in description.landmarks if lm.region == "eye" and lm.body is not None}
        lids = {lm.body for lm in description.landmarks if lm.region == "eyelid" and lm.body is not None}
        pivots = {b.name: np.array(b.pivot, dtype=np.float64) for b in description.bodies}
        eye_motors: dict[int, tuple[EyeJoint, ...]] = {}
        neck_axes: dict[int, np.ndarray] = {}
        lid_motors = []
        for index, motor in enumerate(description.motors):
            hinges = []
            for joint in motor.joints:
                axis = np.array(joint.axis, dtype=np.float64)
                if joint.body == "head":
                    neck_axes[index] = axis
                elif joint.body in eyes:
                    if abs(axis[2]) > 0.9:
                        hinges.append(EyeJoint(joint.body, YAW, float(np.sign(axis[2]))))
                    elif abs(axis[1]) > 0.9:
                        hinges.append(EyeJoint(joint.body, PITCH, float(-np.sign(axis[1]))))
            if hinges:
                eye_motors[index] = tuple(hinges)
            if any(j.body in lids for j in motor.joints):
                lid_motors.append(index)
        if not eyes or not eye_motors:
            raise ValueError("the face description has no eyes for gaze (landmarks of region `eye` on bodies "
                             "moved by yaw/pitch hinges)")
        return cls(tuple(description.joint_names), description.lower_limits(), description.upper_limits(),
                   description.neutral_positions(), description.max_speeds(),
                   {eye: pivots[eye] for eye in sorted(eyes)}, eye_motors, neck_axes, tuple(lid_motors))

    @property
    def cyclops(self) -> np.ndarray:
        """The point between the eyes (head frame, m)."""
        return np.mean(list(self.eye_centers.values()), axis=0)

    def angle_range(self, angle: str) -> float:
        """The smallest one-sided range (rad) the eye motors allow for YAW or PITCH."""
        spans = [min(abs(self.lower[i]), abs(self.upper[i])) for i, hinges in self.eye_motors.items()
                 if any(h.angle == angle for h in hinges)]
        return float(min(spans)) if spans else 0.0

    def neck_motor(self, angle: str) -> tuple[int, float] | None:
        """(motor index, sign) of the neck hinge that turns the head in YAW or PITCH (up positive)."""
        for index, axis in self.neck_axes.items():
            if angle == YAW and abs(axis[2]) > 0.9:
                return index, float(np.sign(axis[2]))
            if angle == PITCH and abs(axis[1]) > 0.9:
                return index, float(-np.sign(axis[1]))
        return None


def rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues: the rotation matrix of `angle` (rad) about the unit `axis`."""
    x, y, z = axis
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + math.sin(angle) * k + (1.0 - math.cos(angle)) * (k @ k)


def head_rotation(rig: GazeRig, command: np.ndarray) -> np.ndarray:
    """The head's orientation in the base frame for these motor values (the neck hinges in chain order)."""
    r = np.eye(3)
    for index, axis in rig.neck_axes.items():
        r = r @ rotation(axis, float(command[index]))
    return r


def look_angles(direction: np.ndarray) -> tuple[float, float]:
    """A direction (head frame) -> (yaw left-positive, pitch up-positive) of a yaw-outside-pitch gimbal."""
    x, y, z = direction
    return math.atan2(y, x), math.atan2(z, math.hypot(x, y))


def eye_angles(rig: GazeRig, target_head: np.ndarray) -> dict[str, tuple[float, float]]:
    """Per eye: (yaw, pitch) that points it at a target given in the (moving) head frame: vergence."""
    return {eye: look_angles(target_head - center) for eye, center in rig.eye_centers.items()}


def vergence(angles: dict[str, tuple[float, float]]) -> float:
    """The angle between the two eyes' lines of sight (rad; 0 for a target at infinity)."""
    dirs = []
    for yaw, pitch in angles.values():
        dirs.append(np.array([math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), math.sin(pitch)]))
    if len(dirs) != 2:
        return 0.0
    return float(math.acos(max(-1.0, min(1.0, float(dirs[0] @ dirs[1])))))


@dataclass
class GazeState:
    """What the controller did on the last tick (for tests, benchmarks and diagnostics)."""
    weight: float = 0.0
    eyes: dict[str, tuple[float, float]] = field(default_factory=dict)  # desired (yaw, pitch) per eye
    neck: np.ndarray = field(default_factory=lambda: np.zeros(2))       # gaze neck (yaw, pitch up), rad
    neck_goal: np.ndarray = field(default_factory=lambda: np.zeros(2))
    blink: float = 0.0
    microsaccade: np.ndarray = field(default_factory=lambda: np.zeros(2))
    saccades: int = 0
    blinks: int = 0
    rejected: int = 0


class GazeController:
    def __init__(self, rig: GazeRig, config: GazeConfig = GazeConfig(),
                 lid_closed: dict[int, float] | None = None) -> None:
        self.rig = rig
        self.config = config
        self.lid_closed = {i: float(np.clip(v, rig.lower[i], rig.upper[i])) for i, v in (lid_closed or {}).items()
                           if i in rig.lid_motors and math.isfinite(v)}
        self.rng = np.random.default_rng(config.seed)
        self.state = GazeState()
        self.target: np.ndarray | None = None       # base frame, m
        self.target_time: float | None = None
        self._last_time: float | None = None
        self._ramp = 0.0                            # weight before easing, 0..1
        self._neck = np.zeros(2)                    # gaze neck (yaw, pitch up), rad
        self._blink_start: float | None = None
        self._next_blink: float | None = None
        self._next_micro: float | None = None
        self._micro = np.zeros(2)
        self._yaw_motor = rig.neck_motor(YAW)
        self._pitch_motor = rig.neck_motor(PITCH)
        self._last_neck_command = rig.neutral.copy()
        self._servo: dict[int, float] | None = None    # eye motor -> modelled servo position
        self._sent: dict[int, float] = {}               # eye motor -> last eye command

    # ---- input
    def set_target(self, point, now: float, frame: str = "base") -> bool:
        """A new look-at point (m) in the base frame, or frame="head" (the moving head, as last commanded).
        Returns False, changing nothing, for a non-finite point or one at the eyes."""
        try:
            p = np.asarray(point, dtype=np.float64).reshape(3)
        except (TypeError, ValueError):
            p = None
        if p is None or not np.all(np.isfinite(p)) or not math.isfinite(now) or np.abs(p).max() > 1e6:
            self.state.rejected += 1
            log.warning("ignoring a look-at target that is not a finite point (within 1000 km)")
            return False
        if frame == "head":
            p = head_rotation(self.rig, self._last_neck_command) @ p
        cyclops = self.rig.cyclops
        offset = p - cyclops
        distance = float(np.linalg.norm(offset))
        if distance < 1e-6:
            self.state.rejected += 1
            log.warning("ignoring a look-at target at the eyes")
            return False
        if distance < self.config.min_distance_m:
            p = cyclops + offset * (self.config.min_distance_m / distance)
        if self.target is not None and self._direction_change(self.target, p) > self.config.saccade_threshold_rad:
            self._saccade(self._direction_change(self.target, p), now)
        elif self.target is not None and self._moving(self._direction_change(self.target, p), now):
            self._restart_fixation(now)          # smooth pursuit: no micro-saccades on a moving target
        elif self.target is None:
            self._saccade(self._direction_change(cyclops + np.array([1.0, 0, 0]), p), now)
        self.target, self.target_time = p, now
        return True

    def release(self) -> None:
        """Forget the target: ease back to the speech model's gaze."""
        self.target_time = None

    def reset(self) -> None:
        """Drop the target at once, as if none had come (the output is disabled)."""
        self.target = self.target_time = None
        self._ramp = self.state.weight = 0.0
        self._neck[:] = 0.0
        self._servo, self._blink_start = None, None

    @property
    def active(self) -> bool:
        return self.state.weight > 0.0

    # ---- the tick
    def apply(self, base: np.ndarray | None, now: float) -> np.ndarray | None:
        """Blend gaze into the motor targets `base` (controller order; None = no speech stream: neutral).
        Returns `base` untouched while gaze is inactive."""
        dt = 0.0 if self._last_time is None else min(max(now - self._last_time, 0.0), 0.5)
        self._last_time = now
        self._update_weight(now, dt)
        if self.state.weight <= 0.0 or self.target is None:
            self._neck[:] = 0.0
            self.state.blink = 0.0
            self._servo = None
            if base is not None and np.shape(base) == self.rig.neutral.shape and np.all(np.isfinite(base)):
                self._last_neck_command = np.array(base, dtype=np.float64)  # for points in the head frame
            return base
        out = self.rig.neutral.copy() if base is None else np.asarray(base, dtype=np.float64).copy()
        if out.shape != self.rig.neutral.shape or not np.all(np.isfinite(out)):
            out = self.rig.neutral.copy()
        if self._servo is None:  # gaze starts: the eye servos are where the last command put them
            self._servo = {i: float(out[i]) for i in self.rig.eye_motors}
            self._sent = dict(self._servo)
        w = self.state.weight
        self._step_neck(out, dt)
        self._step_eyes(out, now, w)
        self._lead_eyes(out, dt)
        self._step_blink(out, now, w)
        out = np.clip(out, self.rig.lower, self.rig.upper)
        if not np.all(np.isfinite(out)):  # cannot happen with finite inputs; never send it anyway
            return base
        self._last_neck_command = out.copy()
        return out

    def _update_weight(self, now: float, dt: float) -> None:
        c = self.config
        fresh = self.target_time is not None and now - self.target_time <= c.timeout_s
        rate = 1.0 / c.engage_s if fresh else -1.0 / c.release_s
        self._ramp = ramp = float(np.clip(self._ramp + rate * dt, 0.0, 1.0))
        self.state.weight = ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep: no jerk at either end
        if ramp == 0.0 and not fresh:
            self.target = None                       # released: the next target starts afresh

    def _step_neck(self, out: np.ndarray, dt: float) -> None:
        rig, c, w = self.rig, self.config, self.state.weight
        goal = self._neck_goal()
        alpha = 1.0 - math.exp(-dt / c.neck_tau_s) if dt > 0 else 0.0
        step = (goal - self._neck) * alpha
        for k, motor in enumerate((self._yaw_motor, self._pitch_motor)):
            if motor is not None:
                limit = 0.9 * rig.max_speed[motor[0]] * dt
                step[k] = float(np.clip(step[k], -limit, limit))
        self._neck = self._neck + step
        self.state.neck, self.state.neck_goal = self._neck.copy(), goal
        for k, motor in enumerate((self._yaw_motor, self._pitch_motor)):
            if motor is None:
                continue
            index, sign = motor
            gaze_value = sign * self._neck[k]
            if c.keep_head_motion:
                out[index] = out[index] + w * (gaze_value - rig.neutral[index])
            else:
                out[index] = (1.0 - w) * out[index] + w * gaze_value
            out[index] = float(np.clip(out[index], rig.lower[index], rig.upper[index]))

    def _neck_goal(self) -> np.ndarray:
        """(yaw, pitch up) of the head that leaves the eyes within their comfortable share of range."""
        rig = self.rig
        aligned = self._head_alignment(self.target)
        goal = np.zeros(2)
        for k, angle in enumerate((YAW, PITCH)):
            motor = self._yaw_motor if k == 0 else self._pitch_motor
            if motor is None:
                continue
            comfort = self.config.eye_range_share * rig.angle_range(angle)
            excess = math.copysign(max(0.0, abs(aligned[k]) - comfort), aligned[k])
            index, sign = motor
            low, high = sorted((sign * rig.lower[index], sign * rig.upper[index]))
            goal[k] = float(np.clip(excess, low, high))
        return goal

    def _head_alignment(self, target: np.ndarray) -> np.ndarray:
        """(yaw, pitch up) of the head that would centre the cyclopean eye on the target."""
        angles = np.zeros(2)
        command = self.rig.neutral.copy()
        for _ in range(4):
            self._write_neck(command, angles)
            r = head_rotation(self.rig, command)
            yaw, pitch = look_angles(r.T @ target - self.rig.cyclops)
            angles = angles + np.array([yaw, pitch])
            angles = np.clip(angles, -math.pi, math.pi)
        return angles

    def _write_neck(self, command: np.ndarray, angles: np.ndarray) -> None:
        for k, motor in enumerate((self._yaw_motor, self._pitch_motor)):
            if motor is not None:
                command[motor[0]] = motor[1] * angles[k]

    def _step_eyes(self, out: np.ndarray, now: float, w: float) -> None:
        rig = self.rig
        self._step_microsaccade(now)
        target_head = head_rotation(rig, out).T @ self.target
        self.state.eyes = eye_angles(rig, target_head)
        for index, hinges in rig.eye_motors.items():
            values = []
            for hinge in hinges:
                yaw, pitch = self.state.eyes[hinge.eye]
                angle = (yaw + self._micro[0]) if hinge.angle == YAW else (pitch + self._micro[1])
                values.append(hinge.sign * angle)
            desired = float(np.clip(np.mean(values), rig.lower[index], rig.upper[index]))
            out[index] = (1.0 - w) * out[index] + w * desired

    def _lead_eyes(self, out: np.ndarray, dt: float) -> None:
        """Command each eye motor ahead of its modelled servo position, within its speed and limits."""
        rig, c = self.rig, self.config
        for index in rig.eye_motors:
            servo, previous = self._servo[index], self._sent[index]
            command = servo + (1.0 + c.eye_lead_gain) * (out[index] - servo) if c.eye_servo_tau_s > 0 else out[index]
            step = rig.max_speed[index] * dt
            command = float(np.clip(command, previous - step, previous + step))
            command = float(np.clip(command, rig.lower[index], rig.upper[index]))
            if c.eye_servo_tau_s > 0 and dt > 0:
                servo += (command - servo) * (1.0 - math.exp(-dt / c.eye_servo_tau_s))
            self._servo[index], self._sent[index] = servo, command
            out[index] = command

    def _step_microsaccade(self, now: float) -> None:
        c = self.config
        if c.microsaccade_amplitude_rad <= 0:
            self._micro[:] = 0.0
            return
        if self._next_micro is None:
            self._next_micro = now + self.rng.uniform(*c.microsaccade_interval_s)
        elif now >= self._next_micro:
            if np.any(self._micro) and self.rng.random() < 0.5:
                self._micro = np.zeros(2)          # back to the centre of the fixation
            else:
                angle = self.rng.uniform(0.0, 2.0 * math.pi)
                size = c.microsaccade_amplitude_rad * self.rng.uniform(0.5, 1.0)
                self._micro = size * np.array([math.cos(angle), math.sin(angle)])
            self._next_micro = now + self.rng.uniform(*c.microsaccade_interval_s)
        self.state.microsaccade = self._micro.copy()

    def _step_blink(self, out: np.ndarray, now: float, w: float) -> None:
        c = self.config
        low, high = c.blink_interval_s
        if high > 0:
            if self._next_blink is None:
                self._next_blink = now + self.rng.uniform(low, high)
            elif now >= self._next_blink:
                self._start_blink(now)
        amount = self._blink_amount(now)
        self.state.blink = amount
        if amount <= 0.0:
            return
        for index, closed in self.lid_closed.items():
            out[index] = out[index] + w * amount * (closed - out[index])

    def _blink_amount(self, now: float) -> float:
        if self._blink_start is None:
            return 0.0
        c = self.config
        t = now - self._blink_start
        if t < 0:
            return 0.0
        if t < c.blink_close_s:
            return t / c.blink_close_s
        t -= c.blink_close_s
        if t < c.blink_hold_s:
            return 1.0
        t -= c.blink_hold_s
        if t < c.blink_open_s:
            return 1.0 - t / c.blink_open_s
        self._blink_start = None
        return 0.0

    def _start_blink(self, now: float) -> None:
        if self._blink_start is None or now - self._blink_start > self.config.blink_close_s:
            self._blink_start = now
            self.state.blinks += 1
        low, high = self.config.blink_interval_s
        if high > 0:
            self._next_blink = now + self.rng.uniform(low, high)

    def _saccade(self, size: float, now: float) -> None:
        c = self.config
        self.state.saccades += 1
        self._restart_fixation(now)
        if size > c.saccade_blink_rad and self.rng.random() < c.saccade_blink_probability:
            self._start_blink(now)

    def _moving(self, change: float, now: float) -> bool:
        elapsed = now - self.target_time if self.target_time is not None else 0.0
        if elapsed <= 1e-6:
            return change > 1e-6
        return change / elapsed > self.config.pursuit_speed_rad_s

    def _restart_fixation(self, now: float) -> None:
        """A new fixation starts: no micro-saccade offset, the next one an interval from now."""
        self._micro = np.zeros(2)
        if self.config.microsaccade_amplitude_rad > 0:
            self._next_micro = now + self.rng.uniform(*self.config.microsaccade_interval_s)

    def _direction_change(self, a: np.ndarray, b: np.ndarray) -> float:
        """The angle (rad) between two targets seen from the point between the eyes."""
        u, v = a - self.rig.cyclops, b - self.rig.cyclops
        cos = float(u @ v / max(np.linalg.norm(u) * np.linalg.norm(v), 1e-12))
        return math.acos(max(-1.0, min(1.0, cos)))


def transform_point(translation, quaternion_xyzw, point) -> np.ndarray:
    """A point through a rigid transform given as a translation and a unit quaternion (x, y, z, w), as in
    geometry_msgs/Transform: the tf2 transform of a point without tf2_geometry_msgs."""
    x, y, z, w = (float(v) for v in quaternion_xyzw)
    norm = math.sqrt(x * x + y * y + z * z + w * w)
    if not math.isfinite(norm) or norm < 1e-9:
        raise ValueError("not a rotation quaternion")
    x, y, z, w = x / norm, y / norm, z / norm, w / norm
    r = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                  [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                  [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    return r @ np.asarray(point, dtype=np.float64) + np.asarray(translation, dtype=np.float64)
