"""Audio capture alone, publishing PCM chunks on audio/pcm (remap with audio_topic:=):

  ros2 launch talkface_ros audio_capture.launch.py audio_source:=wav wav_path:=/path/speech.wav
  ros2 launch talkface_ros audio_capture.launch.py device:=3 audio_topic:=/robot/mic

The arguments are those of the other launch files (the face ones are ignored here).
"""
from launch import LaunchDescription

from talkface_ros.nodes.launch_graph import declare_arguments, graph


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([*declare_arguments(), graph("capture")])
