"""face_retarget: face/blendshapes (sensor_msgs/JointState) -> face_controller/commands
(std_msgs/Float64MultiArray, controller joint order) and joint_states, through the learned inverse
self-model and the safety layer. ~/set_enabled (SetBool), ~/go_neutral (Trigger).

A command goes out as soon as a frame arrives (its joint_states carry the frame's audio stamp, so the
chain's latency can be measured end to end), and on a `control_rate` timer in between, which keeps the
servos fed, applies the slew limits and returns the face to neutral when the stream goes stale.

robot_face/look_at (geometry_msgs/PointStamped, the ROS4HRI / PAL name): the eyes (with vergence) and the
neck look at the point, with saccades and blinks (talkface_ros/face/gaze.py), over the speech model's own
eyes and neck; after `look_at_timeout_s` without a new point they ease back. Points in `gaze_frame` or with
an empty frame_id are used as they are; points in `gaze_head_frame` are turned by the commanded neck; other
frames go through tf2 when tf2_ros is installed, else they are used as they are, with one warning."""
from __future__ import annotations

import sys
import time

from geometry_msgs.msg import PointStamped
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
    ParamSpec("gaze", True, "follow robot_face/look_at points with the eyes and neck", read_only=True),
    ParamSpec("look_at_timeout_s", 2.0, "no look_at point for this long: ease back to the speech model's gaze",
              min=0.05, max=3600.0, read_only=True),
    ParamSpec("look_at_release_s", 0.6, "time to ease back to the speech model's gaze", min=0.01, max=10.0,
              read_only=True),
    ParamSpec("gaze_frame", "base_link", "frame gaze works in: the head frame with the neck at neutral (the "
              "URDF's base_link); points in it or with an empty frame_id are used as they are", read_only=True),
    ParamSpec("gaze_head_frame", "head", "the moving head link: points in it are turned by the commanded neck "
              "when tf2 has no transform", read_only=True),
    ParamSpec("gaze_eye_range_share", 0.5, "share of the eyes' range used before the neck takes over", min=0.05,
              max=1.0, read_only=True),
    ParamSpec("gaze_neck_tau_s", 0.25, "time constant of the neck following the gaze (the eyes lead)", min=0.01,
              max=5.0, read_only=True),
    ParamSpec("gaze_keep_head_motion", True, "keep the speech model's head motion under gaze (the eyes compensate)",
              read_only=True),
    ParamSpec("gaze_eye_servo_tau_s", 0.022, "eye servos' lag (first order) that saccades are commanded ahead of "
              "(the sim's eyes: ~0.022; 0 = no lead)", min=0.0, max=0.5, read_only=True),
    ParamSpec("gaze_eye_lead_gain", 1.0, "how far ahead of the modelled eye servo saccades are commanded",
              min=0.0, max=5.0, read_only=True),
    ParamSpec("gaze_microsaccade_rad", 0.012, "micro-saccade size at rest (0 = none)", min=0.0, max=0.05,
              read_only=True),
    ParamSpec("gaze_blink_interval_min_s", 2.5, "shortest time between gaze blinks", min=0.1, max=60.0,
              read_only=True),
    ParamSpec("gaze_blink_interval_max_s", 6.0, "longest time between gaze blinks (0 = no periodic blinks)",
              min=0.0, max=60.0, read_only=True),
    ParamSpec("gaze_saccade_blink_probability", 0.6, "chance of a blink on a saccade larger than 0.35 rad",
              min=0.0, max=1.0, read_only=True),
    ParamSpec("gaze_seed", 0, "seed of the saccade and blink timing", min=0, max=2**31 - 1, read_only=True),
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
        self.params = p
        self.gaze = make_gaze(p, description, model) if p["gaze"] else None
        self.retargeter = Retargeter(model, SafetyLimits.from_description(description),
                                     RetargetConfig(p["frame_period_s"], p["stale_s"], p["interpolate"],
                                                    p["lead_frames"]), gaze=self.gaze)
        self.tick_period = 1.0 / p["control_rate"]
        self.last_sent = 0.0
        self.commands_pub = self.create_publisher(Float64MultiArray, "face_controller/commands", 10)
        self.joint_states_pub = self.create_publisher(JointState, "joint_states", 10)
        self.create_subscription(JointState, "face/blendshapes", self.on_blendshapes, sensor_qos())
        if self.gaze is not None:
            # best effort accepts reliable and best-effort publishers alike
            self.create_subscription(PointStamped, "robot_face/look_at", self.on_look_at, sensor_qos(10))
            self.tf_buffer = make_tf_buffer(self)
            self.warned_frames: set[str] = set()
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

    def on_look_at(self, msg: PointStamped) -> None:
        """Set the gaze target; a saccade sends a command at once instead of waiting for the tick (a pursued
        target's stream does not add commands)."""
        saccades = self.gaze.state.saccades
        if self.look_at(msg) and self.gaze.state.saccades > saccades:
            self.send(time.monotonic())

    def look_at(self, msg: PointStamped) -> bool:
        point = (msg.point.x, msg.point.y, msg.point.z)
        frame = msg.header.frame_id.lstrip("/")
        base, head = self.params["gaze_frame"], self.params["gaze_head_frame"]
        now = time.monotonic()
        if frame not in ("", base) and self.tf_buffer is not None:
            transformed = self.transform(point, frame, base)
            if transformed is not None:
                return self.gaze.set_target(transformed, now)
        if frame == head:
            return self.gaze.set_target(point, now, frame="head")
        if frame not in ("", base) and frame not in self.warned_frames:
            self.warned_frames.add(frame)
            self.get_logger().warning(f"robot_face/look_at in frame {frame!r}: no transform to {base!r} "
                                      f"({'no tf2_ros' if self.tf_buffer is None else 'tf2 has none'}); "
                                      f"using the point as if it were in {base!r}")
        return self.gaze.set_target(point, now)

    def transform(self, point: tuple[float, float, float], source: str, target: str):
        from talkface_ros.face.gaze import transform_point

        try:
            from rclpy.time import Time

            t = self.tf_buffer.lookup_transform(target, source, Time()).transform
            return transform_point((t.translation.x, t.translation.y, t.translation.z),
                                   (t.rotation.x, t.rotation.y, t.rotation.z, t.rotation.w), point)
        except Exception:  # tf2's LookupException, ConnectivityException, ExtrapolationException, ...
            return None

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


