"""The robot-level yardstick: what the simulated robot face shows, not what the model says.

Model frames (50 Hz) go through what runs on the robot: the retargeter (self-model inverse + safety layer:
limits, slew rates) ticked at the control rate, and the MuJoCo face stepped in real time between ticks.
The robot's own landmarks are then scored like the blendshapes are:
- aperture: upper minus lower lip centre (inner margins, head frame), mm; ~0 when the lips touch;
- width: mouth corner to corner, mm (rounded vowels narrow it); protrusion: lip centres forward of rest, mm;
- open-vs-bilabial AUC of aperture, rounded-vs-spread AUC of -width and of protrusion;
- lip gap on p/b/m frames (share <= 1 mm), aperture on open vowels (median mm);
- delay: the lag (ms) that best aligns the robot's aperture with the aperture its targets ask for.
Every number is given on all labelled frames and on the middle 60 % of each labelled run (aligner
boundaries are good to ~20 ms, so frames near them carry label noise, not lip-sync error).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE
from talkface_ros.eval import metrics
from talkface_ros.eval.metrics import core_mask
from talkface_ros.face.visemes import BILABIAL, OPEN_VOWEL, ROUNDED_VOWEL, SPREAD_VOWEL

log = logging.getLogger(__name__)
FRAME_RATE = 50.0
# landmark regions that carry emotion on this face (the mouth's opening does not)
EMOTION_REGIONS = ("brow", "eyelid", "cheek", "nose", "lip_corner")


@dataclass(frozen=True)
class RobotRunConfig:
    control_rate: float = 100.0        # retarget + safety ticks per second, as face_retarget's default
    advance_frames: int = 0            # frame t is sent this many frames early (what lookahead audio would allow)
    lead_frames: float = 1.0           # the retargeter's phase lead (RetargetConfig.lead_frames, face_retarget's)


class RobotFace:
    """Frames [T, 55] -> the simulated robot's landmarks [T, L, 3] (head frame, m), stepped in real time.

    Landmarks of frame t are read at the end of its 20 ms period, as a camera would see the face then."""

    def __init__(self, model=None, sim=None, config: RobotRunConfig = RobotRunConfig()) -> None:
        from talkface_ros.face.description import load_face_description
        from talkface_ros.selfmodel.model import SelfModel
        from talkface_ros.selfmodel.retarget import RetargetConfig, Retargeter
        from talkface_ros.selfmodel.safety import SafetyLimits
        from talkface_ros.sim.face_sim import FaceSim

        self.sim = sim or FaceSim(load_face_description())
        self.model = model or SelfModel.load()
        self.model.check_matches(self.sim.description.joint_names)
        self.config = config
        self._make_retargeter = lambda: Retargeter(self.model, SafetyLimits.from_description(self.sim.description),
                                                   RetargetConfig(frame_period_s=1.0 / FRAME_RATE,
                                                                  lead_frames=config.lead_frames))
        names = self.sim.description.landmark_names
        self.index = {n: i for i, n in enumerate(names)}
        self.regions = [lm.region for lm in self.sim.description.landmarks]
        self.sim.reset()
        self.neutral = self.sim.settle(self.sim.description.neutral_positions(), 0.5)

    def run(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames, dtype=np.float64)
        retargeter = self._make_retargeter()
        self.sim.reset()
        self.sim.settle(self.sim.description.neutral_positions(), 0.3)
        ticks = max(1, int(round(self.config.control_rate / FRAME_RATE)))
        tick_s = 1.0 / (FRAME_RATE * ticks)
        advance = self.config.advance_frames
        out = np.zeros((len(frames), len(self.index), 3))
        now = 0.0
        for t in range(len(frames)):
            retargeter.push_frame(frames[min(t + advance, len(frames) - 1)], now)
            for _ in range(ticks):
                self.sim.set_command(retargeter.tick(now))
                self.sim.step(tick_s)
                now += tick_s
            out[t] = self.sim.landmarks()
        return out

    def settle(self, frame: np.ndarray, seconds: float = 0.5) -> np.ndarray:
        """One frame held until the face is static (pictures, unit checks)."""
        self.sim.reset()
        return self.sim.settle(self.model.retarget(np.asarray(frame, dtype=np.float64)), seconds)

    # -- what is measured on landmarks [..., L, 3] --
    def aperture_mm(self, landmarks: np.ndarray) -> np.ndarray:
        upper, lower = self.index["upper_lip_center"], self.index["lower_lip_center"]
        return (landmarks[..., upper, 2] - landmarks[..., lower, 2]) * 1e3

    def width_mm(self, landmarks: np.ndarray) -> np.ndarray:
        return (landmarks[..., self.index["lip_corner_left"], 1] - landmarks[..., self.index["lip_corner_right"], 1]) * 1e3

    def protrusion_mm(self, landmarks: np.ndarray) -> np.ndarray:
        centres = [self.index["upper_lip_center"], self.index["lower_lip_center"]]
        return (landmarks[..., centres, 0].mean(-1) - self.neutral[centres, 0].mean()) * 1e3

    def emotion_features(self, landmarks: np.ndarray) -> np.ndarray:
        """Mean displacement from neutral of the emotion-carrying landmarks over an utterance [3 * L_e]."""
        keep = [i for i, region in enumerate(self.regions) if region in EMOTION_REGIONS]
        return ((landmarks[:, keep] - self.neutral[keep]) * 1e3).mean(axis=0).ravel()


def best_lag_ms(achieved: np.ndarray, target: np.ndarray, max_lag: int = 10) -> float:
    """The shift (ms, positive = the robot is late) maximising the correlation of two series, refined to a
    fraction of a frame by a parabola through the best three."""
    a, b = np.asarray(achieved, np.float64), np.asarray(target, np.float64)
    a, b = a - a.mean(), b - b.mean()
    n = len(a)
    scores = {}
    for lag in range(-max_lag, max_lag + 1):
        x, y = (a[lag:], b[: n - lag]) if lag >= 0 else (a[: n + lag], b[-lag:])
        denom = np.sqrt((x * x).sum() * (y * y).sum())
        scores[lag] = (x * y).sum() / denom if denom > 0 else -np.inf
    best = max(scores, key=scores.get)
    shift = 0.0
    if -max_lag < best < max_lag:
        left, mid, right = scores[best - 1], scores[best], scores[best + 1]
        curvature = left - 2 * mid + right
        if curvature < 0:
            shift = 0.5 * (left - right) / curvature
    return (best + shift) * 1000.0 / FRAME_RATE


@dataclass
class RobotTrack:
    """One utterance on the robot: per-frame measures and the phone classes."""
    aperture: np.ndarray
    width: np.ndarray
    protrusion: np.ndarray
    target_aperture: np.ndarray
    phone_class: np.ndarray


def track(robot: RobotFace, frames: np.ndarray, phone_class: np.ndarray) -> RobotTrack:
    from talkface_ros.face.landmark_basis import LandmarkBasis

    landmarks = robot.run(frames)
    basis = LandmarkBasis(robot.sim.description, robot.model.neutral_landmarks,
                          robot.model.tensors["basis.robot"], articulated=robot.model.articulated,
                          articulation=robot.model.articulation)
    n = min(len(frames), len(phone_class))
    return RobotTrack(robot.aperture_mm(landmarks)[:n], robot.width_mm(landmarks)[:n],
                      robot.protrusion_mm(landmarks)[:n], robot.aperture_mm(basis.targets(frames))[:n],
                      np.asarray(phone_class)[:n].astype(np.uint8))


def score(tracks: list[RobotTrack], core_only: bool) -> dict:
    """The robot's lip-sync numbers pooled over utterances (core_only: middle 60 % of each labelled run)."""
    def pooled(field: str) -> np.ndarray:
        return np.concatenate([getattr(t, field)[core_mask(t.phone_class)] if core_only else getattr(t, field)
                               for t in tracks])

    aperture, width, protrusion = pooled("aperture"), pooled("width"), pooled("protrusion")
    target = pooled("target_aperture")
    pc = pooled("phone_class")
    open_vowel, bilabial = (pc & OPEN_VOWEL) != 0, (pc & BILABIAL) != 0
    rounded, spread = (pc & ROUNDED_VOWEL) != 0, (pc & SPREAD_VOWEL) != 0
    gap = np.maximum(aperture[bilabial], 0.0)
    return {
        "open_vs_bilabial_auc": round(metrics.roc_auc(aperture[open_vowel], aperture[bilabial]), 3),
        # the same on the aperture the targets ask for: what the mapping keeps, before servos and skin
        "target_open_vs_bilabial_auc": (round(metrics.roc_auc(target[open_vowel], target[bilabial]), 3)
                                        if np.isfinite(target).all() else None),
        "rounded_vs_spread_auc_width": round(metrics.roc_auc(-width[rounded], -width[spread]), 3),
        "rounded_vs_spread_auc_protrusion": round(metrics.roc_auc(protrusion[rounded], protrusion[spread]), 3),
        "bilabial_gap_le_1mm_share": round(float(np.mean(gap <= 1.0)), 3) if gap.size else None,
        "bilabial_gap_median_mm": round(float(np.median(gap)), 2) if gap.size else None,
        "open_vowel_aperture_median_mm": round(float(np.median(aperture[open_vowel])), 1) if open_vowel.any() else None,
        "frames": {"open_vowel": int(open_vowel.sum()), "bilabial": int(bilabial.sum()),
                   "rounded": int(rounded.sum()), "spread": int(spread.sum())},
    }


