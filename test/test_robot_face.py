"""The robot face shows what the model says: lips that meet, a jaw that uses its travel, a pucker, emotions;
and the robot-level yardstick of `talkface eval --system robot`."""
import numpy as np
import pytest

from talkface_ros.eval.robot import RobotFace, RobotTrack, best_lag_ms, core_mask, score
from talkface_ros.face.arkit import FRAME_SIZE, INDEX
from talkface_ros.face.landmark_basis import Articulation, articulate
from talkface_ros.face.visemes import BILABIAL, OPEN_VOWEL, ROUNDED_VOWEL, SPREAD_VOWEL, VISEME_INDEX, VISEME_POSES


@pytest.fixture(scope="module")
def robot():
    return RobotFace()


def frame(**weights: float) -> np.ndarray:
    out = np.zeros(FRAME_SIZE)
    for name, value in weights.items():
        out[INDEX[name]] = value
    return out


def viseme_frame(viseme: str) -> np.ndarray:
    out = np.zeros(FRAME_SIZE)
    out[: VISEME_POSES.shape[1]] = VISEME_POSES[VISEME_INDEX[viseme]]
    return out


def test_articulate_closes_the_jaw_on_lip_closure_and_keeps_open_vowels():
    jaw = INDEX["jawOpen"]
    pp = articulate(viseme_frame("PP")[:52])
    aa = articulate(viseme_frame("aa")[:52])
    assert pp[jaw] == 0.0 and pp[INDEX["mouthLowerDownLeft"]] == 0.0
    assert aa[jaw] == pytest.approx(1.0)         # the viseme table's "aa" is the full travel
    # a captured /m/: jaw ajar but mouthClose as large -> sealed
    assert articulate(frame(jawOpen=0.3, mouthClose=0.3)[:52])[jaw] == 0.0
    # the jaw curve is monotone, 0 up to jaw_closed_below, 1 from jaw_full_at
    a = Articulation()
    values = [articulate(frame(jawOpen=j)[:52])[jaw] for j in np.linspace(0, 1, 21)]
    assert np.all(np.diff(values) >= 0)
    assert articulate(frame(jawOpen=a.jaw_closed_below)[:52])[jaw] == 0.0
    assert articulate(frame(jawOpen=1.0)[:52])[jaw] == 1.0
    # with the jaw closed the lip raisers give way (a sneer still seals); with it open they stay
    closed = articulate(frame(jawOpen=0.1, mouthUpperUpLeft=0.3)[:52])
    opened = articulate(frame(jawOpen=0.4, mouthUpperUpLeft=0.3)[:52])
    assert closed[INDEX["mouthUpperUpLeft"]] == 0.0 and opened[INDEX["mouthUpperUpLeft"]] == pytest.approx(0.3)
    # expressions are exaggerated by expression_gain (clipped at 1), other shapes pass unchanged
    shown = articulate(frame(mouthSmileLeft=0.7, browInnerUp=0.4, eyeLookInLeft=0.3)[:52])
    assert shown[INDEX["mouthSmileLeft"]] == 1.0
    assert shown[INDEX["browInnerUp"]] == pytest.approx(0.4 * a.expression_gain)
    assert shown[INDEX["eyeLookInLeft"]] == 0.3


def test_lips_meet_at_rest_and_on_bilabials(robot):
    rest = robot.settle(np.zeros(FRAME_SIZE))
    assert -0.5 <= robot.aperture_mm(rest) <= 1.0
    for weights in ({"jawOpen": 0.3, "mouthClose": 0.3}, {"jawOpen": 0.2, "mouthRollLower": 0.15}, {"jawOpen": 0.1}):
        landmarks = robot.settle(frame(**weights))
        assert robot.aperture_mm(landmarks) <= 1.0, weights
    assert robot.aperture_mm(robot.settle(viseme_frame("PP"))) <= 1.0


def test_jaw_open_one_is_the_full_jaw_travel(robot):
    d = robot.sim.description
    full = d.neutral_positions()
    full[d.joint_names.index("jaw_open")] = d.motor("jaw_open").upper
    robot.sim.reset()
    travel = robot.aperture_mm(robot.sim.settle(full, 0.5))
    opened = robot.aperture_mm(robot.settle(frame(jawOpen=1.0)))
    assert travel > 20.0
    assert opened >= 0.85 * travel
    assert robot.aperture_mm(robot.settle(viseme_frame("aa"))) >= 15.0


def test_rounded_vowels_pucker_the_mouth(robot):
    neutral = robot.settle(np.zeros(FRAME_SIZE))
    ou = robot.settle(viseme_frame("ou"))
    ih = robot.settle(viseme_frame("ih"))
    assert robot.width_mm(neutral) - robot.width_mm(ou) >= 8.0
    assert robot.width_mm(ih) > robot.width_mm(ou) + 10.0
    assert robot.protrusion_mm(ou) > 0.5


