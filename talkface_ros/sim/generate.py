"""`talkface generate`: regenerate everything derived from config/face.yaml.

urdf/talkface_face.urdf (with <ros2_control>, mock_components/GenericSystem by default),
urdf/talkface_face.mjcf.xml (MuJoCo), config/controllers.yaml (face_controller + joint_state_broadcaster),
config/talkface.rviz. `--check` exits 1 when a committed file differs from what would be generated.

Gazebo: pass `--hardware gz` to write `gz_ros2_control/GazeboSimSystem` as the hardware plugin instead.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from talkface_ros.face.description import FaceDescription, load_face_description

log = logging.getLogger(__name__)
HEADER = "generated from config/face.yaml by `talkface generate`; do not edit"
PLUGINS = {"mock": "mock_components/GenericSystem", "gz": "gz_ros2_control/GazeboSimSystem"}


def _f(values) -> str:
    return " ".join(f"{float(v):.6g}" for v in values)


def build_urdf(d: FaceDescription, hardware: str = "mock") -> str:
    """Links per rigid joint (revolute) and per tendon reel (prismatic, metres of pull)."""
    out = ['<?xml version="1.0"?>', f"<!-- {HEADER} -->", f'<robot name="{d.name}">', '  <link name="base_link"/>']
    pivots = {"head": np.zeros(3)}
    pivots.update({b.name: np.array(b.pivot) for b in d.bodies})
    parents = {b.name: b.parent for b in d.bodies}
    last_link = {"head": "base_link"}   # the link a body's next joint hangs from
    body_joints: dict[str, list] = {}
    for m in d.motors:
        for i, j in enumerate(m.joints):
            body_joints.setdefault(j.body, []).append((m, i, j))
    order = ["head", *[b.name for b in d.bodies]]
    for body in order:
        parent_link = "base_link" if body == "head" else body_link(parents[body])
        origin = pivots[body] - (np.zeros(3) if body == "head" else pivots[parents[body]])
        joints = body_joints.get(body, [])
        current = parent_link
        for k, (m, i, j) in enumerate(joints):
            child = body_link(body) if k == len(joints) - 1 else f"{body}_{m.name}_link"
            name = m.name if i == 0 else f"{m.name}_mimic{i}"
            out.append(f'  <link name="{child}"/>')
            xyz = _f(origin) if k == 0 else "0 0 0"
            out.append(f'  <joint name="{name}" type="revolute"><parent link="{current}"/><child link="{child}"/>'
                       f'<origin xyz="{xyz}"/><axis xyz="{_f(j.axis)}"/>'
                       f'<limit lower="{m.lower:.6g}" upper="{m.upper:.6g}" effort="5" velocity="{m.max_speed:.6g}"/>'
                       + (f'<mimic joint="{m.name}"/>' if i else "") + "</joint>")
            current = child
        if not joints:
            out.append(f'  <link name="{body_link(body)}"/>')
            out.append(f'  <joint name="{body}_fixed" type="fixed"><parent link="{parent_link}"/>'
                       f'<child link="{body_link(body)}"/><origin xyz="{_f(origin)}"/></joint>')
        last_link[body] = current
    for m in d.motors:
        if m.kind == "tendon":
            anchor_link = body_link(m.tendon.anchor_body)
            origin = np.array(m.tendon.anchor) - pivots[m.tendon.anchor_body]
            out.append(f'  <link name="{m.name}_reel"/>')
            out.append(f'  <joint name="{m.name}" type="prismatic"><parent link="{anchor_link}"/><child link="{m.name}_reel"/>'
                       f'<origin xyz="{_f(origin)}"/><axis xyz="0 0 1"/>'
                       f'<limit lower="{m.lower:.6g}" upper="{m.upper:.6g}" effort="50" velocity="{m.max_speed:.6g}"/></joint>')
    out.append(f'  <ros2_control name="{d.name}_system" type="system">')
    out.append(f"    <hardware><plugin>{PLUGINS[hardware]}</plugin></hardware>")
    for m in d.motors:
        out.append(f'    <joint name="{m.name}">')
        out.append(f'      <command_interface name="position"><param name="min">{m.lower:.6g}</param>'
                   f'<param name="max">{m.upper:.6g}</param></command_interface>')
        out.append(f'      <state_interface name="position"><param name="initial_value">{m.neutral:.6g}</param></state_interface>')
        out.append("    </joint>")
    out.append("  </ros2_control>")
    out.append("</robot>")
    return "\n".join(out) + "\n"


def body_link(body: str) -> str:
    return "head" if body == "head" else f"{body}_link"


def build_controllers(d: FaceDescription) -> str:
    joints = "\n".join(f"      - {name}" for name in d.joint_names)
    return (f"# {HEADER}\n"
            "controller_manager:\n  ros__parameters:\n    update_rate: 100\n"
            "    joint_state_broadcaster:\n      type: joint_state_broadcaster/JointStateBroadcaster\n"
            "    face_controller:\n      type: forward_command_controller/ForwardCommandController\n\n"
            "face_controller:\n  ros__parameters:\n    interface_name: position\n    joints:\n" + joints + "\n")


def build_rviz(d: FaceDescription) -> str:
    return f"""# {HEADER}
Panels:
  - Class: rviz_common/Displays
    Name: Displays
Visualization Manager:
  Class: ""
  Displays:
    - Class: rviz_default_plugins/Grid
      Name: Grid
      Enabled: true
      Cell Size: 0.05
    - Class: rviz_default_plugins/RobotModel
      Name: RobotModel
      Enabled: true
      Description Source: Topic
      Description Topic:
        Value: robot_description
        Durability Policy: Transient Local
    - Class: rviz_default_plugins/TF
      Name: TF
      Enabled: false
    - Class: rviz_default_plugins/MarkerArray
      Name: Landmarks
      Enabled: true
      Topic:
        Value: face/landmarks
  Global Options:
    Fixed Frame: base_link
    Frame Rate: 30
  Views:
    Current:
      Class: rviz_default_plugins/Orbit
      Distance: 0.6
      Focal Point: {{X: 0.05, Y: 0, Z: 0.12}}
      Pitch: 0.1
      Yaw: 0.0
"""


def generated_files(d: FaceDescription, hardware: str = "mock") -> dict[str, str]:
    """Repo-relative path -> content."""
    from talkface_ros.sim.mjcf import build_mjcf

    return {"urdf/talkface_face.urdf": build_urdf(d, hardware), "urdf/talkface_face.mjcf.xml": build_mjcf(d),
            "config/controllers.yaml": build_controllers(d), "config/talkface.rviz": build_rviz(d)}


def stale_files(root: Path, d: FaceDescription | None = None) -> list[str]:
    d = d or load_face_description(root / "config" / "face.yaml")
    return [p for p, text in generated_files(d).items() if not (root / p).is_file() or (root / p).read_text() != text]
