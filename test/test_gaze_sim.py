"""Gaze on the simulated robot (MuJoCo, simulated time, so nothing here depends on the machine's speed): the
pupils point at a target within the eyes' range with the neck still; beyond the eyes' range the neck takes
over and the gaze still lands on the target; a blink closes the sim's lids."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco")

from talkface_ros.eval.gaze import GazeSim, follow_steps, pan  # noqa: E402
from talkface_ros.face.gaze import GazeConfig  # noqa: E402

QUIET = GazeConfig(microsaccade_amplitude_rad=0.0, blink_interval_s=(0.0, 0.0), saccade_blink_probability=0.0)


def hold(run: GazeSim, target: np.ndarray, seconds: float) -> None:
    for _ in range(int(round(seconds / run.tick_s))):
        run.look_at(target, run.now)
        run.tick()


@pytest.fixture(scope="module")
def run() -> GazeSim:
    return GazeSim(QUIET)


@pytest.mark.parametrize("yaw, pitch", [(0.2, 0.1), (-0.15, -0.2), (0.0, 0.25)])
def test_pupils_point_at_a_target_within_the_eyes_range(run, yaw, pitch):
    target = run.target_at(yaw, pitch)
    hold(run, target, 0.6)
    assert run.gaze_error_deg(target) < 1.0
    assert abs(run.sim.joint_positions()[run.neck_yaw]) < 0.01, "the eyes alone"


@pytest.mark.parametrize("yaw", [0.9, -1.0])
def test_beyond_the_eyes_range_the_neck_takes_over(run, yaw):
    hold(run, run.target_at(0.0, 0.0), 1.0)
    target = run.target_at(yaw, 0.0)
    hold(run, target, 0.1)
    measured = run.sim.joint_positions()
    assert abs(measured[run.eye_yaw]) > 0.4 and abs(measured[run.neck_yaw]) < 0.2, "the eyes lead"
    hold(run, target, 1.9)
    measured = run.sim.joint_positions()
    assert np.sign(measured[run.neck_yaw]) == np.sign(yaw) and abs(measured[run.neck_yaw]) > 0.45
    assert abs(measured[run.eye_yaw]) <= 0.5 + 1e-6
    assert run.gaze_error_deg(target) < 1.5


def test_a_blink_closes_the_sims_lids():
    run = GazeSim(GazeConfig(microsaccade_amplitude_rad=0.0, blink_interval_s=(0.0, 0.0), saccade_blink_probability=1.0))
    lid = run.sim.description.landmark_names.index("eyelid_upper_left")
    hold(run, run.target_at(0.0, 0.0), 0.5)
    open_z = run.sim.landmarks()[lid, 2]
    run.look_at(run.target_at(0.45, 0.0), run.now)  # a large saccade: a blink
    lowest = open_z
    for _ in range(15):
        run.tick()
        lowest = min(lowest, run.sim.landmarks()[lid, 2])
    assert open_z - lowest > 0.008, "the upper lid came down"
    hold(run, run.target_at(0.45, 0.0), 0.5)
    assert abs(run.sim.landmarks()[lid, 2] - open_z) < 0.002, "and went up again"


def test_the_benchmark_measures_sensible_numbers():
    steps = follow_steps(GazeSim(QUIET), steps=6)
    assert steps["follow_ms"]["missed"] == 0 and 10 < steps["follow_ms"]["median"] < 200
    sweep = pan(GazeSim(QUIET), max_yaw=1.1, seconds=6.0)
    share = sweep["neck_share"]
    assert share["beyond_eye_range"] > share["within_half_eye_range"] + 0.2
    assert sweep["gaze_error_deg"]["median"] < 2.0
