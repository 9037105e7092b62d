"""Builds launch actions from talkface_ros.nodes.graph, the one graph description shared with
`talkface bringup`. Used by face_sim.launch.py and face_hardware.launch.py."""
import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from talkface_ros.nodes.graph import GraphOptions, build_graph

SHARE = get_package_share_directory("talkface_ros")

# launch argument -> (GraphOptions field, default, description)
ARGUMENTS = {
    "namespace": ("namespace", "", "namespace of every node and topic"),
    "audio_source": ("audio_source", "microphone", "microphone | wav"),
    "wav_path": ("wav_path", "", "WAV file when audio_source is wav"),
    "device": ("device", "", "microphone: index, name or unique substring"),
    "audio_topic": ("audio_topic", "audio/pcm", "take audio from this topic (remap into another stack)"),
    "emotion": ("emotion", "neutral", "label[:intensity]"),
    "model": ("model_path", "", "model path ('' = the shipped model)"),
    "backend": ("backend", "onnxruntime", "onnxruntime | torch"),
    "lookahead": ("lookahead", "0", "future audio frames (20 ms each), 0-3"),
    "hardware": ("hardware", "maestro", "maestro | dynamixel"),
    "port": ("port", "/dev/ttyACM0", "serial port of the servo controller"),
    "neck_port": ("neck_port", "", "serial port of the Dynamixel neck ('' = no neck driver)"),
    "record_dir": ("record_dir", "", "record blendshapes/commands/latency here ('' = off)"),
    "ros2_control": ("use_ros2_control", "false", "hardware: a ros2_control face_controller takes the commands"),
}


def declare_arguments():
    return [DeclareLaunchArgument(name, default_value=default, description=text)
            for name, (_, default, text) in ARGUMENTS.items()]


def _options(context, profile: str) -> GraphOptions:
    values = {field: LaunchConfiguration(name).perform(context) for name, (field, _, _) in ARGUMENTS.items()}
    values["lookahead"] = int(values["lookahead"])
    values["use_ros2_control"] = values["use_ros2_control"].lower() in ("true", "1", "yes")
    return GraphOptions(profile=profile, **values)


def graph_nodes(profile: str) -> OpaqueFunction:
    def make(context):
        options = _options(context, profile)
        actions = []
        for spec in build_graph(options):
            files = [os.path.join(SHARE, "config", name) for name in spec.param_files]
            actions.append(Node(
                package="talkface_ros", executable=spec.executable, name=spec.name,
                namespace=options.namespace or None,
                parameters=[*[f for f in files if os.path.isfile(f)], spec.parameters],
                remappings=list(spec.remappings.items()), output="screen",
            ))
        return actions

    return OpaqueFunction(function=make)
