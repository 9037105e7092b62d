"""The gaze core (no ROS, no sim): vergence from the geometry, limits, eye-head coordination, saccades,
blinks, the ease back to the speech model's gaze, bad input."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import yaml

from talkface_ros.face.description import load_face_description, parse_face_description
from talkface_ros.face.gaze import (PITCH, YAW, GazeConfig, GazeController, GazeRig, head_rotation, look_angles,
                                    vergence)
from talkface_ros.paths import config_path

DESCRIPTION = load_face_description()
NAMES = DESCRIPTION.joint_names
RIG = GazeRig.from_description(DESCRIPTION)
EYE_YAW, EYE_PITCH = NAMES.index("eye_yaw"), NAMES.index("eye_pitch")
NECK_YAW, NECK_PITCH = NAMES.index("neck_yaw"), NAMES.index("neck_pitch")
LIDS = {NAMES.index("eyelid_upper_left"): 0.95, NAMES.index("eyelid_upper_right"): 0.95}
QUIET = GazeConfig(microsaccade_amplitude_rad=0.0, blink_interval_s=(0.0, 0.0), saccade_blink_probability=0.0,
                   eye_servo_tau_s=0.0)
DT = 0.01


def run(controller: GazeController, seconds: float, start: float = 0.0, base=None) -> tuple[np.ndarray, float]:
    t, out = start, None
    for _ in range(int(round(seconds / DT))):
        out = controller.apply(base, t)
        t += DT
    return out, t


def gaze_error(command: np.ndarray, target: np.ndarray) -> float:
    """Angle (rad) between where the eyes point (neck + eye motors, cyclopean) and the target."""
    r = head_rotation(RIG, command)
    yaw, pitch = command[EYE_YAW], command[EYE_PITCH]
    eye_dir = np.array([math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), math.sin(pitch)])
    to_target = target - r @ RIG.cyclops
    cos = (r @ eye_dir) @ to_target / np.linalg.norm(to_target)
    return math.acos(min(1.0, cos))


def test_rig_from_the_face_description():
    assert set(RIG.eye_centers) == {"eye_left", "eye_right"}
    np.testing.assert_allclose(RIG.eye_centers["eye_left"], [0.073, 0.03, 0.14])
    assert RIG.angle_range(YAW) == pytest.approx(0.5) and RIG.angle_range(PITCH) == pytest.approx(0.35)
    assert RIG.neck_motor(YAW) == (NECK_YAW, 1.0)
    assert RIG.neck_motor(PITCH) == (NECK_PITCH, -1.0)  # the axis is +y: positive = nose down
    assert set(LIDS) <= set(RIG.lid_motors)


@pytest.mark.parametrize("distance", [0.25, 0.5, 1.0, 3.0])
def test_vergence_matches_the_geometry(distance):
    controller = GazeController(RIG, QUIET)
    cyclops = RIG.cyclops
    target = cyclops + np.array([distance, 0.0, 0.0])
    controller.set_target(target, 0.0)
    run(controller, 0.5)
    half = 0.03  # half the distance between the eye centres
    left_yaw, _ = controller.state.eyes["eye_left"]
    right_yaw, _ = controller.state.eyes["eye_right"]
    assert left_yaw == pytest.approx(-math.atan2(half, distance), abs=1e-9)   # the left eye turns right (in)
    assert right_yaw == pytest.approx(math.atan2(half, distance), abs=1e-9)
    assert vergence(controller.state.eyes) == pytest.approx(2 * math.atan2(half, distance), abs=1e-9)


def split_eye_description():
    """The shipped face with one yaw motor per eye instead of the linked pair."""
    data = yaml.safe_load(config_path("face.yaml").read_text())
    motors = data["motors"]
    index = next(i for i, m in enumerate(motors) if m["name"] == "eye_yaw")
    linked = motors.pop(index)
    for k, side in enumerate(("left", "right")):
        motor = copy.deepcopy(linked)
        motor["name"] = f"eye_yaw_{side}"
        motor["joints"] = [j for j in linked["joints"] if j["body"] == f"eye_{side}"]
        motor["driver"] = {"bus": "maestro", "channel": 40 + k}
        motors.insert(index + k, motor)
    return parse_face_description(data)


def test_one_motor_per_eye_gets_its_own_vergence_and_a_linked_motor_the_mean():
    split = split_eye_description()
    rig = GazeRig.from_description(split)
    controller = GazeController(rig, QUIET)
    target = rig.cyclops + np.array([0.3, 0.05, 0.0])
    controller.set_target(target, 0.0)
    out, _ = run(controller, 0.5)
    left = out[split.joint_names.index("eye_yaw_left")]
    right = out[split.joint_names.index("eye_yaw_right")]
    assert left == pytest.approx(look_angles(target - rig.eye_centers["eye_left"])[0], abs=1e-9)
    assert right == pytest.approx(look_angles(target - rig.eye_centers["eye_right"])[0], abs=1e-9)
    assert right - left > 0.15  # converged on a near target

    linked = GazeController(RIG, QUIET)
    linked.set_target(target, 0.0)
    out, _ = run(linked, 0.5)
    eyes = linked.state.eyes
    assert out[EYE_YAW] == pytest.approx((eyes["eye_left"][0] + eyes["eye_right"][0]) / 2, abs=1e-9)


def test_small_shift_eyes_only_large_shift_neck_takes_over():
    controller = GazeController(RIG, QUIET)
    near = RIG.cyclops + 2.0 * np.array([math.cos(0.15), math.sin(0.15), 0.0])
    controller.set_target(near, 0.0)
    out, t = run(controller, 1.5)
    assert abs(out[NECK_YAW]) < 1e-9 and abs(out[NECK_PITCH]) < 1e-9
    assert out[EYE_YAW] == pytest.approx(0.15, abs=0.01)
    assert gaze_error(out, near) < math.radians(0.5)

    far = RIG.cyclops + 2.0 * np.array([math.cos(0.9), math.sin(0.9), 0.0])  # beyond the eyes' 0.5 rad
    controller.set_target(far, t)
    first, _ = run(controller, 0.05, t)
    assert first[EYE_YAW] > 0.35 and first[NECK_YAW] < 0.1, "the eyes lead, the neck follows"
    out, _ = run(controller, 1.5, t + 0.05)
    assert out[NECK_YAW] > 0.55, "the neck took over"
    assert abs(out[EYE_YAW]) <= RIG.upper[EYE_YAW]
    assert gaze_error(out, far) < math.radians(0.5)


def test_eyes_counter_rotate_while_the_neck_turns():
    controller = GazeController(RIG, QUIET)
    target = RIG.cyclops + 1.5 * np.array([math.cos(0.45), math.sin(0.45), -0.2])
    controller.set_target(target, 0.0)
    errors, neck, t = [], [], 0.0
    for _ in range(150):
        out = controller.apply(None, t)
        t += DT
        if t > 0.1:  # once the saccade (at the eye motor's 8 rad/s) is over
            errors.append(gaze_error(out, target))
            neck.append(out[NECK_YAW])
    assert neck[-1] - neck[0] > 0.1, "the neck moved"
    assert max(errors) < math.radians(0.5), "gaze held on the target while the neck turned"


def test_speech_head_motion_is_compensated_by_the_eyes():
    controller = GazeController(RIG, QUIET)
    target = RIG.cyclops + np.array([1.0, 0.1, 0.0])
    controller.set_target(target, 0.0)
    run(controller, 0.5)
    base = RIG.neutral.copy()
    base[NECK_YAW], base[NECK_PITCH] = 0.08, -0.05     # a nod and a turn from the speech model
    out, _ = run(controller, 0.1, 0.5, base=base)
    assert out[NECK_YAW] == pytest.approx(0.08, abs=1e-3)
    assert gaze_error(out, target) < math.radians(0.3)


def test_limits_and_no_nan_for_any_target():
    rng = np.random.default_rng(1)
    controller = GazeController(RIG, GazeConfig(seed=3, blink_interval_s=(0.1, 0.3)), LIDS)
    t = 0.0
    for _ in range(400):
        target = rng.normal(size=3) * rng.choice([0.01, 0.3, 2.0, 1e5])
        controller.set_target(target, t)
        base = RIG.lower + rng.random(RIG.lower.size) * (RIG.upper - RIG.lower)
        out = controller.apply(base, t)
        t += DT
        assert np.all(np.isfinite(out))
        assert np.all(out >= RIG.lower - 1e-12) and np.all(out <= RIG.upper + 1e-12)


@pytest.mark.parametrize("bad", [[np.nan, 0, 0], [np.inf, 1, 0], [1, 2], "x", None, RIG.cyclops.tolist(), [1e9, 0, 0]])
def test_bad_targets_are_rejected_and_change_nothing(bad):
    controller = GazeController(RIG, QUIET)
    controller.set_target([1.0, 0.2, 0.1], 0.0)
    before, _ = run(controller, 0.3)
    assert controller.set_target(bad, 0.3) is False
    assert controller.state.rejected == 1
    after = controller.apply(None, 0.3 + DT)
    np.testing.assert_allclose(after, before, atol=1e-6)


def test_a_bad_base_command_falls_back_to_neutral_not_nan():
    controller = GazeController(RIG, QUIET)
    controller.set_target([1.0, 0.0, 0.14], 0.0)
    base = np.full(RIG.lower.size, np.nan)
    out, _ = run(controller, 0.2, base=base)
    assert np.all(np.isfinite(out)) and np.all(out >= RIG.lower) and np.all(out <= RIG.upper)


def test_blink_closes_the_lids_and_opens_them_again():
    config = GazeConfig(microsaccade_amplitude_rad=0.0, blink_interval_s=(0.5, 0.5))
    controller = GazeController(RIG, config, LIDS)
    base = RIG.neutral.copy()
    controller.set_target([1.0, 0.0, 0.14], 0.0)
    lids = []
    t = 0.0
    for _ in range(100):
        lids.append(controller.apply(base, t)[list(LIDS)])
        t += DT
    lids = np.array(lids)
    assert lids.max() == pytest.approx(0.95, abs=1e-6), "fully closed during a blink"
    assert lids[0].max() == pytest.approx(0.0) and lids[-1].max() == pytest.approx(0.0), "open before and after"
    assert 1 <= controller.state.blinks <= 2


def test_a_large_saccade_blinks():
    config = GazeConfig(microsaccade_amplitude_rad=0.0, blink_interval_s=(0.0, 0.0), saccade_blink_probability=1.0)
    controller = GazeController(RIG, config, LIDS)
    controller.set_target([1.0, 0.0, 0.14], 0.0)
    t = run(controller, 0.5)[1]
    blinks = controller.state.blinks
    controller.set_target([1.0, 0.05, 0.14], t)          # a small shift: no blink
    t = run(controller, 0.3, t)[1]
    assert controller.state.blinks == blinks
    controller.set_target([1.0, 1.0, 0.14], t)           # 45 degrees: a saccade with a blink
    assert controller.state.blinks == blinks + 1
    closed, _ = run(controller, 0.08, t)
    assert closed[list(LIDS)].min() > 0.9


def test_microsaccades_are_small_seeded_and_happen():
    def fixate(seed):
        config = GazeConfig(blink_interval_s=(0.0, 0.0), microsaccade_amplitude_rad=0.012, seed=seed, timeout_s=10.0,
                            eye_servo_tau_s=0.0)
        controller = GazeController(RIG, config)
        controller.set_target([1.0, 0.1, 0.14], 0.0)
        run(controller, 0.05)
        return np.array([controller.apply(None, 0.05 + i * DT)[[EYE_YAW, EYE_PITCH]] for i in range(500)]), controller

    track, controller = fixate(5)
    centre = np.array(look_angles(np.array([1.0, 0.1, 0.14]) - RIG.cyclops))
    offsets = np.abs(track - centre).max(axis=1)
    assert offsets.max() <= 0.012 + 0.002 and offsets.max() > 0.003, "micro-saccades of about a milliradian scale"
    assert len(np.unique(track.round(6), axis=0)) >= 2
    np.testing.assert_array_equal(fixate(5)[0], track)


def test_no_microsaccades_while_pursuing_a_moving_target():
    config = GazeConfig(blink_interval_s=(0.0, 0.0), microsaccade_amplitude_rad=0.012, eye_servo_tau_s=0.0,
                        microsaccade_interval_s=(0.1, 0.2))
    controller = GazeController(RIG, config)
    worst = 0.0
    for k in range(300):                                   # 3 s, 0.3 rad/s to the left at 2 m
        t = k * DT
        yaw = -0.45 + 0.3 * t
        target = RIG.cyclops + 2.0 * np.array([math.cos(yaw), math.sin(yaw), 0.0])
        controller.set_target(target, t)
        out = controller.apply(None, t)
        if k > 20 and out is not None:
            eyes = controller.state.eyes
            expected = (eyes["eye_left"][0] + eyes["eye_right"][0]) / 2
            worst = max(worst, abs(out[EYE_YAW] - expected))
    assert worst < 1e-3, "the eyes pursue the target without micro-saccade offsets"


def test_stale_target_eases_back_to_the_speech_models_gaze():
    config = GazeConfig(timeout_s=0.5, release_s=0.4, microsaccade_amplitude_rad=0.0, blink_interval_s=(0.0, 0.0))
    controller = GazeController(RIG, config)
    base = RIG.neutral.copy()
    base[EYE_YAW] = -0.2                                  # where the speech model looks
    controller.set_target([1.0, 0.6, 0.14], 0.0)
    held, t = run(controller, 0.5, base=base)
    assert held[EYE_YAW] > 0.2 and controller.active
    middle, t = run(controller, 0.2, t, base=base)
    assert -0.2 < middle[EYE_YAW] < held[EYE_YAW]
    back, t = run(controller, 0.3, t, base=base)
    assert back is base and not controller.active, "after timeout + release the speech model's command passes"
    controller.set_target([1.0, 0.6, 0.14], t)            # a new target engages again
    again, _ = run(controller, 0.3, t, base=base)
    assert again[EYE_YAW] > 0.2


def test_reset_drops_gaze_at_once():
    controller = GazeController(RIG, QUIET)
    controller.set_target([1.0, 0.6, 0.14], 0.0)
    run(controller, 0.5)
    controller.reset()
    base = RIG.neutral.copy()
    assert controller.apply(base, 0.5) is base and not controller.active


def test_inactive_gaze_passes_everything_through():
    controller = GazeController(RIG, QUIET)
    base = RIG.neutral + 0.01
    assert controller.apply(base, 0.0) is base
    assert controller.apply(None, 0.01) is None


def test_a_target_in_the_moving_head_frame():
    controller = GazeController(RIG, QUIET)
    controller.set_target([1.0, 2.0, 0.14], 0.0)
    out, t = run(controller, 1.5)
    assert out[NECK_YAW] > 0.5
    straight_ahead_of_head = np.array([2.0, 0.0, 0.14])
    assert controller.set_target(straight_ahead_of_head, t, frame="head")
    expected = head_rotation(RIG, out) @ straight_ahead_of_head
    np.testing.assert_allclose(controller.target, expected, atol=1e-9)


def test_eye_commands_respect_the_motor_speed():
    controller = GazeController(RIG, GazeConfig(microsaccade_amplitude_rad=0.0, blink_interval_s=(0.0, 0.0)))
    controller.set_target(RIG.cyclops + np.array([1.0, -1.0, 0.5]), 0.0)
    controller.apply(None, 0.0)  # the first tick (no time has passed) engages
    track = np.array([run(controller, DT, k * DT)[0][[EYE_YAW, EYE_PITCH]] for k in range(1, 31)])
    assert np.all(np.abs(np.diff(track, axis=0)) <= RIG.max_speed[[EYE_YAW, EYE_PITCH]] * DT + 1e-12)


def test_servo_lead_lands_a_lagging_eye_sooner_without_overshoot():
    """A first-order eye servo (the lag the lead assumes) after a 0.22 rad saccade: with the lead it is
    within 1.5 degrees sooner, and it never passes the target by more than 0.5 degrees."""
    def landing(config: GazeConfig) -> tuple[float, float]:
        controller = GazeController(RIG, config)
        target = RIG.cyclops + np.array([math.cos(0.22), math.sin(0.22), 0.0])  # eyes only: the neck stays
        goal = np.mean([look_angles(target - centre)[0] for centre in RIG.eye_centers.values()])
        controller.set_target(target, 0.0)
        servo, t, landed, overshoot, command = 0.0, 0.0, math.inf, 0.0, 0.0
        for _ in range(400):  # 1 ms steps, a command every 10 ms
            if round(t * 1000) % 10 == 0:
                sent = controller.apply(None, t)
                command = command if sent is None else sent[EYE_YAW]
            servo += (command - servo) * (1.0 - math.exp(-0.001 / 0.022))
            t += 0.001
            error = servo - goal
            overshoot = max(overshoot, error)
            if landed == math.inf and abs(error) < math.radians(1.5):
                landed = t
        return landed, overshoot

    quiet = dict(microsaccade_amplitude_rad=0.0, blink_interval_s=(0.0, 0.0), saccade_blink_probability=0.0)
    plain, plain_overshoot = landing(GazeConfig(eye_servo_tau_s=0.0, **quiet))
    lead, lead_overshoot = landing(GazeConfig(eye_servo_tau_s=0.022, eye_lead_gain=1.0, **quiet))
    assert lead < plain - 0.01, (lead, plain)
    assert lead_overshoot < math.radians(0.5) and plain_overshoot < math.radians(0.5)


def test_a_head_frame_target_uses_the_speech_models_head_pose_before_gaze_starts():
    controller = GazeController(RIG, QUIET)
    base = RIG.neutral.copy()
    base[NECK_YAW] = 0.3                                   # the speech model turned the head
    assert controller.apply(base, 0.0) is base
    assert controller.set_target([2.0, 0.0, 0.14], 0.01, frame="head")
    np.testing.assert_allclose(controller.target, head_rotation(RIG, base) @ np.array([2.0, 0.0, 0.14]))


def test_config_is_validated():
    with pytest.raises(ValueError):
        GazeConfig(eye_range_share=0.0)
    with pytest.raises(ValueError):
        GazeConfig(blink_interval_s=(3.0, 1.0))
