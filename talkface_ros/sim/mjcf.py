"""The MuJoCo model (MJCF) of the face, generated from the face description.

- Rigid motors: hinge joints on their bodies, each driven by a stiff position actuator.
- Tendon motors: a spatial tendon from an anchor (the reel's exit point on the skull or jaw) to a soft
  skin node. The actuator is a position servo on the tendon length with force range [-F, 0]: the string
  only pulls, and only once the reel has taken up the slack. Skin nodes are point masses on three slide
  joints with a spring to rest and a stretch limit, coupled to their neighbours by spring tendons, so a
  tendon pull moves several landmarks, nonlinearly (slack, stretch limits, changing pull directions).
- Visual (no physics; talkface_ros/sim/face_visual.py): the skin as two meshes cut along the mouth (a face
  shell ending at the upper lip, a jaw shell with the chin that drops with the jaw), a dark cavity with
  teeth and a tongue behind the lips, eyes, lids, nose and ears. Lips and brows are drawn at render time
  as splines through their landmarks (talkface_ros/sim/render.py). Landmark sites are in site group 4,
  hidden unless a renderer enables that group.
"""
from __future__ import annotations

import numpy as np

from talkface_ros.face.description import FaceDescription
from talkface_ros.sim.face_visual import CAVITY_RGBA, TEETH_RGBA, TONGUE_RGBA, mesh_xml, mouth_shape, shell_meshes

SKIN_RGBA = "0.93 0.78 0.66 1"
LANDMARK_GROUP = 4
TIMESTEP = 0.002
LIP_PAD_RADIUS = 0.001   # m: upper pads sit above the lip margin, lower pads below, touching at rest
RIGID_KP = 40.0
TENDON_MAX_FORCE = 60.0


def _f(values) -> str:
    return " ".join(f"{float(v):.6g}" for v in np.atleast_1d(values))


def _teeth(name: str, pad: str, g: str, front: list[float], half_height: float, pivot: np.ndarray) -> list[str]:
    """Six front teeth along an arch whose front is at `front` (head frame), in the body's frame."""
    radius, out = 0.023, []
    for k in range(6):
        angle = (k - 2.5) * 0.185
        pos = np.array([front[0] - radius + radius * np.cos(angle), radius * np.sin(angle), front[2]]) - pivot
        out.append(f'{pad}<geom name="{name}_{k}" type="box" pos="{_f(pos)}" euler="0 0 {angle:.4g}" '
                   f'size="0.0013 0.0021 {half_height:.4g}" rgba="{_f(TEETH_RGBA)}" {g}/>')
    return out


