"""Speech -> simulated face: audio_capture -> face_inference -> face_retarget -> face_sim, plus
robot_state_publisher with the face URDF and (rviz:=true) rviz2 with the shipped config, where installed.

  ros2 launch talkface_ros face_sim.launch.py audio_source:=wav wav_path:=/path/speech.wav emotion:=happy

Arguments: `ros2 launch talkface_ros face_sim.launch.py --show-args` (the same in every launch file of the
package and, with dashes, in `talkface bringup`).
"""
from launch import LaunchDescription

from talkface_ros.nodes.launch_graph import declare_arguments, graph, robot_description_nodes


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([*declare_arguments(), graph("sim"), robot_description_nodes(rviz=True)])
