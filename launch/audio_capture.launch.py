"""Audio capture alone: `ros2 launch talkface_ros audio_capture.launch.py source:=wav wav_path:=/path/speech.wav`."""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description() -> LaunchDescription:
    config = os.path.join(get_package_share_directory("talkface_ros"), "config", "audio_capture.yaml")
    arguments = {
        "namespace": ("", "namespace for the node and its topics"),
        "source": ("microphone", "microphone | wav"),
        "wav_path": ("", "WAV file when source is wav"),
        "device": ("", "input device index, name or unique substring"),
        "audio_topic": ("audio/pcm", "topic the PCM chunks are published on"),
    }
    return LaunchDescription([
        *[DeclareLaunchArgument(name, default_value=default, description=text) for name, (default, text) in arguments.items()],
        Node(
            package="talkface_ros",
            executable="audio_capture",
            namespace=LaunchConfiguration("namespace"),
            parameters=[config, {
                "source": LaunchConfiguration("source"),
                "wav_path": LaunchConfiguration("wav_path"),
                "device": LaunchConfiguration("device"),
            }],
            remappings=[("audio/pcm", LaunchConfiguration("audio_topic"))],
            output="screen",
        ),
    ])
