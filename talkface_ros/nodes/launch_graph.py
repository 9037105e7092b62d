"""Launch actions built from talkface_ros.nodes.graph, the one graph description shared with
`talkface bringup`: the launch files in launch/ are a few lines each on top of this.

- Every launch file declares the same arguments (LAUNCH_ARGUMENTS), named as `talkface bringup`'s flags
  (`audio_source` is `--audio-source`).
- Optional C++ packages of a full ROS 2 install (robot_state_publisher, rviz2, controller_manager) are used
  when the ament index has them and skipped with one warning when it does not.
- `hardware:=emulated-maestro|emulated-dynamixel` starts the emulated controllers (`talkface emulate
  --for-face`) on pseudo-terminals and points servo_driver at them.
- `stop_at_end` (default: on for a WAV played once) shuts the launch down when audio_capture has played the
  clip; a node that exits with an error shuts it down too, and `ros2 launch` then exits non-zero.

Imports launch/launch_ros: only launch files import this module.
"""
from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, fields
from typing import Any

import launch.logging
from launch import LaunchContext, LaunchDescriptionEntity
from launch.actions import DeclareLaunchArgument, EmitEvent, ExecuteProcess, OpaqueFunction, RegisterEventHandler
from launch.event_handlers import OnProcessExit
from launch.events import Shutdown
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

from talkface_ros.nodes.graph import (AUDIO_MSG_TYPES, AUDIO_SOURCES, EMULATED_PREFIX, HARDWARE_TYPES, GraphOptions,
                                      build_graph, emulated_ports, emulator_command, uses_emulators)
from talkface_ros.paths import config_path
from talkface_ros.process import exit_with_parent_env

# a node must not outlive `ros2 launch` (stopped with SIGTERM, upstream launch leaves its children running)
_CHILD_ENV = {**exit_with_parent_env(), "PYTHONUNBUFFERED": "1"}


@dataclass(frozen=True)
class LaunchArgument:
    field: str          # GraphOptions field ('' = used by the launch file itself)
    default: str
    description: str


# The same names in every launch file and, with dashes, in `talkface bringup`.
LAUNCH_ARGUMENTS: dict[str, LaunchArgument] = {
    "namespace": LaunchArgument("namespace", "", "namespace of every node and topic, e.g. robot1"),
    "audio_source": LaunchArgument("audio_source", "microphone", " | ".join(AUDIO_SOURCES)
                                   + " (topic: no audio_capture, another stack publishes audio_topic)"),
    "wav_path": LaunchArgument("wav_path", "", "WAV file when audio_source is wav"),
    "loop": LaunchArgument("loop", "false", "wav: play the file again and again"),
    "stop_at_end": LaunchArgument("stop_at_end", "auto",
                                  "shut the launch down when the WAV has been played (auto: on for a WAV played once)"),
    "device": LaunchArgument("device", "", "microphone: index, name or unique substring"),
    "audio_topic": LaunchArgument("audio_topic", "audio/pcm", "audio topic (remap into another stack)"),
    "audio_msg_type": LaunchArgument("audio_msg_type", "int16_multi_array", " | ".join(AUDIO_MSG_TYPES)
                                     + " (audio_common needs audio_source topic)"),
    "sample_rate": LaunchArgument("sample_rate", "16000", "PCM rate on the audio topic, Hz"),
    "speech": LaunchArgument("speech", "false", "a speaking robot: the speech node (text on `say`, TTS, speaker) "
                                                "feeds the face instead of audio_capture"),
    "emotion": LaunchArgument("emotion", "neutral", "label[:intensity]"),
    "model": LaunchArgument("model_path", "", "model folder ('' = the shipped model)"),
    "backend": LaunchArgument("backend", "onnxruntime", "onnxruntime | torch"),
    "lookahead": LaunchArgument("lookahead", "0", "future audio frames (20 ms each), 0-3"),
    "calibration": LaunchArgument("calibration", "", "self-model folder ('' = the shipped one)"),
    "hardware": LaunchArgument("hardware", "maestro", " | ".join(HARDWARE_TYPES)
                               + " (emulated-*: a controller emulated on a pseudo-terminal, no servos needed)"),
    "port": LaunchArgument("port", "/dev/ttyACM0", "serial port of the servo controller"),
    "neck_port": LaunchArgument("neck_port", "", "serial port of the Dynamixel neck ('' = no neck driver)"),
    "record_dir": LaunchArgument("record_dir", "", "record blendshapes, commands and latency here ('' = off)"),
    "ros2_control": LaunchArgument("use_ros2_control", "false",
                                   "hardware: a ros2_control face_controller takes the commands, no servo_driver"),
    "rviz": LaunchArgument("", "false", "start rviz2 with the shipped config (when rviz2 is installed)"),
}

