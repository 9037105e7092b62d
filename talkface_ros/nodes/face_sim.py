"""face_sim: the MuJoCo face driven by face_controller/commands; publishes joint_states,
face/landmarks (visualization_msgs/MarkerArray, head frame) and robot_description (transient local)."""
from __future__ import annotations

import sys

import numpy as np
from geometry_msgs.msg import Point
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState
from std_msgs.msg import ColorRGBA, Float64MultiArray, String
from visualization_msgs.msg import Marker, MarkerArray

from talkface_ros.nodes.common import ParamSpec, StartupError, declare_parameters, run_node

PARAMETERS = (
    ParamSpec("face_description", "", "face description YAML ('' = the package's config/face.yaml)", read_only=True),
    ParamSpec("sim_rate", 100.0, "simulation ticks per second (each steps the physics by 1/rate)", min=1.0,
              max=1000.0, read_only=True),
    ParamSpec("landmark_rate", 20.0, "face/landmarks messages per second", min=0.1, max=200.0, read_only=True),
    ParamSpec("frame_id", "head", "frame of the landmarks (the URDF's head link)", read_only=True),
)


class FaceSimNode(Node):
    def __init__(self, **node_kwargs) -> None:
        super().__init__("face_sim", **node_kwargs)
        p = declare_parameters(self, PARAMETERS)
        from talkface_ros.face.description import load_face_description
        from talkface_ros.sim.face_sim import FaceSim
        from talkface_ros.sim.generate import build_urdf

        try:
            description = load_face_description(p["face_description"] or None)
            self.sim = FaceSim(description)
        except (ValueError, ImportError) as error:
            raise StartupError(str(error)) from None
        self.frame_id = p["frame_id"]
        self.period = 1.0 / p["sim_rate"]
        self.landmark_every = max(1, round(p["sim_rate"] / p["landmark_rate"]))
        self.ticks = 0
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL,
                             reliability=ReliabilityPolicy.RELIABLE)
        self.description_pub = self.create_publisher(String, "robot_description", latched)
        self.description_pub.publish(String(data=build_urdf(description)))
        self.joint_states_pub = self.create_publisher(JointState, "joint_states", 10)
        self.landmarks_pub = self.create_publisher(MarkerArray, "face/landmarks", 10)
        self.create_subscription(Float64MultiArray, "face_controller/commands", self.on_commands, 10)
        self.create_timer(self.period, self.on_tick)
        self.get_logger().info(f"face_sim: {len(description.motors)} motors, {len(description.landmarks)} landmarks")

    def on_commands(self, msg: Float64MultiArray) -> None:
        try:
            self.sim.set_command(np.asarray(msg.data, dtype=np.float64))
        except ValueError as error:
            self.get_logger().warning(f"ignored commands: {error}", throttle_duration_sec=2.0)

    def on_tick(self) -> None:
        self.sim.step(self.period)
        self.ticks += 1
        stamp = self.get_clock().now().to_msg()
        state = JointState()
        state.header.stamp = stamp
        state.name = list(self.sim.description.joint_names)
        state.position = [float(v) for v in self.sim.joint_positions()]
        self.joint_states_pub.publish(state)
        if self.ticks % self.landmark_every == 0:
            self.landmarks_pub.publish(self.landmark_markers(stamp))

    def landmark_markers(self, stamp) -> MarkerArray:
        marker = Marker()
        marker.header.frame_id = self.frame_id
        marker.header.stamp = stamp
        marker.ns = "landmarks"
        marker.id = 0
        marker.type = Marker.SPHERE_LIST
        marker.action = Marker.ADD
        marker.pose.orientation.w = 1.0
        marker.scale.x = marker.scale.y = marker.scale.z = 0.003
        marker.color = ColorRGBA(r=0.1, g=0.8, b=0.2, a=1.0)
        marker.points = [Point(x=float(x), y=float(y), z=float(z)) for x, y, z in self.sim.landmarks()]
        return MarkerArray(markers=[marker])


def main(args: list[str] | None = None) -> int:
    return run_node(FaceSimNode, args)


if __name__ == "__main__":
    sys.exit(main())
