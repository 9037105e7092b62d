"""The face description loads, matches contract E, and rejects bad files with clear errors."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from talkface_ros.face.description import FaceDescriptionError, load_face_description, parse_face_description
from talkface_ros.paths import config_path


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load(config_path("face.yaml").read_text())


def test_default_face_is_hybrid_and_consistent():
    d = load_face_description()
    assert 20 <= len(d.motors) <= 30
    kinds = {m.kind for m in d.motors}
    assert kinds == {"rigid", "tendon"}
    assert d.joint_names == [m.name for m in d.motors]
    cal = d.calibrations()
    assert [c.joint for c in cal] == d.joint_names
    assert np.all(d.lower_limits() <= d.neutral_positions()) and np.all(d.neutral_positions() <= d.upper_limits())
    assert np.all(d.lower_limits()[d.tendon_mask()] >= 0)
    assert set(d.landmark_kinds()) == {"rigid", "tendon"}
    assert d.neck_motors() == ["neck_yaw", "neck_pitch", "neck_roll"]


def _broken(raw, mutate):
    data = copy.deepcopy(raw)
    mutate(data)
    return data


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["motors"][0].update(colour="red"), "unknown field"),
    (lambda d: d["motors"][0].update(lower=1.0, upper=0.0), "reversed"),
    (lambda d: d["motors"][0].update(neutral=5.0), "outside"),
    (lambda d: d["motors"][1]["driver"].update(channel=0), "share maestro channel 0"),
    (lambda d: d["motors"][1].update(name="jaw_open"), "duplicate motor"),
    (lambda d: d["motors"][9].update(lower=-0.01), "only pulls"),
    (lambda d: d["motors"][9]["tendon"].update(node="nowhere"), "unknown skin node"),
    (lambda d: d["landmarks"][0].update(region="forehead"), "region"),
    (lambda d: d.update(extra=1), "unknown field"),
    (lambda d: d["motors"][0].update(max_speed=float("nan")), "finite"),
])
def test_bad_descriptions_are_rejected_with_a_reason(raw, mutate, message):
    with pytest.raises(FaceDescriptionError, match=message):
        parse_face_description(_broken(raw, mutate))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FaceDescriptionError, match="cannot read"):
        load_face_description(tmp_path / "nope.yaml")
