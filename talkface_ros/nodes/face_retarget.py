"""face_retarget: face/blendshapes (sensor_msgs/JointState) -> face_controller/commands
(std_msgs/Float64MultiArray, controller joint order) and joint_states, through the learned inverse
self-model and the safety layer. ~/set_enabled (SetBool), ~/go_neutral (Trigger).

A command goes out as soon as a frame arrives (its joint_states carry the frame's audio stamp, so the
chain's latency can be measured end to end), and on a `control_rate` timer in between, which keeps the
servos fed, applies the slew limits and returns the face to neutral when the stream goes stale."""
from __future__ import annotations

import sys
import time

from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, MultiArrayDimension
from std_srvs.srv import SetBool, Trigger

from talkface_ros.nodes.common import ParamSpec, StartupError, declare_parameters, run_node, sensor_qos

PARAMETERS = (
    ParamSpec("calibration_path", "", "self-model calibration folder ('' = the shipped one)", read_only=True),
    ParamSpec("face_description", "", "face description YAML ('' = the package's config/face.yaml)", read_only=True),
    ParamSpec("control_rate", 100.0, "timer commands per second between frames (each frame also sends one at once)",
              min=1.0, max=1000.0, read_only=True),
    ParamSpec("interpolate", False, "ramp between frames over frame_period_s (smoother, ~10 ms later) instead of "
              "applying each frame at once", read_only=True),
    ParamSpec("lead_frames", 1.0, "delay compensation: extrapolate each frame's motor targets this many frames "
              "ahead along their last change (0 = off; servo and skin lag ~13 ms in the sim)", min=0.0, max=3.0,
              read_only=True),
    ParamSpec("frame_period_s", 0.02, "expected blendshape frame period", min=0.001, max=1.0, read_only=True),
    ParamSpec("stale_s", 0.3, "no frame for this long: return smoothly to neutral", min=0.02, max=10.0,
              read_only=True),
)


class FaceRetargetNode(Node):
    def __init__(self, **node_kwargs) -> None:
        super().__init__("face_retarget", **node_kwargs)
        p = declare_parameters(self, PARAMETERS)
        from talkface_ros.face.description import load_face_description
        from talkface_ros.selfmodel.model import SelfModel
        from talkface_ros.selfmodel.retarget import RetargetConfig, Retargeter
        from talkface_ros.selfmodel.safety import SafetyLimits

        try:
            description = load_face_description(p["face_description"] or None)
            model = SelfModel.load(p["calibration_path"] or None)
            model.check_matches(description.joint_names)
        except (ValueError, FileNotFoundError) as error:
            raise StartupError(str(error)) from None
        self.joint_names = description.joint_names
        self.retargeter = Retargeter(model, SafetyLimits.from_description(description),
                                     RetargetConfig(p["frame_period_s"], p["stale_s"], p["interpolate"],
                                                    p["lead_frames"]))
        self.tick_period = 1.0 / p["control_rate"]
        self.last_sent = 0.0
        self.commands_pub = self.create_publisher(Float64MultiArray, "face_controller/commands", 10)
        self.joint_states_pub = self.create_publisher(JointState, "joint_states", 10)
        self.create_subscription(JointState, "face/blendshapes", self.on_blendshapes, sensor_qos())
        self.create_service(SetBool, "~/set_enabled", self.on_set_enabled)
        self.create_service(Trigger, "~/go_neutral", self.on_go_neutral)
        self.create_timer(1.0 / p["control_rate"], self.on_tick)
        self.bad_frames = 0
        self.get_logger().info(f"face_retarget: {len(self.joint_names)} joints at {p['control_rate']:g} Hz")

    def on_blendshapes(self, msg: JointState) -> None:
        from talkface_ros.selfmodel.retarget import frame_from_named

        try:
            frame = frame_from_named(list(msg.name), list(msg.position))
        except ValueError as error:
            self.bad_frames += 1
            self.get_logger().warning(f"dropped a blendshape frame: {error}", throttle_duration_sec=2.0)
            return
        now = time.monotonic()
        if self.retargeter.push_frame(frame, now):
            self.send(now, stamp=msg.header.stamp)

    def on_tick(self) -> None:
        now = time.monotonic()
        if now - self.last_sent >= 0.5 * self.tick_period:  # a frame just sent one: don't double up
            self.send(now)

    def send(self, now: float, stamp=None) -> None:
        sent = self.retargeter.tick(now)
        self.last_sent = now
        commands = Float64MultiArray()
        commands.layout.dim = [MultiArrayDimension(label="joints", size=len(sent), stride=len(sent))]
        commands.data = [float(v) for v in sent]
        self.commands_pub.publish(commands)
        state = JointState()
        state.header.stamp = stamp if stamp is not None else self.get_clock().now().to_msg()
        state.name = list(self.joint_names)
        state.position = commands.data
        self.joint_states_pub.publish(state)

    def on_set_enabled(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        self.retargeter.set_enabled(bool(request.data))
        response.success = True
        response.message = "enabled" if request.data else "disabled: holding neutral"
        return response

    def on_go_neutral(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        self.retargeter.go_neutral()
        response.success = True
        response.message = "returning to neutral"
        return response


def main(args: list[str] | None = None) -> int:
    return run_node(FaceRetargetNode, args)


if __name__ == "__main__":
    sys.exit(main())
