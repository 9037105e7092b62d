"""Speech -> real servos: audio_capture -> face_inference -> face_retarget -> servo_driver, plus
robot_state_publisher so rviz shows the measured pose. With ros2_control:=true the commands go to a
ros2_control forward_command_controller (`face_controller`, config/controllers.yaml) instead of
servo_driver, e.g. with mock hardware or Gazebo.

  ros2 launch talkface_ros face_hardware.launch.py hardware:=maestro port:=/dev/ttyACM0
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
    use_ros2_control = LaunchConfiguration("ros2_control")
    return LaunchDescription([
        *declare_arguments(),
        graph_nodes("hardware"),
        Node(package="robot_state_publisher", executable="robot_state_publisher",
             namespace=LaunchConfiguration("namespace"),
             parameters=[{"robot_description": robot_description}], output="screen"),
        Node(package="controller_manager", executable="ros2_control_node",
             parameters=[{"robot_description": robot_description}, os.path.join(share, "config", "controllers.yaml")],
             condition=IfCondition(use_ros2_control), output="screen"),
        Node(package="controller_manager", executable="spawner", arguments=["joint_state_broadcaster", "face_controller"],
             condition=IfCondition(use_ros2_control), output="screen"),
    ])
