"""JointCalibration: the linear maps between joint units and driver units, and their clamping."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from talkface_ros.hardware.calibration import CalibrationError, JointCalibration


def jaw(**overrides) -> JointCalibration:
    fields = dict(joint="jaw_open", bus="maestro", channel=0, kind="rigid", lower=0.0, upper=0.5, neutral=0.1,
                  max_speed=3.0, raw_at_lower=1000.0, raw_at_upper=2000.0)
    fields.update(overrides)
    return JointCalibration(**fields)


def test_linear_map_hits_both_calibration_points_and_the_middle():
    cal = jaw()
    assert cal.to_raw(0.0) == pytest.approx(1000.0)
    assert cal.to_raw(0.5) == pytest.approx(2000.0)
    assert cal.to_raw(0.25) == pytest.approx(1500.0)
    assert cal.from_raw(1500.0) == pytest.approx(0.25)
    assert cal.raw_per_unit == pytest.approx(2000.0)


def test_reversed_servo_maps_downwards():
    cal = jaw(raw_at_lower=2100.0, raw_at_upper=900.0)
    assert cal.to_raw(0.0) == pytest.approx(2100.0)
    assert cal.to_raw(0.5) == pytest.approx(900.0)
    assert cal.to_raw(0.25) == pytest.approx(1500.0)
    assert cal.from_raw(900.0) == pytest.approx(0.5)
    assert (cal.raw_min, cal.raw_max) == (900.0, 2100.0)


def test_to_raw_clamps_to_joint_limits():
    cal = jaw()
    assert cal.to_raw(-10.0) == pytest.approx(1000.0)
    assert cal.to_raw(10.0) == pytest.approx(2000.0)


def test_from_raw_clamps_to_joint_limits():
    cal = jaw()
    assert cal.from_raw(0.0) == pytest.approx(0.0)
    assert cal.from_raw(5000.0) == pytest.approx(0.5)


def test_non_finite_positions_are_errors_not_commands():
    cal = jaw()
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError):
            cal.to_raw(bad)
        with pytest.raises(ValueError):
            cal.from_raw(bad)


def test_tendon_in_metres_and_dynamixel_ticks():
    cal = JointCalibration(joint="cheek_l", bus="dynamixel", channel=3, kind="tendon", lower=0.0, upper=0.012,
                           neutral=0.0, max_speed=0.05, raw_at_lower=2048.0, raw_at_upper=2600.0)
    assert cal.to_raw(0.006) == pytest.approx(2324.0)
    assert cal.speed_to_raw(0.012) == pytest.approx(552.0)


@pytest.mark.parametrize("overrides, message", [
    (dict(lower=0.5, upper=0.0), "below"),
    (dict(neutral=0.9), "outside"),
    (dict(raw_at_upper=1000.0), "flat"),
    (dict(bus="feetech"), "bus"),
    (dict(kind="spring"), "kind"),
    (dict(channel=-1), "channel"),
    (dict(max_speed=0.0), "max_speed"),
    (dict(upper=math.nan), "finite"),
    (dict(joint=""), "name"),
])
def test_bad_calibrations_are_rejected_with_a_reason(overrides, message):
    with pytest.raises(CalibrationError, match=message):
        jaw(**overrides)


def test_frozen():
    cal = jaw()
    with pytest.raises(Exception):
        cal.lower = 1.0  # type: ignore[misc]


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
       st.floats(min_value=500, max_value=2500), st.floats(min_value=500, max_value=2500))
def test_to_raw_never_leaves_the_raw_range_and_round_trips(position, raw_a, raw_b):
    if abs(raw_a - raw_b) < 1.0:
        return
    cal = jaw(raw_at_lower=raw_a, raw_at_upper=raw_b)
    raw = cal.to_raw(position)
    assert cal.raw_min - 1e-9 <= raw <= cal.raw_max + 1e-9
    assert cal.from_raw(raw) == pytest.approx(cal.clamp(position), abs=1e-9)