def test_expressions_move_corners_and_brows_visibly(robot):
    index = robot.index
    neutral = robot.settle(np.zeros(FRAME_SIZE))
    smile = robot.settle(frame(mouthSmileLeft=1.0, mouthSmileRight=1.0))
    frown = robot.settle(frame(mouthFrownLeft=1.0, mouthFrownRight=1.0))
    down = robot.settle(frame(browDownLeft=1.0, browDownRight=1.0))
    up = robot.settle(frame(browInnerUp=1.0))
    corner, brow = index["lip_corner_left"], index["brow_inner_left"]
    assert (smile[corner, 2] - neutral[corner, 2]) * 1e3 >= 6.0
    assert (neutral[corner, 2] - frown[corner, 2]) * 1e3 >= 4.0
    assert (neutral[brow, 2] - down[brow, 2]) * 1e3 >= 3.0
    assert (up[brow, 2] - neutral[brow, 2]) * 1e3 >= 3.0


def test_core_mask_keeps_the_middle_of_each_run():
    labels = np.array([1] * 10 + [2] * 5 + [3])
    mask = core_mask(labels, keep=0.6)
    assert mask[:10].tolist() == [False, False] + [True] * 6 + [False, False]
    assert mask[10:15].tolist() == [False, True, True, True, False]
    assert mask[15]                      # a one-frame run keeps its frame


def test_best_lag_finds_a_known_delay():
    rng = np.random.default_rng(0)
    target = np.convolve(rng.normal(size=400), np.ones(5) / 5, mode="same")
    late = np.concatenate([np.zeros(2), target[:-2]])           # 2 frames = 40 ms late
    assert best_lag_ms(late, target) == pytest.approx(40.0, abs=5.0)
    assert best_lag_ms(target, target) == pytest.approx(0.0, abs=2.0)


def test_robot_score_separates_open_from_closed_frames():
    classes = np.array([OPEN_VOWEL] * 5 + [BILABIAL] * 5 + [ROUNDED_VOWEL] * 5 + [SPREAD_VOWEL] * 5, np.uint8)
    aperture = np.array([15.0] * 5 + [0.2] * 5 + [8.0] * 5 + [6.0] * 5)
    width = np.array([52.0] * 10 + [35.0] * 5 + [55.0] * 5)
    track = RobotTrack(aperture, width, np.zeros(20), aperture, classes)
    row = score([track], core_only=False)
    assert row["open_vs_bilabial_auc"] == 1.0 and row["rounded_vs_spread_auc_width"] == 1.0
    assert row["bilabial_gap_le_1mm_share"] == 1.0 and row["open_vowel_aperture_median_mm"] == 15.0
    flipped = RobotTrack(aperture[::-1].copy(), width, np.zeros(20), aperture, classes)
    assert score([flipped], core_only=False)["open_vs_bilabial_auc"] < 0.5


def test_robot_run_follows_frames_in_real_time(robot):
    frames = np.zeros((40, FRAME_SIZE))
    frames[10:30, INDEX["jawOpen"]] = 0.6
    landmarks = robot.run(frames)
    aperture = robot.aperture_mm(landmarks)
    assert aperture[:10].max() <= 1.0 and aperture[15:30].min() >= 15.0
    assert aperture[36:].max() <= 2.0
    rises = np.argmax(aperture > 10.0)
    assert 10 <= rises <= 12                                      # within 40 ms of the frame


def test_a_frame_moves_only_the_motors_of_its_shapes(robot):
    model, names = robot.model, robot.sim.description.joint_names
    neutral = robot.sim.description.neutral_positions()
    lips = [names.index(n) for n in names if n.startswith(("upper_lip_raiser", "lower_lip_depressor", "jaw_"))]
    for weights in ({"browInnerUp": 1.0, "browOuterUpLeft": 1.0, "browOuterUpRight": 1.0, "eyeWideLeft": 1.0},
                    {"browDownLeft": 0.8, "browDownRight": 0.8}):
        commands = model.retarget(frame(**weights))
        np.testing.assert_allclose(commands[lips], neutral[lips], atol=1e-9, err_msg=str(weights))
    assert model.retarget(frame(jawOpen=0.6))[names.index("jaw_open")] > 0.2


def test_full_travel_scales_a_shape_to_its_limit_and_drops_solver_noise():
    from talkface_ros.selfmodel.train import full_travel

    neutral = np.array([0.0, 0.0, 0.5])
    shapes = np.array([[0.4, 0.03, 0.5],        # motor 0 is the shape; motor 1 is noise
                       [0.2, 0.25, 0.5],        # a string within its slack (motor 1, slack 0.3): no pull
                       [0.005, 0.0, 0.5]])      # barely reached: kept as solved
    scaled, gains = full_travel(shapes, neutral, max_gain=4.0, slack_unit=np.array([-np.inf, 0.3, -np.inf]))
    np.testing.assert_allclose(scaled[0], [1.0, 0.0, 0.5])
    assert gains[0] == pytest.approx(2.5)
    np.testing.assert_allclose(scaled[1], [0.8, 0.0, 0.5])      # gain capped at max_gain (4)
    np.testing.assert_allclose(scaled[2], shapes[2])
    only_first, _ = full_travel(shapes, neutral, 4.0, scaled=np.array([False, True, True]))
    np.testing.assert_allclose(only_first[0], [0.4, 0.0, 0.5])   # denoised, not scaled
