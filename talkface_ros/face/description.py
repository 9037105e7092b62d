"""The face description (config/face.yaml): motors, rigid bodies, skin nodes, landmarks (contract E).

Everything that knows about the robot face's layout is generated from this one file: the URDF, the
ros2_control controllers, the rviz config and the MuJoCo model. `load_face_description()` validates it
and raises `FaceDescriptionError` with the offending entry named (unknown fields, limits reversed,
neutral outside limits, duplicate names or driver channels, dangling references).
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from talkface_ros.hardware.calibration import BUSES, KINDS, CalibrationError, JointCalibration


class FaceDescriptionError(ValueError):
    """The face description cannot be used; the message names the entry and the problem."""


@dataclass(frozen=True)
class HingeJoint:
    body: str
    axis: tuple[float, float, float]


@dataclass(frozen=True)
class TendonSpec:
    node: str
    anchor: tuple[float, float, float]
    anchor_body: str = "head"
    slack: float = 0.0
    stiffness: float = 2500.0


@dataclass(frozen=True)
class Motor:
    name: str
    kind: str                      # "rigid" | "tendon"
    lower: float
    upper: float
    neutral: float
    max_speed: float
    bus: str
    channel: int
    raw_at_lower: float
    raw_at_upper: float
    joints: tuple[HingeJoint, ...] = ()
    tendon: TendonSpec | None = None

    def calibration(self) -> JointCalibration:
        return JointCalibration(joint=self.name, bus=self.bus, channel=self.channel, kind=self.kind,
                                lower=self.lower, upper=self.upper, neutral=self.neutral,
                                max_speed=self.max_speed, raw_at_lower=self.raw_at_lower,
                                raw_at_upper=self.raw_at_upper)


@dataclass(frozen=True)
class Body:
    name: str
    parent: str
    pivot: tuple[float, float, float]


@dataclass(frozen=True)
class SkinNode:
    name: str
    pos: tuple[float, float, float]
    body: str = "head"


@dataclass(frozen=True)
class Landmark:
    name: str
    region: str
    node: str | None = None
    body: str | None = None
    pos: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class SkinParams:
    mass: float = 0.004
    stiffness: float = 120.0
    damping: float = 1.5
    stretch_limit: float = 0.009
    spring_stiffness: float = 60.0


@dataclass(frozen=True)
class FaceDescription:
    name: str
    skin: SkinParams
    bodies: tuple[Body, ...]
    motors: tuple[Motor, ...]
    skin_nodes: tuple[SkinNode, ...]
    skin_springs: tuple[tuple[str, str], ...]
    landmarks: tuple[Landmark, ...]
    regions: dict[str, str] = field(default_factory=dict)
    source_sha256: str = ""

    @property
    def joint_names(self) -> list[str]:
        """Controller order: the order of the motors in the YAML."""
        return [m.name for m in self.motors]

    @property
    def landmark_names(self) -> list[str]:
        return [lm.name for lm in self.landmarks]

    def motor(self, name: str) -> Motor:
        for m in self.motors:
            if m.name == name:
                return m
        raise KeyError(name)

    def calibrations(self) -> list[JointCalibration]:
        return [m.calibration() for m in self.motors]

    def neutral_positions(self) -> np.ndarray:
        return np.array([m.neutral for m in self.motors], dtype=np.float64)

    def lower_limits(self) -> np.ndarray:
        return np.array([m.lower for m in self.motors], dtype=np.float64)

    def upper_limits(self) -> np.ndarray:
        return np.array([m.upper for m in self.motors], dtype=np.float64)

    def max_speeds(self) -> np.ndarray:
        return np.array([m.max_speed for m in self.motors], dtype=np.float64)

    def tendon_mask(self) -> np.ndarray:
        return np.array([m.kind == "tendon" for m in self.motors], dtype=bool)

    def neck_motors(self) -> list[str]:
        """Motors that move the whole head (hinges on the `head` body): driven by the head pose directly."""
        return [m.name for m in self.motors if any(j.body == "head" for j in m.joints)]

    def landmark_kinds(self) -> list[str]:
        """'rigid' or 'tendon' per landmark, from its region."""
        return [self.regions.get(lm.region, "rigid") for lm in self.landmarks]


_TOP = {"name", "skin", "bodies", "motors", "skin_nodes", "skin_springs", "landmarks", "regions"}
_MOTOR = {"name", "kind", "lower", "upper", "neutral", "max_speed", "driver", "calibration", "joints", "tendon"}
_TENDON = {"node", "anchor", "anchor_body", "slack", "stiffness"}


def _fields(entry: Any, allowed: set[str], where: str, required: set[str] = frozenset()) -> dict:
    if not isinstance(entry, dict):
        raise FaceDescriptionError(f"{where}: expected a mapping, got {type(entry).__name__}")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise FaceDescriptionError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    missing = sorted(set(required) - set(entry))
    if missing:
        raise FaceDescriptionError(f"{where}: missing field(s) {missing}")
    return entry


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FaceDescriptionError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _vec3(value: Any, where: str) -> tuple[float, float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise FaceDescriptionError(f"{where}: expected [x, y, z], got {value!r}")
    return tuple(_number(v, where) for v in value)  # type: ignore[return-value]


def _unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise FaceDescriptionError(f"duplicate {what} name {name!r}")
        seen.add(name)


def _parse_motor(entry: Any, index: int, bodies: set[str], nodes: set[str]) -> Motor:
    where = f"motors[{index}]"
    entry = _fields(entry, _MOTOR, where, {"name", "kind", "lower", "upper", "neutral", "max_speed", "driver",
                                           "calibration"})
    name = str(entry["name"])
    where = f"motor {name!r}"
    kind = entry["kind"]
    if kind not in KINDS:
        raise FaceDescriptionError(f"{where}: kind must be one of {KINDS}, got {kind!r}")
    lower, upper, neutral = (_number(entry[k], f"{where}.{k}") for k in ("lower", "upper", "neutral"))
    if not lower < upper:
        raise FaceDescriptionError(f"{where}: limits reversed or empty (lower {lower} >= upper {upper})")
    if not lower <= neutral <= upper:
        raise FaceDescriptionError(f"{where}: neutral {neutral} outside [{lower}, {upper}]")
    max_speed = _number(entry["max_speed"], f"{where}.max_speed")
    if max_speed <= 0:
        raise FaceDescriptionError(f"{where}: max_speed must be > 0, got {max_speed}")
    driver = _fields(entry["driver"], {"bus", "channel"}, f"{where}.driver", {"bus", "channel"})
    if driver["bus"] not in BUSES:
        raise FaceDescriptionError(f"{where}.driver: bus must be one of {BUSES}, got {driver['bus']!r}")
    channel = driver["channel"]
    if isinstance(channel, bool) or not isinstance(channel, int) or channel < 0:
        raise FaceDescriptionError(f"{where}.driver: channel must be a non-negative integer, got {channel!r}")
    calib = _fields(entry["calibration"], {"raw_at_lower", "raw_at_upper"}, f"{where}.calibration",
                    {"raw_at_lower", "raw_at_upper"})
    joints: tuple[HingeJoint, ...] = ()
    tendon: TendonSpec | None = None
    if kind == "rigid":
        if "tendon" in entry:
            raise FaceDescriptionError(f"{where}: a rigid motor has `joints`, not `tendon`")
        raw_joints = entry.get("joints")
        if not isinstance(raw_joints, list) or not raw_joints:
            raise FaceDescriptionError(f"{where}: a rigid motor needs a non-empty `joints` list")
        parsed = []
        for j, joint in enumerate(raw_joints):
            joint = _fields(joint, {"body", "axis"}, f"{where}.joints[{j}]", {"body", "axis"})
            if joint["body"] not in bodies:
                raise FaceDescriptionError(f"{where}.joints[{j}]: unknown body {joint['body']!r}")
            axis = np.array(_vec3(joint["axis"], f"{where}.joints[{j}].axis"))
            if np.linalg.norm(axis) < 1e-9:
                raise FaceDescriptionError(f"{where}.joints[{j}]: zero axis")
            parsed.append(HingeJoint(joint["body"], tuple(float(a) for a in axis / np.linalg.norm(axis))))
        joints = tuple(parsed)
    else:
        if "joints" in entry:
            raise FaceDescriptionError(f"{where}: a tendon motor has `tendon`, not `joints`")
        if lower < 0:
            raise FaceDescriptionError(f"{where}: a tendon only pulls: lower must be >= 0 (metres of pull), "
                                       f"got {lower}")
        t = _fields(entry.get("tendon"), _TENDON, f"{where}.tendon", {"node", "anchor"})
        if t["node"] not in nodes:
            raise FaceDescriptionError(f"{where}.tendon: unknown skin node {t['node']!r}")
        anchor_body = t.get("anchor_body", "head")
        if anchor_body not in bodies:
            raise FaceDescriptionError(f"{where}.tendon: unknown anchor_body {anchor_body!r}")
        slack = _number(t.get("slack", 0.0), f"{where}.tendon.slack")
        stiffness = _number(t.get("stiffness", 2500.0), f"{where}.tendon.stiffness")
        if slack < 0 or stiffness <= 0:
            raise FaceDescriptionError(f"{where}.tendon: need slack >= 0 and stiffness > 0")
        tendon = TendonSpec(t["node"], _vec3(t["anchor"], f"{where}.tendon.anchor"), anchor_body, slack, stiffness)
    motor = Motor(name, kind, lower, upper, neutral, max_speed, driver["bus"], channel,
                  _number(calib["raw_at_lower"], f"{where}.calibration.raw_at_lower"),
                  _number(calib["raw_at_upper"], f"{where}.calibration.raw_at_upper"), joints, tendon)
    try:
        motor.calibration()
    except CalibrationError as error:
        raise FaceDescriptionError(f"{where}: {error}") from None
    return motor


def parse_face_description(data: Any, source_sha256: str = "") -> FaceDescription:
    """Validate a parsed YAML document and build the description."""
    data = _fields(data, _TOP, "face description", {"name", "motors", "landmarks"})
    skin_raw = _fields(data.get("skin", {}) or {}, set(SkinParams.__dataclass_fields__), "skin")
    skin = SkinParams(**{k: _number(v, f"skin.{k}") for k, v in skin_raw.items()})
    if min(skin.mass, skin.stiffness, skin.damping, skin.stretch_limit) <= 0 or skin.spring_stiffness < 0:
        raise FaceDescriptionError("skin: mass, stiffness, damping and stretch_limit must be > 0")

    bodies: list[Body] = []
    raw_bodies = data.get("bodies", {}) or {}
    if not isinstance(raw_bodies, dict):
        raise FaceDescriptionError("bodies: expected a mapping name -> {parent, pivot}")
    known_bodies = {"head"}
    for name, entry in raw_bodies.items():
        entry = _fields(entry, {"parent", "pivot"}, f"body {name!r}", {"pivot"})
        parent = entry.get("parent", "head")
        if parent not in known_bodies:
            raise FaceDescriptionError(f"body {name!r}: parent {parent!r} must be head or a body listed before it")
        if name in known_bodies:
            raise FaceDescriptionError(f"duplicate body name {name!r}")
        bodies.append(Body(str(name), parent, _vec3(entry["pivot"], f"body {name!r}.pivot")))
        known_bodies.add(str(name))

    nodes: list[SkinNode] = []
    for i, entry in enumerate(data.get("skin_nodes", []) or []):
        entry = _fields(entry, {"name", "pos", "body"}, f"skin_nodes[{i}]", {"name", "pos"})
        body = entry.get("body", "head")
        if body not in known_bodies:
            raise FaceDescriptionError(f"skin node {entry['name']!r}: unknown body {body!r}")
        nodes.append(SkinNode(str(entry["name"]), _vec3(entry["pos"], f"skin node {entry['name']!r}.pos"), body))
    _unique([n.name for n in nodes], "skin node")
    node_names = {n.name for n in nodes}

    if not isinstance(data["motors"], list) or not data["motors"]:
        raise FaceDescriptionError("motors: expected a non-empty list")
    motors = [_parse_motor(entry, i, known_bodies, node_names) for i, entry in enumerate(data["motors"])]
    _unique([m.name for m in motors], "motor")
    channels: dict[tuple[str, int], str] = {}
    for m in motors:
        key = (m.bus, m.channel)
        if key in channels:
            raise FaceDescriptionError(f"motors {channels[key]!r} and {m.name!r} share {m.bus} channel {m.channel}")
        channels[key] = m.name

    landmarks: list[Landmark] = []
    for i, entry in enumerate(data["landmarks"] or []):
        entry = _fields(entry, {"name", "region", "node", "body", "pos"}, f"landmarks[{i}]", {"name", "region"})
        where = f"landmark {entry['name']!r}"
        if ("node" in entry) == ("body" in entry):
            raise FaceDescriptionError(f"{where}: give exactly one of `node` or `body` + `pos`")
        if "node" in entry:
            if entry["node"] not in node_names:
                raise FaceDescriptionError(f"{where}: unknown skin node {entry['node']!r}")
            landmarks.append(Landmark(str(entry["name"]), str(entry["region"]), node=entry["node"]))
        else:
            if entry["body"] not in known_bodies:
                raise FaceDescriptionError(f"{where}: unknown body {entry['body']!r}")
            if "pos" not in entry:
                raise FaceDescriptionError(f"{where}: a body landmark needs `pos`")
            landmarks.append(Landmark(str(entry["name"]), str(entry["region"]), body=entry["body"],
                                      pos=_vec3(entry["pos"], f"{where}.pos")))
    if not landmarks:
        raise FaceDescriptionError("landmarks: expected a non-empty list")
    _unique([lm.name for lm in landmarks], "landmark")

    springs: list[tuple[str, str]] = []
    point_names = node_names | {lm.name for lm in landmarks if lm.body is not None}
    for i, pair in enumerate(data.get("skin_springs", []) or []):
        if not isinstance(pair, list) or len(pair) != 2:
            raise FaceDescriptionError(f"skin_springs[{i}]: expected [a, b], got {pair!r}")
        for name in pair:
            if name not in point_names:
                raise FaceDescriptionError(f"skin_springs[{i}]: {name!r} is neither a skin node nor a body landmark")
        springs.append((str(pair[0]), str(pair[1])))

    regions = data.get("regions", {}) or {}
    if not isinstance(regions, dict):
        raise FaceDescriptionError("regions: expected a mapping region -> rigid|tendon")
    for region, kind in regions.items():
        if kind not in KINDS:
            raise FaceDescriptionError(f"regions.{region}: expected rigid or tendon, got {kind!r}")
    for lm in landmarks:
        if lm.region not in regions:
            raise FaceDescriptionError(f"landmark {lm.name!r}: region {lm.region!r} is not listed under `regions`")
    return FaceDescription(str(data["name"]), skin, tuple(bodies), tuple(motors), tuple(nodes), tuple(springs),
                           tuple(landmarks), dict(regions), source_sha256)


def load_face_description(path: str | Path | None = None) -> FaceDescription:
    """Load and validate the face description (default: the package's config/face.yaml)."""
    if path is None or str(path) == "":
        from talkface_ros.paths import config_path

        path = config_path("face.yaml")
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise FaceDescriptionError(f"cannot read the face description {path}: {error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise FaceDescriptionError(f"{path}: not valid YAML: {error}") from None
    try:
        return parse_face_description(data, hashlib.sha256(text.encode()).hexdigest())
    except FaceDescriptionError as error:
        raise FaceDescriptionError(f"{path}: {error}") from None