def delay_ms(tracks: list[RobotTrack]) -> float:
    """How late the robot's aperture follows the aperture its targets ask for (pooled correlation)."""
    achieved = np.concatenate([t.aperture for t in tracks])
    target = np.concatenate([t.target_aperture for t in tracks])
    return round(best_lag_ms(achieved, target), 1)


def emotion_accuracy(features: list[np.ndarray], labels: list[str]) -> float:
    """Leave-one-out nearest-centroid accuracy of the emotion label from per-utterance robot features."""
    return metrics.nearest_centroid_accuracy(np.stack(features), labels)


def evaluate_robot(system, items: list, set_name: str, robot: RobotFace, emotion_utterances: int = 0) -> list[dict]:
    """Rows for `talkface eval --system robot`: the model's frames on the robot, scored on all labelled
    frames and on the middle 60 % of each; with `emotion_utterances`, that many utterances are also
    animated with each of the 7 emotions (intensity 1) and the emotion is classified from the robot's
    landmarks, with each emotion's lip-sync AUCs beside neutral's."""
    from talkface_ros.eval.evaluate import run_system
    from talkface_ros.face.emotion import EMOTIONS

    tracks = []
    for item in items:
        frames = run_system(system, item)
        tracks.append(track(robot, frames, item.phone_class))
    seconds = round(sum(len(i.audio) for i in items) / MODEL_SAMPLE_RATE, 1)
    rows = [{"set": set_name, "scoring": scoring, "utts": len(items), "seconds": seconds,
             **score(tracks, core_only=scoring == "core60"), "delay_ms": delay_ms(tracks)}
            for scoring in ("core60", "full")]
    if emotion_utterances and hasattr(system, "set_emotion"):
        subset = [i for i in items if len(i.audio) >= MODEL_SAMPLE_RATE * 0.8][:emotion_utterances] or items[:emotion_utterances]
        features, labels, by_emotion = [], [], {}
        for emotion in EMOTIONS:
            emotion_tracks = []
            for item in subset:
                system.reset()
                item_emotion = type(item)(**{**item.__dict__, "emotion": emotion, "intensity": 1.0})
                frames = run_system(system, item_emotion)
                landmarks = robot.run(frames)
                features.append(robot.emotion_features(landmarks))
                labels.append(emotion)
                n = min(len(frames), len(item.phone_class))
                emotion_tracks.append(RobotTrack(robot.aperture_mm(landmarks)[:n], robot.width_mm(landmarks)[:n],
                                                 robot.protrusion_mm(landmarks)[:n], np.full(n, np.nan),
                                                 np.asarray(item.phone_class)[:n].astype(np.uint8)))
            by_emotion[emotion] = score(emotion_tracks, core_only=True)
        accuracy = emotion_accuracy(features, labels)
        for emotion, row in by_emotion.items():
            rows.append({"set": f"{set_name}:{emotion}", "scoring": "core60", "utts": len(subset),
                         "seconds": round(sum(len(i.audio) for i in subset) / MODEL_SAMPLE_RATE, 1), **row,
                         "emotion_acc": round(accuracy, 3)})
    return rows


ROBOT_COLUMNS = ("set", "scoring", "utts", "seconds", "open_vs_bilabial_auc", "target_open_vs_bilabial_auc",
                 "rounded_vs_spread_auc_width",
                 "rounded_vs_spread_auc_protrusion", "bilabial_gap_le_1mm_share", "bilabial_gap_median_mm",
                 "open_vowel_aperture_median_mm", "delay_ms", "emotion_acc")


def format_robot_table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(ROBOT_COLUMNS) + " |", "|" + "---|" * len(ROBOT_COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join("n/a" if row.get(c) is None else str(row.get(c)) for c in ROBOT_COLUMNS) + " |")
    return "\n".join(lines)