_LOG = launch.logging.get_logger("talkface_ros")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def declare_arguments() -> list[DeclareLaunchArgument]:
    return [DeclareLaunchArgument(name, default_value=arg.default, description=arg.description)
            for name, arg in LAUNCH_ARGUMENTS.items()]


def _flag(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"launch argument {name}:={text!r} is not true or false")


def _integer(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"launch argument {name}:={text!r} is not an integer") from None


def options_from_context(context: LaunchContext, profile: str) -> GraphOptions:
    """GraphOptions from the launch arguments; ValueError names the argument that is wrong."""
    raw = {name: LaunchConfiguration(name).perform(context) for name in LAUNCH_ARGUMENTS}
    kinds = {f.name: f.type for f in fields(GraphOptions)}
    values: dict[str, Any] = {}
    for name, arg in LAUNCH_ARGUMENTS.items():
        if not arg.field or name == "stop_at_end":
            continue
        kind = kinds[arg.field]
        if kind in ("bool", bool):
            values[arg.field] = _flag(name, raw[name])
        elif kind in ("int", int):
            values[arg.field] = _integer(name, raw[name])
        else:
            values[arg.field] = raw[name]
    stop = raw["stop_at_end"].strip().lower()
    plays_once = values["audio_source"] == "wav" and not values["loop"]
    values["stop_at_end"] = plays_once if stop == "auto" else _flag("stop_at_end", stop)
    options = GraphOptions(profile=profile, **values)
    options.validate()
    return options


def package_installed(package: str) -> bool:
    from ament_index_python.packages import PackageNotFoundError, get_package_prefix

    try:
        get_package_prefix(package)
        return True
    except PackageNotFoundError:
        return False


def optional_node(package: str, executable: str, purpose: str, **node_arguments: Any) -> list[LaunchDescriptionEntity]:
    """The node where the ament index has its package; otherwise one warning and nothing."""
    if package_installed(package):
        return [Node(package=package, executable=executable, output="screen", **node_arguments)]
    _LOG.warning(f"{package} is not installed: {executable} not started ({purpose}); "
                 f"install ros-$ROS_DISTRO-{package.replace('_', '-')} for it")
    return []


def _string_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    # launch_ros reads a string parameter as YAML: device:=3 would become an integer and the node would refuse it
    return {key: ParameterValue(value, value_type=str) if isinstance(value, str) else value
            for key, value in parameters.items()}