def make_gaze(p: dict, description, model):
    """The gaze controller from the node's parameters; lids blink to the self-model's eyeBlink pose."""
    from talkface_ros.face.gaze import GazeConfig, GazeController, GazeRig
    from talkface_ros.selfmodel.retarget import blink_lid_targets

    low, high = p["gaze_blink_interval_min_s"], p["gaze_blink_interval_max_s"]
    try:
        config = GazeConfig(timeout_s=p["look_at_timeout_s"], release_s=p["look_at_release_s"],
                            eye_range_share=p["gaze_eye_range_share"], neck_tau_s=p["gaze_neck_tau_s"],
                            keep_head_motion=p["gaze_keep_head_motion"], eye_servo_tau_s=p["gaze_eye_servo_tau_s"],
                            eye_lead_gain=p["gaze_eye_lead_gain"],
                            microsaccade_amplitude_rad=p["gaze_microsaccade_rad"],
                            blink_interval_s=(min(low, high), high) if high > 0 else (0.0, 0.0),
                            saccade_blink_probability=p["gaze_saccade_blink_probability"], seed=p["gaze_seed"])
        rig = GazeRig.from_description(description)
    except ValueError as error:
        raise StartupError(f"gaze: {error}") from None
    return GazeController(rig, config, blink_lid_targets(model, rig.lid_motors))


def make_tf_buffer(node: Node):
    """A tf2 buffer + listener when tf2_ros is installed (a robot's ROS install), else None."""
    try:
        import tf2_ros
    except ImportError:
        return None
    buffer = tf2_ros.Buffer()
    node.tf_listener = tf2_ros.TransformListener(buffer, node)
    return buffer


def main(args: list[str] | None = None) -> int:
    return run_node(FaceRetargetNode, args)


if __name__ == "__main__":
    sys.exit(main())
