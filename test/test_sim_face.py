"""The generated files are fresh, and the MuJoCo face behaves like strings and skin."""
from __future__ import annotations

import numpy as np
import pytest

from talkface_ros.face.description import load_face_description
from talkface_ros.paths import share_dir
from talkface_ros.sim.generate import build_controllers, build_urdf, stale_files

mujoco = pytest.importorskip("mujoco")
from talkface_ros.sim.face_sim import FaceSim  # noqa: E402


@pytest.fixture(scope="module")
def sim():
    return FaceSim()


def test_committed_generated_files_are_fresh():
    assert stale_files(share_dir()) == [], "run `talkface generate` and commit the result"


def test_urdf_and_controllers_list_every_motor_in_order():
    import xml.etree.ElementTree as ET

    import yaml

    d = load_face_description()
    robot = ET.fromstring(build_urdf(d))
    control = robot.find("ros2_control")
    assert control.find("hardware/plugin").text == "mock_components/GenericSystem"
    assert [j.get("name") for j in control.findall("joint")] == d.joint_names
    urdf_joints = {j.get("name"): j for j in robot.findall("joint")}
    for m in d.motors:
        assert urdf_joints[m.name].get("type") == ("prismatic" if m.kind == "tendon" else "revolute")
    controllers = yaml.safe_load(build_controllers(d))
    assert controllers["face_controller"]["ros__parameters"]["joints"] == d.joint_names
    assert "gz_ros2_control" in build_urdf(d, "gz")


def _index(sim, name):
    return sim.description.joint_names.index(name)


def test_tendon_has_slack_then_pulls_and_springs_back(sim):
    d = sim.description
    i, lm = _index(sim, "brow_inner_left"), d.landmark_names.index("brow_inner_left")
    slack = d.motor("brow_inner_left").tendon.slack
    sim.reset()
    rest = sim.settle(d.neutral_positions(), 0.4)[lm]
    command = d.neutral_positions()
    command[i] = slack * 0.8                       # inside the slack: nothing moves
    inside = sim.settle(command, 0.4)[lm]
    command[i] = d.motor("brow_inner_left").upper  # past the slack: the brow rises
    pulled = sim.settle(command, 0.4)[lm]
    back = sim.settle(d.neutral_positions(), 0.6)[lm]
    assert np.linalg.norm(inside - rest) < 2e-4
    assert pulled[2] - rest[2] > 0.004
    assert np.linalg.norm(back - rest) < 3e-4


def test_tendons_couple_neighbouring_landmarks(sim):
    d = sim.description
    command = d.neutral_positions()
    rest = sim.settle(command, 0.4)
    command[_index(sim, "upper_lip_raiser_left")] = d.motor("upper_lip_raiser_left").upper
    moved = sim.settle(command, 0.4) - rest
    names = d.landmark_names
    assert moved[names.index("upper_lip_left"), 2] > 0.003
    assert np.linalg.norm(moved[names.index("upper_lip_center")]) > 0.0005  # a neighbour follows
    assert abs(moved[names.index("brow_inner_left"), 2]) < 1e-4      # a far region does not


def test_commands_outside_limits_are_clipped_and_nan_refused(sim):
    d = sim.description
    sim.set_command(d.upper_limits() + 10)
    assert np.all(sim.command <= d.upper_limits())
    with pytest.raises(ValueError):
        sim.set_command(np.full(len(d.motors), np.nan))
    with pytest.raises(ValueError):
        sim.set_command(np.zeros(3))


def test_render_png_shows_a_lit_face(tmp_path, sim):
    from PIL import Image

    from talkface_ros.sim.render import ensure_gl_backend, render_png

    ensure_gl_backend()
    sim.reset()
    try:
        path = render_png(sim, tmp_path / "face.png", size=160)
    except Exception as error:  # no offscreen GL on this machine
        pytest.skip(f"offscreen rendering unavailable: {error}")
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(float)
    centre = pixels[40:120, 40:120]
    assert centre.mean() > 80                 # the face fills the middle
    assert pixels.std() > 30                  # with features, not a flat colour