def graph_actions(context: LaunchContext, profile: str) -> list[LaunchDescriptionEntity]:
    """The talkface nodes of `profile` (graph.build_graph), their emulators and the shutdown rules."""
    try:
        options = options_from_context(context, profile)
        ports = emulated_ports(options, tempfile.mkdtemp(prefix=EMULATED_PREFIX)) if uses_emulators(options) else {}
        specs = build_graph(options)
    except ValueError as error:
        return [OpaqueFunction(function=_fail, args=[str(error)])]

    actions: list[LaunchDescriptionEntity] = []
    for bus, port in ports.items():
        actions.append(ExecuteProcess(cmd=[sys.executable, *emulator_command(bus, port)], name=f"emulated_{bus}",
                                      additional_env=_CHILD_ENV, output="screen"))
        _LOG.info(f"emulated {bus} controller on {port}")
    nodes: dict[str, Node] = {}
    for spec in specs:
        files = [str(config_path(name)) for name in spec.param_files if config_path(name).is_file()]
        nodes[spec.name] = Node(
            package="talkface_ros", executable=spec.executable, name=spec.name,
            namespace=options.namespace or None,
            parameters=[*files, _string_parameters(spec.parameters)],
            remappings=list(spec.remappings.items()), additional_env=_CHILD_ENV, output="screen",
        )
    actions.extend(nodes.values())
    ends_with_clip = options.stop_at_end or options.profile == "file"
    for name, node in nodes.items():
        actions.append(RegisterEventHandler(OnProcessExit(
            target_action=node,
            on_exit=lambda event, _context, name=name, ends=(name == "audio_capture" and ends_with_clip):
                _on_node_exit(event, name, ends))))
    return actions


def _on_node_exit(event, name: str, clip_ends_here: bool) -> list[LaunchDescriptionEntity]:
    if event.returncode == 0 and clip_ends_here:
        _LOG.info("the clip has been played; stopping the graph")
        return [EmitEvent(event=Shutdown(reason="end of the WAV"))]
    if event.returncode not in (0, -2, -15):  # SIGINT/SIGTERM from a shutdown are not failures
        return [OpaqueFunction(function=_fail, args=[f"{name} exited with code {event.returncode}"])]
    return []


class GraphFailed(RuntimeError):
    pass


def _fail(_context: LaunchContext, reason: str) -> None:
    # an exception is what makes upstream launch shut down *and* exit non-zero (a Shutdown event exits 0)
    raise GraphFailed(f"talkface_ros: {reason}; stopping the graph")


def graph(profile: str) -> OpaqueFunction:
    return OpaqueFunction(function=graph_actions, args=[profile])


def _robot_description() -> str:
    from talkface_ros.paths import share_dir

    return (share_dir() / "urdf" / "talkface_face.urdf").read_text()


def robot_description_nodes(rviz: bool) -> OpaqueFunction:
    """robot_state_publisher with the face URDF, and rviz2 (rviz:=true) with the shipped config, where installed."""
    def make(context: LaunchContext) -> list[LaunchDescriptionEntity]:
        namespace = LaunchConfiguration("namespace").perform(context) or None
        actions = optional_node("robot_state_publisher", "robot_state_publisher", "TF of the face for rviz",
                                namespace=namespace, parameters=[{"robot_description": _robot_description()}])
        if rviz and _flag("rviz", LaunchConfiguration("rviz").perform(context)):
            actions += optional_node("rviz2", "rviz2", "the 3-D view", namespace=namespace,
                                     arguments=["-d", str(config_path("talkface.rviz"))])
        return actions

    return OpaqueFunction(function=make)


def ros2_control_nodes() -> OpaqueFunction:
    """ros2_control:=true: controller_manager with the face URDF and config/controllers.yaml, and the spawner of
    joint_state_broadcaster + face_controller, where controller_manager is installed."""
    def make(context: LaunchContext) -> list[LaunchDescriptionEntity]:
        if not _flag("ros2_control", LaunchConfiguration("ros2_control").perform(context)):
            return []
        if not package_installed("controller_manager"):
            return optional_node("controller_manager", "ros2_control_node", "the ros2_control face_controller")
        namespace = LaunchConfiguration("namespace").perform(context) or None
        return [
            Node(package="controller_manager", executable="ros2_control_node", namespace=namespace, output="screen",
                 parameters=[{"robot_description": _robot_description()}, str(config_path("controllers.yaml"))]),
            Node(package="controller_manager", executable="spawner", namespace=namespace, output="screen",
                 arguments=["joint_state_broadcaster", "face_controller"]),
        ]

    return OpaqueFunction(function=make)
