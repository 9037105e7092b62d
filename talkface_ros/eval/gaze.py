"""Gaze on the simulated robot: look-at targets through what runs on the robot (the gaze controller inside
the retargeter, the safety layer's limits and slew rates, ticked at the control rate) into the MuJoCo face,
stepped in simulated real time. Where the eyes look is read from the sim: each pupil landmark relative to
its eye's centre, in the world (= base) frame, so neck and eyes both count.

- follow: targets stepped across the eyes' range; per step, the time until the pupils' (cyclopean) line
  of sight is within `tolerance_deg` of the target;
- pan: a target swept slowly across the whole field of view and back; how much of the gaze angle the
  neck carries, by target angle, and the pursuit lag;
- beyond: steps to targets beyond the eyes' range; when the pupils reach their limit and when the gaze
  (eyes + neck) is on the target.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from talkface_ros.face.gaze import GazeConfig, GazeController, GazeRig


@dataclass(frozen=True)
class GazeRunConfig:
    control_rate: float = 100.0     # face_retarget's default
    distance_m: float = 1.5         # targets' distance from the eyes
    tolerance_deg: float = 1.5      # "on target": the pupils' line of sight within this angle
    seed: int = 0


class GazeSim:
    """The simulated face with the retargeter + gaze controller, ticked at the control rate."""

    def __init__(self, gaze_config: GazeConfig = GazeConfig(), config: GazeRunConfig = GazeRunConfig()) -> None:
        import mujoco

        from talkface_ros.face.description import load_face_description
        from talkface_ros.selfmodel.model import SelfModel
        from talkface_ros.selfmodel.retarget import RetargetConfig, Retargeter, blink_lid_targets
        from talkface_ros.selfmodel.safety import SafetyLimits
        from talkface_ros.sim.face_sim import FaceSim

        description = load_face_description()
        self.sim = FaceSim(description)
        model = SelfModel.load()
        self.rig = GazeRig.from_description(description)
        self.gaze = GazeController(self.rig, gaze_config, blink_lid_targets(model, self.rig.lid_motors))
        self.retargeter = Retargeter(model, SafetyLimits.from_description(description), RetargetConfig(),
                                     gaze=self.gaze)
        self.config = config
        self.tick_s = 1.0 / config.control_rate
        names = description.landmark_names
        self.pupils = [names.index(lm.name) for lm in description.landmarks if lm.region == "eye"]
        eye_bodies = [lm.body for lm in description.landmarks if lm.region == "eye"]
        self.eye_bodies = [mujoco.mj_name2id(self.sim.model, mujoco.mjtObj.mjOBJ_BODY, b) for b in eye_bodies]
        joints = description.joint_names
        self.eye_yaw, self.neck_yaw = joints.index("eye_yaw"), joints.index("neck_yaw")
        self.now = 0.0
        self.sim.reset()
        self.sim.settle(description.neutral_positions(), 0.3)

    def tick(self, seconds: float | None = None, probe: Callable[[], None] | None = None) -> None:
        """A command now, held for `seconds` (default: one control period) of physics; `probe` is called
        after every physics step (2 ms), so what is measured is not rounded to the control period."""
        seconds = self.tick_s if seconds is None else seconds
        self.sim.set_command(self.retargeter.tick(self.now))
        for _ in range(max(1, int(round(seconds / self.sim.dt)))):
            self.sim.step(self.sim.dt)
            self.now += self.sim.dt
            if probe is not None:
                probe()

    def look_at(self, point: np.ndarray, at: float) -> None:
        """The target arrived at time `at` (<= now: the next tick, at `now`, acts on it)."""
        self.gaze.set_target(point, at)

    def arrive(self, point: np.ndarray, steps: int, probe: Callable[[], None] | None = None) -> float:
        """A look_at message arriving `steps` physics steps into the control period: face_retarget sends a
        command at once and the timer goes on at its period. Returns the arrival time."""
        steps = min(max(int(steps), 0), int(round(self.tick_s / self.sim.dt)) - 1)
        for _ in range(steps):
            self.sim.step(self.sim.dt)
            self.now += self.sim.dt
        self.look_at(point, self.now)
        at = self.now
        self.tick(self.tick_s - steps * self.sim.dt, probe)
        return at

    def eye_centres(self) -> np.ndarray:
        return self.sim.data.xpos[self.eye_bodies].copy()

    def lines_of_sight(self) -> np.ndarray:
        """[eyes, 3] unit vectors, world frame: eye centre -> pupil, read from the sim."""
        d = self.sim.landmarks_world()[self.pupils] - self.eye_centres()
        return d / np.linalg.norm(d, axis=1, keepdims=True)

    def gaze_error_deg(self, target: np.ndarray) -> float:
        """Angle between the pupils' mean line of sight and the direction from between the eyes to the target."""
        sight = self.lines_of_sight().mean(axis=0)
        to_target = target - self.eye_centres().mean(axis=0)
        cos = sight @ to_target / (np.linalg.norm(sight) * np.linalg.norm(to_target))
        return math.degrees(math.acos(min(1.0, max(-1.0, cos))))

    def gaze_yaw(self) -> float:
        sight = self.lines_of_sight().mean(axis=0)
        return math.atan2(sight[1], sight[0])

    def target_at(self, yaw: float, pitch: float) -> np.ndarray:
        """A point `distance_m` from between the eyes (at neutral) in direction (yaw, pitch)."""
        d = self.config.distance_m
        return self.rig.cyclops + d * np.array([math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw),
                                                math.sin(pitch)])