def _look_at(pos, target) -> str:
    """MJCF camera xyaxes for a camera at `pos` looking at `target`, z up."""
    forward = np.asarray(target, float) - np.asarray(pos, float)
    forward /= np.linalg.norm(forward)
    x = np.cross(forward, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    return _f(np.concatenate([x, np.cross(x, forward)]))


def rigid_joint_names(description: FaceDescription) -> dict[str, list[str]]:
    """motor name -> MJCF hinge joint names."""
    out: dict[str, list[str]] = {}
    for m in description.motors:
        if m.kind == "rigid":
            out[m.name] = [m.name if len(m.joints) == 1 else f"{m.name}__{i}" for i in range(len(m.joints))]
    return out


def tendon_rest_lengths(description: FaceDescription) -> dict[str, float]:
    """Tendon motor -> anchor-to-node distance at rest (the head frame, everything neutral)."""
    nodes = {n.name: np.array(n.pos) for n in description.skin_nodes}
    return {m.name: float(np.linalg.norm(np.array(m.tendon.anchor) - nodes[m.tendon.node]))
            for m in description.motors if m.kind == "tendon"}


def build_mjcf(description: FaceDescription) -> str:
    d = description
    pivots = {"head": np.zeros(3)}
    pivots.update({b.name: np.array(b.pivot) for b in d.bodies})
    children: dict[str, list[str]] = {"head": []}
    for b in d.bodies:
        children.setdefault(b.parent, []).append(b.name)
        children.setdefault(b.name, [])
    joints_of: dict[str, list[tuple[str, tuple, float, float]]] = {name: [] for name in pivots}
    joint_names = rigid_joint_names(d)
    for m in d.motors:
        if m.kind == "rigid":
            for joint, jname in zip(m.joints, joint_names[m.name]):
                joints_of[joint.body].append((jname, joint.axis, m.lower, m.upper))
    nodes_of: dict[str, list] = {name: [] for name in pivots}
    for n in d.skin_nodes:
        nodes_of[n.body].append(n)
    landmarks_of: dict[str, list] = {name: [] for name in pivots}
    node_landmarks: dict[str, list[str]] = {}
    # skin nodes that are lip margins -> "upper_lip" | "lower_lip" (they get contact pads)
    lip_side = {lm.node: lm.region for lm in d.landmarks
                if lm.node is not None and lm.region in ("upper_lip", "lower_lip")}
    for lm in d.landmarks:
        if lm.body is not None:
            landmarks_of[lm.body].append(lm)
        else:
            node_landmarks.setdefault(lm.node, []).append(lm.name)
    anchors_of: dict[str, list] = {name: [] for name in pivots}
    for m in d.motors:
        if m.kind == "tendon":
            anchors_of[m.tendon.anchor_body].append(m)
    s = d.skin
    shape = mouth_shape(d)

    def visuals(name: str, pad: str) -> list[str]:
        p = pivots[name]
        rel = lambda v: _f(np.array(v) - p)  # noqa: E731 - head frame -> body frame
        g = 'contype="0" conaffinity="0"'
        if name == "head":
            z = shape.z_lip
            out = [
                f'{pad}<geom name="face_shell" type="mesh" mesh="face_shell" rgba="{SKIN_RGBA}" {g}/>',
                f'{pad}<geom name="cheek_flap" type="mesh" mesh="cheek_flap" rgba="{SKIN_RGBA}" {g}/>',
                f'{pad}<geom name="neck" type="capsule" fromto="-0.012 0 -0.08 -0.012 0 0.03" size="0.046" rgba="{SKIN_RGBA}" {g}/>',
                f'{pad}<geom name="nose" type="ellipsoid" pos="0.094 0 0.112" size="0.016 0.012 0.026" euler="0 -0.3 0" rgba="0.92 0.74 0.62 1" {g}/>',
                f'{pad}<geom name="ear_left" type="ellipsoid" pos="0.0 0.075 0.13" size="0.012 0.006 0.022" rgba="{SKIN_RGBA}" {g}/>',
                f'{pad}<geom name="ear_right" type="ellipsoid" pos="0.0 -0.075 0.13" size="0.012 0.006 0.022" rgba="{SKIN_RGBA}" {g}/>',
                # the mouth's inside, seen only between parted lips: a dark cavity and the upper teeth
                f'{pad}<geom name="mouth_cavity" type="ellipsoid" pos="{_f([0.04, 0, z - 0.004])}" size="0.031 0.027 0.026" rgba="{_f(CAVITY_RGBA)}" {g}/>',
            ]
            return out + _teeth("teeth_upper", pad, g, [0.0775, 0.0, z + 0.0016], 0.0034, np.zeros(3))
        if name == "jaw":
            z = shape.z_lip
            return [f'{pad}<geom name="jaw_shell" type="mesh" mesh="jaw_shell" rgba="{SKIN_RGBA}" {g}/>',
                    f'{pad}<geom name="mouth_floor" type="ellipsoid" pos="{rel([0.048, 0, z - 0.01])}" size="0.026 0.025 0.01" rgba="{_f(CAVITY_RGBA)}" {g}/>',
                    f'{pad}<geom name="tongue" type="ellipsoid" pos="{rel([0.055, 0, z - 0.0065])}" size="0.019 0.016 0.0045" rgba="{_f(TONGUE_RGBA)}" {g}/>',
                    *_teeth("teeth_lower", pad, g, [0.0755, 0.0, z - 0.0022], 0.0031, p)]
        if name.startswith("eye_"):
            return [f'{pad}<geom name="{name}_ball" type="sphere" size="0.013" rgba="0.97 0.97 0.95 1" {g}/>',
                    f'{pad}<geom name="{name}_iris" type="sphere" pos="0.0092 0 0" size="0.0052" rgba="0.2 0.35 0.55 1" {g}/>',
                    f'{pad}<geom name="{name}_pupil" type="sphere" pos="0.0118 0 0" size="0.0026" rgba="0.02 0.02 0.02 1" {g}/>']
        if name.startswith("lid_upper"):
            return [f'{pad}<geom name="{name}_plate" type="ellipsoid" pos="0.0048 0 0.0128" euler="0 -0.36 0" size="0.0026 0.0155 0.0095" rgba="{SKIN_RGBA}" {g}/>',
                    f'{pad}<geom name="{name}_lash" type="capsule" fromto="0.0102 -0.011 0.0103 0.0102 0.011 0.0103" size="0.0012" rgba="0.15 0.1 0.08 1" {g}/>']
        if name.startswith("lid_lower"):
            return [f'{pad}<geom name="{name}_plate" type="ellipsoid" pos="0.0055 0 -0.0128" euler="0 0.4 0" size="0.0024 0.015 0.008" rgba="{SKIN_RGBA}" {g}/>']
        if name.startswith("lip_corner"):
            return []
        return []

    lines: list[str] = []

    def emit_body(name: str, indent: int) -> None:
        pad = " " * indent
        parent_pivot = np.zeros(3) if name == "head" else pivots[next(b.parent for b in d.bodies if b.name == name)]
        lines.append(f'{pad}<body name="{name}" pos="{_f(pivots[name] - parent_pivot)}">')
        inner = pad + "  "
        mass = 1.0 if name == "head" else 0.02
        lines.append(f'{inner}<inertial pos="0 0 0" mass="{mass}" diaginertia="{_f([mass * 1e-3] * 3)}"/>')
        for jname, axis, lower, upper in joints_of[name]:
            lines.append(f'{inner}<joint name="{jname}" type="hinge" axis="{_f(axis)}" range="{_f([lower, upper])}" '
                         f'limited="true" damping="0.4" armature="0.002"/>')
        lines.extend(visuals(name, inner))
        for lm in landmarks_of[name]:
            lines.append(f'{inner}<site name="lm_{lm.name}" pos="{_f(np.array(lm.pos) - pivots[name])}" size="0.0018" group="{LANDMARK_GROUP}" rgba="0.1 0.8 0.2 1"/>')
        for m in anchors_of[name]:
            lines.append(f'{inner}<site name="anchor_{m.name}" pos="{_f(np.array(m.tendon.anchor) - pivots[name])}" size="0.001" rgba="0.5 0.5 0.5 0"/>')
        for n in nodes_of[name]:
            lines.append(f'{inner}<body name="skin_{n.name}" pos="{_f(np.array(n.pos) - pivots[name])}">')
            lines.append(f'{inner}  <inertial pos="0 0 0" mass="{s.mass}" diaginertia="1e-7 1e-7 1e-7"/>')
            for axis_name, axis in (("x", "1 0 0"), ("y", "0 1 0"), ("z", "0 0 1")):
                lines.append(f'{inner}  <joint name="skin_{n.name}_{axis_name}" type="slide" axis="{axis}" '
                             f'stiffness="{s.stiffness}" damping="{s.damping}" limited="true" '
                             f'range="{_f([-s.stretch_limit, s.stretch_limit])}" solreflimit="0.01 1"/>')
            lines.append(f'{inner}  <site name="node_{n.name}" size="0.0012" rgba="0.9 0.6 0.5 0"/>')
            lip = lip_side.get(n.name)
            if lip is not None:  # lips touch but never pass through each other: upper-lower contact pads
                sign, contype, conaffinity = (1, 2, 4) if lip == "upper_lip" else (-1, 4, 2)
                lines.append(f'{inner}  <geom name="pad_{n.name}" type="sphere" size="{LIP_PAD_RADIUS}" '
                             f'pos="0 0 {sign * LIP_PAD_RADIUS:g}" contype="{contype}" conaffinity="{conaffinity}" '
                             f'condim="1" mass="0" rgba="0 0 0 0"/>')
            for lm_name in node_landmarks.get(n.name, []):
                lines.append(f'{inner}  <site name="lm_{lm_name}" size="0.0018" group="{LANDMARK_GROUP}" rgba="0.1 0.8 0.2 1"/>')
            lines.append(f"{inner}</body>")
        for child in children.get(name, []):
            emit_body(child, indent + 2)
        lines.append(f"{pad}</body>")

    # neck hinges live on the head body: rigid motors whose joints name `head`
    cam_z = 0.108
    tq = np.array([0.7 * np.cos(0.62), 0.7 * np.sin(0.62), cam_z + 0.09])
    out = ['<mujoco model="{}">'.format(d.name),
           "  <!-- generated from config/face.yaml by `talkface generate`; do not edit -->",
           '  <compiler angle="radian"/>',
           f'  <option timestep="{TIMESTEP}" gravity="0 0 0" integrator="implicitfast"/>',
           '  <visual><global offwidth="640" offheight="640"/><quality shadowsize="0"/></visual>',
           "  <asset>",
           *(f"    {mesh_xml(mesh, verts, faces, pivots['jaw'] if mesh.startswith('jaw') else np.zeros(3))}"
             for mesh, (verts, faces) in shell_meshes(d).items()),
           "  </asset>",
           "  <worldbody>",
           '    <light name="key" pos="0.6 0.3 0.5" dir="-0.8 -0.3 -0.4" diffuse="0.8 0.8 0.8"/>',
           '    <light name="fill" pos="0.5 -0.5 0.2" dir="-0.6 0.6 -0.1" diffuse="0.35 0.35 0.35"/>',
           # both frame the whole head (cranium to chin, ears) with a small margin
           f'    <camera name="front" pos="0.72 0 {cam_z:.4g}" xyaxes="{_look_at([0.72, 0, cam_z], [0, 0, cam_z])}" fovy="24"/>',
           f'    <camera name="three_quarter" pos="{_f(tq)}" xyaxes="{_look_at(tq, [0.025, 0.0, cam_z])}" fovy="27"/>']
    emit_body("head", 4)
    out.extend(lines)
    out.append("  </worldbody>")

    site_of = {n.name: f"node_{n.name}" for n in d.skin_nodes}
    site_of.update({lm.name: f"lm_{lm.name}" for lm in d.landmarks if lm.body is not None})
    positions = {n.name: np.array(n.pos) for n in d.skin_nodes}
    positions.update({lm.name: np.array(lm.pos) for lm in d.landmarks if lm.body is not None})
    out.append("  <tendon>")
    for a, b in d.skin_springs:
        rest = float(np.linalg.norm(positions[a] - positions[b]))
        out.append(f'    <spatial name="spring_{a}__{b}" stiffness="{d.skin.spring_stiffness}" springlength="{rest:.6g}" '
                   f'width="0.0005" rgba="0 0 0 0"><site site="{site_of[a]}"/><site site="{site_of[b]}"/></spatial>')
    rest_lengths = tendon_rest_lengths(d)
    for m in d.motors:
        if m.kind == "tendon":
            out.append(f'    <spatial name="{m.name}" width="0.0006" rgba="0.4 0.4 0.45 0">'
                       f'<site site="anchor_{m.name}"/><site site="{site_of[m.tendon.node]}"/></spatial>')
    out.append("  </tendon>")

    out.append("  <actuator>")
    for m in d.motors:
        if m.kind == "rigid":
            for jname in joint_names[m.name]:
                out.append(f'    <position name="act_{jname}" joint="{jname}" kp="{RIGID_KP}" dampratio="1" '
                           f'ctrlrange="{_f([m.lower, m.upper])}" ctrllimited="true"/>')
        else:
            length = rest_lengths[m.name]
            # ctrl = rest length + slack - pull: force = kp (ctrl - length), clamped to [-F, 0] (pull only)
            low, high = length + m.tendon.slack - m.upper, length + m.tendon.slack - m.lower
            out.append(f'    <position name="act_{m.name}" tendon="{m.name}" kp="{m.tendon.stiffness}" '
                       f'ctrlrange="{_f([low, high])}" ctrllimited="true" forcelimited="true" '
                       f'forcerange="{-TENDON_MAX_FORCE:g} 0"/>')
    out.append("  </actuator>")
    out.append("</mujoco>")
    return "\n".join(out) + "\n"
