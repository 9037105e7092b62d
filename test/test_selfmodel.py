"""The shipped self-model: loads, matches the face, retargets within limits, and its forward model
agrees with the simulated face it was learned from."""
from __future__ import annotations

import numpy as np
import pytest

from talkface_ros.face.arkit import ARKIT_NAMES, FRAME_SIZE, INDEX
from talkface_ros.face.description import load_face_description
from talkface_ros.face.landmark_basis import LandmarkBasis, reference_displacements_mm
from talkface_ros.selfmodel.model import SelfModel

DESCRIPTION = load_face_description()


@pytest.fixture(scope="module")
def model():
    return SelfModel.load()


def test_shipped_calibration_matches_the_face(model):
    model.check_matches(DESCRIPTION.joint_names)
    assert model.config["face_sha256"] == DESCRIPTION.source_sha256, "re-run `talkface calibrate --sim`"
    with pytest.raises(ValueError, match="calibrate"):
        model.check_matches(DESCRIPTION.joint_names[::-1])


def test_retarget_is_within_limits_and_follows_the_frame(model):
    rng = np.random.default_rng(0)
    frames = rng.uniform(-1, 2, size=(64, FRAME_SIZE))
    frames[0, 3] = np.nan
    commands = model.retarget(frames)
    assert commands.shape == (64, len(DESCRIPTION.motors)) and np.all(np.isfinite(commands))
    assert np.all(commands >= DESCRIPTION.lower_limits()) and np.all(commands <= DESCRIPTION.upper_limits())
    jaw, neck_yaw = DESCRIPTION.joint_names.index("jaw_open"), DESCRIPTION.joint_names.index("neck_yaw")
    closed, opened = np.zeros(FRAME_SIZE), np.zeros(FRAME_SIZE)
    opened[INDEX["jawOpen"]] = 1.0
    opened[INDEX["headYaw"]] = 0.2
    c_closed, c_open = model.retarget(np.stack([closed, opened]))
    assert c_open[jaw] - c_closed[jaw] > 0.15
    assert c_open[neck_yaw] == pytest.approx(0.2)
    brow = DESCRIPTION.joint_names.index("brow_inner_left")
    up = np.zeros(FRAME_SIZE)
    up[INDEX["browInnerUp"]] = 1.0
    assert model.retarget(up)[brow] > c_closed[brow] + 0.003       # the inner brow tendon pulls
    with pytest.raises(ValueError):
        model.retarget(np.zeros(10))


def test_forward_model_predicts_the_sim(model):
    pytest.importorskip("mujoco")
    from talkface_ros.sim.face_sim import FaceSim

    sim = FaceSim(DESCRIPTION)
    rng = np.random.default_rng(5)
    errors = []
    for _ in range(10):
        command = DESCRIPTION.neutral_positions()
        face = model.face_index
        command[face] = rng.uniform(DESCRIPTION.lower_limits()[face], DESCRIPTION.upper_limits()[face])
        reached = sim.settle(command, 0.3)
        errors.append(np.linalg.norm(model.forward(command[face]) - reached, axis=-1))
    rmse_mm = float(np.sqrt(np.mean(np.square(errors)))) * 1e3
    assert rmse_mm < 1.5


def test_landmark_basis_covers_every_shape_and_mirrors():
    table = reference_displacements_mm()
    assert set(table) == set(ARKIT_NAMES)
    left, right = table["mouthSmileLeft"]["lip_corner_left"], table["mouthSmileRight"]["lip_corner_right"]
    assert left[0] == right[0] and left[1] == -right[1] and left[2] == right[2]
    basis = LandmarkBasis(DESCRIPTION, np.zeros((len(DESCRIPTION.landmarks), 3)))
    frame = np.zeros(FRAME_SIZE)
    frame[INDEX["jawOpen"]] = 1.0
    chin = DESCRIPTION.landmark_names.index("chin")
    assert basis.targets(frame)[chin, 2] < -0.015
