"""Speech -> real servos: audio_capture -> face_inference -> face_retarget -> servo_driver, plus
robot_state_publisher (where installed) so rviz shows the measured pose. hardware:=emulated-maestro runs the
graph against a Maestro (and the Dynamixel neck) emulated on pseudo-terminals. With ros2_control:=true the
commands go to a ros2_control forward_command_controller (`face_controller`, config/controllers.yaml) instead
of servo_driver, e.g. with mock hardware or Gazebo.

  ros2 launch talkface_ros face_hardware.launch.py hardware:=maestro port:=/dev/ttyACM0
  ros2 launch talkface_ros face_hardware.launch.py hardware:=emulated-maestro audio_source:=wav wav_path:=x.wav
"""
from launch import LaunchDescription

from talkface_ros.nodes.launch_graph import declare_arguments, graph, robot_description_nodes, ros2_control_nodes


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([*declare_arguments(), graph("hardware"), robot_description_nodes(rviz=False),
                              ros2_control_nodes()])
