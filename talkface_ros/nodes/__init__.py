"""talkface_ros.nodes: the ROS 2 layer (rclpy is imported only here)."""
from talkface_ros.process import exit_with_parent_if_asked as _exit_with_parent_if_asked

# armed before a node's heavy imports (onnxruntime, MuJoCo): a launch stopped during start-up takes it along
_exit_with_parent_if_asked()