def _percentiles(values: list[float]) -> dict:
    a = np.array(values, dtype=np.float64)
    ok = a[np.isfinite(a)]
    return {"median": round(float(np.median(ok)), 1) if ok.size else None,
            "p95": round(float(np.percentile(ok, 95)), 1) if ok.size else None,
            "max": round(float(ok.max()), 1) if ok.size else None,
            "missed": int((~np.isfinite(a)).sum()), "n": int(a.size)}


def follow_targets(steps: int, seed: int = 0) -> list[np.ndarray]:
    """(yaw, pitch) of `steps` targets within the eyes' range (|yaw| <= 0.45, |pitch| <= 0.3 rad), each a
    saccade (> 0.1 rad on an axis) from the one before, the first from straight ahead."""
    rng = np.random.default_rng(seed)
    out, previous = [], np.zeros(2)
    while len(out) < steps:
        angles = np.array([rng.uniform(-0.45, 0.45), rng.uniform(-0.3, 0.3)])
        if np.abs(angles - previous).max() > 0.1:   # a saccade, not a tiny correction
            out.append(angles)
            previous = angles
    return out


def follow_steps(run: GazeSim, steps: int = 30, hold_s: float = 0.6) -> dict:
    """Targets within the eyes' range (yaw |.| <= 0.45, pitch |.| <= 0.3 rad), each held `hold_s`; per
    step the time from the target's arrival until the pupils are on it and stay there (follow_ms), until
    they first touch it, until they have closed 90 % of the angle (a saccade's landing, as saccades are
    measured) and until they have closed 10 % (the reaction). Measured every 2 ms physics step."""
    rng = np.random.default_rng(run.config.seed + 1)
    tol = run.config.tolerance_deg
    latencies, first_on, landings, start_latencies, sizes = [], [], [], [], []
    previous = np.zeros(2)
    for angles in follow_targets(steps, run.config.seed):
        target = run.target_at(*angles)
        start_error = run.gaze_error_deg(target)
        times = {"on": math.inf, "moved": math.inf, "settled": math.inf, "landed": math.inf, "at": math.nan}

        def probe() -> None:
            error, ms = run.gaze_error_deg(target), (run.now - times["at"]) * 1e3
            for key, reached in (("moved", error < 0.9 * start_error), ("on", error < tol),
                                 ("landed", error < max(tol, 0.1 * start_error))):
                if reached and not math.isfinite(times[key]):
                    times[key] = ms
            if error >= tol:
                times["settled"] = math.inf
            elif not math.isfinite(times["settled"]):
                times["settled"] = ms

        # the message arrives at any phase of the control period (in 2 ms physics steps)
        times["at"] = run.now + run.sim.dt * (phase := int(rng.integers(0, int(round(run.tick_s / run.sim.dt)))))
        run.arrive(target, phase, probe)
        while run.now < times["at"] + hold_s - 1e-9:
            run.tick(probe=probe)
        latencies.append(times["settled"])
        first_on.append(times["on"])
        landings.append(times["landed"])
        start_latencies.append(times["moved"])
        sizes.append(math.degrees(float(np.linalg.norm(angles - previous))))
        previous = angles
    sizes_a, settled_a = np.array(sizes), np.array(latencies)
    by_size = {}
    for low, high in ((0, 20), (20, 35), (35, 90)):
        mask = (sizes_a >= low) & (sizes_a < high)
        if mask.any():
            by_size[f"{low}-{high}deg"] = _percentiles(list(settled_a[mask]))
    return {"follow_ms": _percentiles(latencies), "follow_ms_by_step_size": by_size,
            "first_on_target_ms": _percentiles(first_on), "landed_90pct_ms": _percentiles(landings),
            "first_10pct_ms": _percentiles(start_latencies),
            "step_size_deg": {"median": round(float(np.median(sizes)), 1), "max": round(float(np.max(sizes)), 1)},
            "eye_motor_speed_rad_s": float(run.rig.max_speed[run.eye_yaw]),
            "steps": steps, "hold_s": hold_s}


