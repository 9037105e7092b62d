"""The MuJoCo model (MJCF) of the face, generated from the face description.

- Rigid motors: hinge joints on their bodies, each driven by a stiff position actuator.
- Tendon motors: a spatial tendon from an anchor (the reel's exit point on the skull or jaw) to a soft
  skin node. The actuator is a position servo on the tendon length with force range [-F, 0]: the string
  only pulls, and only once the reel has taken up the slack. Skin nodes are point masses on three slide
  joints with a spring to rest and a stretch limit, coupled to their neighbours by spring tendons, so a
  tendon pull moves several landmarks, nonlinearly (slack, stretch limits, changing pull directions).
- Visual: a head, eyes, lids, nose and a jaw; brows and lips are drawn as tendons through their nodes.
"""
from __future__ import annotations

import numpy as np

from talkface_ros.face.description import FaceDescription

SKIN_RGBA = "0.93 0.78 0.66 1"
TIMESTEP = 0.002
RIGID_KP = 40.0
TENDON_MAX_FORCE = 60.0


def _f(values) -> str:
    return " ".join(f"{float(v):.6g}" for v in np.atleast_1d(values))


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

    def visuals(name: str, pad: str) -> list[str]:
        p = pivots[name]
        rel = lambda v: _f(np.array(v) - p)  # noqa: E731 - head frame -> body frame
        g = 'contype="0" conaffinity="0"'
        if name == "head":
            return [
                f'{pad}<geom name="cranium" type="ellipsoid" pos="0 0 0.12" size="0.09 0.075 0.12" rgba="{SKIN_RGBA}" {g}/>',
                f'{pad}<geom name="neck" type="capsule" fromto="-0.01 0 -0.07 -0.01 0 0.03" size="0.038" rgba="{SKIN_RGBA}" {g}/>',
                f'{pad}<geom name="nose" type="ellipsoid" pos="0.094 0 0.112" size="0.016 0.012 0.026" euler="0 -0.3 0" rgba="0.92 0.74 0.62 1" {g}/>',
                f'{pad}<geom name="mouth" type="ellipsoid" pos="0.068 0 0.058" size="0.016 0.021 0.011" rgba="0.25 0.05 0.06 1" {g}/>',
                f'{pad}<geom name="ear_left" type="ellipsoid" pos="0.0 0.075 0.13" size="0.012 0.006 0.022" rgba="{SKIN_RGBA}" {g}/>',
                f'{pad}<geom name="ear_right" type="ellipsoid" pos="0.0 -0.075 0.13" size="0.012 0.006 0.022" rgba="{SKIN_RGBA}" {g}/>',
            ]
        if name == "jaw":
            return [f'{pad}<geom name="jaw_skin" type="ellipsoid" pos="{rel([0.028, 0, 0.042])}" size="0.052 0.058 0.034" rgba="{SKIN_RGBA}" {g}/>']
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
            lines.append(f'{inner}<site name="lm_{lm.name}" pos="{_f(np.array(lm.pos) - pivots[name])}" size="0.0015" rgba="0.1 0.8 0.2 1"/>')
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
            for lm_name in node_landmarks.get(n.name, []):
                lines.append(f'{inner}  <site name="lm_{lm_name}" size="0.0015" rgba="0.1 0.8 0.2 1"/>')
            lines.append(f"{inner}</body>")
        for child in children.get(name, []):
            emit_body(child, indent + 2)
        lines.append(f"{pad}</body>")

    # neck hinges live on the head body: rigid motors whose joints name `head`
    out = ['<mujoco model="{}">'.format(d.name),
           "  <!-- generated from config/face.yaml by `talkface generate`; do not edit -->",
           '  <compiler angle="radian"/>',
           f'  <option timestep="{TIMESTEP}" gravity="0 0 0" integrator="implicitfast"/>',
           '  <visual><global offwidth="640" offheight="640"/><quality shadowsize="0"/></visual>',
           "  <worldbody>",
           '    <light name="key" pos="0.6 0.3 0.5" dir="-0.8 -0.3 -0.4" diffuse="0.8 0.8 0.8"/>',
           '    <light name="fill" pos="0.5 -0.5 0.2" dir="-0.6 0.6 -0.1" diffuse="0.35 0.35 0.35"/>',
           '    <camera name="front" pos="0.55 0 0.11" xyaxes="0 1 0 0 0 1" fovy="24"/>',
           '    <camera name="three_quarter" pos="0.42 0.32 0.16" xyaxes="-0.6 0.8 0 -0.1 -0.07 0.99" fovy="28"/>']
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
    drawn = {"brow_left": ["brow_outer_left", "brow_mid_left", "brow_inner_left"],
             "brow_right": ["brow_outer_right", "brow_mid_right", "brow_inner_right"],
             "lip_upper": ["lip_corner_left", "upper_lip_left", "upper_lip_center", "upper_lip_right", "lip_corner_right"],
             "lip_lower": ["lip_corner_left", "lower_lip_left", "lower_lip_center", "lower_lip_right", "lip_corner_right"]}
    colours = {"brow": "0.3 0.18 0.1 1", "lip": "0.72 0.25 0.28 1"}
    for name, points in drawn.items():
        if all(p in site_of for p in points):
            width = "0.0032" if name.startswith("brow") else "0.0036"
            sites = "".join(f'<site site="{site_of[p]}"/>' for p in points)
            out.append(f'    <spatial name="draw_{name}" width="{width}" rgba="{colours[name.split("_")[0]]}">{sites}</spatial>')
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
