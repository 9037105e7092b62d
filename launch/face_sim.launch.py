"""Speech -> simulated face: audio_capture -> face_inference -> face_retarget -> face_sim, plus
robot_state_publisher with the face URDF and (rviz:=true) rviz2 with the shipped config.

  ros2 launch talkface_ros face_sim.launch.py audio_source:=wav wav_path:=/path/speech.wav emotion:=happy
"""
import os
import sys

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from graph_launch import declare_arguments, graph_nodes  # noqa: E402


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory("talkface_ros")
    with open(os.path.join(share, "urdf", "talkface_face.urdf")) as stream:
        robot_description = stream.read()
    return LaunchDescription([
        *declare_arguments(),
        DeclareLaunchArgument("rviz", default_value="false", description="start rviz2 with the shipped config"),
        graph_nodes("sim"),
        Node(package="robot_state_publisher", executable="robot_state_publisher",
             namespace=LaunchConfiguration("namespace"),
             parameters=[{"robot_description": robot_description}], output="screen"),
        Node(package="rviz2", executable="rviz2", arguments=["-d", os.path.join(share, "config", "talkface.rviz")],
             condition=IfCondition(LaunchConfiguration("rviz")), output="screen"),
    ])