def pan(run: GazeSim, max_yaw: float = 1.1, seconds: float = 6.0) -> dict:
    """A target panned from -max_yaw to +max_yaw and back (yaw, rad, at eye height), re-sent every tick
    (a tracker's stream): the neck's share of the gaze angle by target angle, and the pursuit lag."""
    eye_limit = float(run.rig.upper[run.eye_yaw])
    start = run.target_at(-max_yaw, 0.0)
    run.look_at(start, run.now)
    for _ in range(int(1.5 / run.tick_s)):   # settle on the start point
        run.look_at(start, run.now)
        run.tick()
    t0, rows = run.now, []
    total = 2 * seconds

    def yaw_at(t: float) -> tuple[float, float]:
        phase = (t - t0) / seconds
        return -max_yaw + 2 * max_yaw * (phase if phase <= 1 else 2 - phase), 1.0 if phase <= 1 else -1.0

    def probe() -> None:
        yaw, direction = yaw_at(run.now)
        target = run.target_at(yaw, 0.0)
        measured = run.sim.joint_positions()
        seen = target - run.eye_centres().mean(axis=0)
        rows.append((yaw, measured[run.eye_yaw], measured[run.neck_yaw], run.gaze_yaw(), run.gaze_error_deg(target),
                     math.atan2(seen[1], seen[0]), direction))

    while run.now < t0 + total - 1e-9:
        run.look_at(run.target_at(yaw_at(run.now)[0], 0.0), run.now)
        run.tick(probe=probe)
    a = np.array(rows)
    target_yaw, eye, neck, gaze, error, seen_yaw, direction = a.T

    def share(mask: np.ndarray) -> float | None:
        carried = np.abs(eye[mask]) + np.abs(neck[mask])
        keep = carried > 1e-3
        return round(float(np.mean(np.abs(neck[mask][keep]) / carried[keep])), 3) if keep.any() else None

    within = np.abs(target_yaw) <= 0.5 * eye_limit
    between = (np.abs(target_yaw) > 0.5 * eye_limit) & (np.abs(target_yaw) <= eye_limit)
    beyond = np.abs(target_yaw) > eye_limit
    dt = run.sim.dt
    # per sample: how long until the pupils' line of sight reaches where the target was then (the crossing
    # interpolated between physics steps)
    follow = []
    for i in range(len(gaze)):
        if abs(target_yaw[i]) > max_yaw - 0.15:          # near the turn-arounds the target comes back
            continue
        behind = direction[i] * (gaze[i:] - seen_yaw[i])
        j = int(np.argmax(behind >= 0.0))
        if behind[j] < 0.0:
            follow.append(math.inf)
        elif j == 0:
            follow.append(0.0)
        else:
            fraction = -behind[j - 1] / (behind[j] - behind[j - 1])
            follow.append((j - 1 + fraction) * dt * 1e3)
    lags = np.arange(0, int(0.3 / dt) + 1)
    residual = [np.mean(np.abs(gaze[k:] - target_yaw[: len(target_yaw) - k])) for k in lags]
    return {"max_target_yaw_rad": max_yaw, "pan_speed_rad_s": round(2 * max_yaw / seconds, 3),
            "eye_yaw_limit_rad": eye_limit,
            "neck_share": {"within_half_eye_range": share(within), "half_to_full_eye_range": share(between),
                           "beyond_eye_range": share(beyond), "all": share(np.ones_like(within))},
            "neck_yaw_max_rad": round(float(np.abs(neck).max()), 3),
            "eye_yaw_max_rad": round(float(np.abs(eye).max()), 3),
            "follow_ms": _percentiles(follow),
            "pursuit_lag_ms": round(float(lags[int(np.argmin(residual))] * dt * 1e3), 1),
            "gaze_error_deg": {"median": round(float(np.median(error)), 2),
                               "p95": round(float(np.percentile(error, 95)), 2)}}


def beyond_steps(run: GazeSim, yaws: tuple[float, ...] = (0.8, -0.8, 1.0, -1.0, 0.7, -0.7), hold_s: float = 2.0) -> dict:
    """Steps to targets beyond the eyes' yaw range, from straight ahead: when the pupils reach their limit
    (within tolerance), when the gaze is on the target, and the neck's share at the end."""
    eye_limit = float(run.rig.upper[run.eye_yaw])
    tol = math.radians(run.config.tolerance_deg)
    at_limit, on_target, neck_share = [], [], []
    for yaw in yaws:
        ahead = run.target_at(0.0, 0.0)
        for _ in range(int(1.5 / run.tick_s)):
            run.look_at(ahead, run.now)
            run.tick()
        target = run.target_at(yaw, 0.0)
        at = run.now
        times = {"limit": math.inf, "on": math.inf}

        def probe() -> None:
            ms = (run.now - at) * 1e3
            if not math.isfinite(times["limit"]) and abs(run.sim.joint_positions()[run.eye_yaw]) > eye_limit - tol:
                times["limit"] = ms
            if not math.isfinite(times["on"]) and run.gaze_error_deg(target) < run.config.tolerance_deg:
                times["on"] = ms

        while run.now < at + hold_s - 1e-9:
            run.look_at(target, run.now)
            run.tick(probe=probe)
        limit_t, on_t = times["limit"], times["on"]
        measured = run.sim.joint_positions()
        at_limit.append(limit_t)
        on_target.append(on_t)
        neck_share.append(abs(measured[run.neck_yaw]) / (abs(measured[run.neck_yaw]) + abs(measured[run.eye_yaw])))
    return {"target_yaws_rad": list(yaws), "pupils_at_limit_ms": _percentiles(at_limit),
            "gaze_on_target_ms": _percentiles(on_target),
            "neck_share_at_end": round(float(np.mean(neck_share)), 3), "hold_s": hold_s}
