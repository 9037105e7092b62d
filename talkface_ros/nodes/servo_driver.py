"""servo_driver: `face_controller/commands` (std_msgs/Float64MultiArray, one value per joint in controller
order, the forward_command_controller contract) -> one servo bus transaction per control tick; measured
positions on `joint_states`; bus health on /diagnostics.

The work is done by `talkface_ros.hardware.servo_loop.ServoLoop` (ROS-free); this node wires parameters,
topics, services and a timer around it. Calibrations and controller joint order come from the face
description (config/face.yaml); tests may inject them.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time
from typing import Sequence

from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray
from std_srvs.srv import SetBool, Trigger

from talkface_ros.hardware.calibration import JointCalibration
from talkface_ros.hardware.factory import make_bus
from talkface_ros.hardware.servo_loop import LoopConfig, ServoLoop
from talkface_ros.nodes.common import ParamSpec, StartupError, declare_parameters, run_node, sensor_qos
from talkface_ros.nodes.diagnostics import DiagnosticsPublisher

PARAMETERS = (
    ParamSpec("port", "/dev/ttyACM0", "serial port of the servo controller (a stable /dev/serial/by-id/... "
              "path survives re-plugging)", read_only=True),
    ParamSpec("bus", "maestro", "servo bus type; joints of other buses in the face description are ignored",
              choices=("maestro", "dynamixel"), read_only=True),
    ParamSpec("baud", 0, "baud rate (0 = the bus default: Maestro 115200, Dynamixel 57600)", min=0, max=4_500_000,
              read_only=True),
    ParamSpec("control_rate", 100.0, "control ticks per second; one bus transaction each", min=1.0, max=500.0,
              read_only=True),
    ParamSpec("feedback_rate", 20.0, "measured joint_states per second (0 = none)", min=0.0, max=500.0,
              read_only=True),
    ParamSpec("faults_rate", 1.0, "hardware error reads per second (0 = never)", min=0.0, max=100.0, read_only=True),
    ParamSpec("on_shutdown", "relax", "at shutdown: relax (pulses/torque off) or neutral (hold the neutral pose)",
              choices=("relax", "neutral")),
    ParamSpec("face_description", "", "face description YAML ('' = the package's config/face.yaml)", read_only=True),
    ParamSpec("timeout_s", 0.02, "reply timeout of one bus read", min=0.002, max=1.0, read_only=True),
    ParamSpec("maestro_model", "auto", "Maestro model (auto: probed at connect)",
              choices=("auto", "micro6", "mini12", "mini18", "mini24"), read_only=True),
    ParamSpec("maestro_device_number", -1, "Maestro Pololu-protocol device number (-1 = compact protocol)",
              min=-1, max=127, read_only=True),
    ParamSpec("sched_priority", 0, "SCHED_FIFO priority for the control thread, 1-99 (0 = normal scheduling); "
              "needs CAP_SYS_NICE or an rtprio limit (docs/hardware.md)", min=0, max=99, read_only=True),
    ParamSpec("diagnostics_period_s", 1.0, "how often bus health goes to /diagnostics", min=0.1, max=60.0,
              read_only=True),
)


def load_face_calibrations(path: str) -> tuple[list[JointCalibration], list[str]]:
    """(calibrations, controller joint order) from the face description, or a StartupError saying why not."""
    where = path or "config/face.yaml"
    try:
        from talkface_ros.face.description import load_face_description
    except ImportError as error:
        raise StartupError(f"cannot load the face description {where}: the loader "
                           f"(talkface_ros.face.description) is not available: {error}") from None
    try:
        description = load_face_description(path or None)
        return list(description.calibrations()), list(description.joint_names)
    except Exception as error:  # any problem with the file is the user's to fix: one clear line
        raise StartupError(f"cannot load the face description {where}: {error}") from None


def set_realtime_priority(priority: int, logger) -> bool:
    """SCHED_FIFO for the calling (executor) thread, as ros2_control does for its control loop; a warning
    and normal scheduling when the system does not allow it."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (PermissionError, OSError, AttributeError) as error:
        logger.warning(f"cannot use SCHED_FIFO priority {priority} ({error}); running with normal scheduling. "
                       "Allow it with an rtprio limit for the user (docs/hardware.md)")
        return False
    logger.info(f"control thread runs SCHED_FIFO at priority {priority}")
    return True


class ServoDriverNode(Node):
    def __init__(self, calibrations: Sequence[JointCalibration] | None = None,
                 controller_joints: Sequence[str] | None = None, **node_kwargs) -> None:
        super().__init__("servo_driver", **node_kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        p = self.params
        if calibrations is None:
            calibrations, controller_joints = load_face_calibrations(p["face_description"])
        elif controller_joints is None:
            controller_joints = [c.joint for c in calibrations]
        options: dict = {"timeout": p["timeout_s"]}
        if p["bus"] == "maestro":
            options["model"] = p["maestro_model"]
            options["device_number"] = None if p["maestro_device_number"] < 0 else p["maestro_device_number"]
        try:
            bus = make_bus(p["bus"], p["port"], calibrations, baud=p["baud"], **options)
            rate = p["control_rate"]
            config = LoopConfig(
                feedback_every=0 if p["feedback_rate"] <= 0 else max(1, round(rate / p["feedback_rate"])),
                faults_every=0 if p["faults_rate"] <= 0 else max(1, round(rate / p["faults_rate"])),
                on_shutdown=p["on_shutdown"])
            self.loop = ServoLoop(bus, calibrations, controller_joints, config)
        except (ValueError, ImportError) as error:
            raise StartupError(str(error)) from None
        self.realtime = set_realtime_priority(p["sched_priority"], self.get_logger()) if p["sched_priority"] else False
        self.period = 1.0 / p["control_rate"]
        self.ticks = 0
        self.missed_ticks = 0
        self.tick_errors = 0
        self._tick_costs: list[float] = []  # seconds, since the last diagnostics report
        self._last_tick: float | None = None
        self._closed = False
        self.subscription = self.create_subscription(Float64MultiArray, "face_controller/commands",
                                                     self._on_command, sensor_qos(10))
        self.joint_states = self.create_publisher(JointState, "joint_states", 10)
        self.diagnostics = DiagnosticsPublisher(self, f"servo bus {p['bus']} {p['port']}")
        self.create_service(SetBool, "~/set_enabled", self._on_set_enabled)
        self.create_service(Trigger, "~/go_neutral", self._on_go_neutral)
        self.timer = self.create_timer(self.period, self._on_tick)
        self.create_timer(p["diagnostics_period_s"], self._report)
        self.get_logger().info(f"driving {list(bus.joint_names)} on {p['bus']} at {p['port']}, "
                               f"{p['control_rate']:g} Hz; on shutdown: {p['on_shutdown']}")

    # -- callbacks ----------------------------------------------------------------------------------------------------
    def _on_command(self, msg: Float64MultiArray) -> None:
        warning = self.loop.set_command(list(msg.data))
        if warning:
            self.get_logger().warning(warning, throttle_duration_sec=2.0)

    def _on_tick(self) -> None:
        now = time.monotonic()
        if self._last_tick is not None:
            late = now - self._last_tick - self.period
            if late > 0.5 * self.period:
                self.missed_ticks += int(late / self.period + 0.5)
        self._last_tick = now
        self.ticks += 1
        try:
            self.loop.tick()
            feedback = self.loop.take_feedback()
        except Exception as error:  # a bug must not stop the control timer: log it, count it, keep going
            self.tick_errors += 1
            self.get_logger().error(f"servo tick failed: {error!r}", throttle_duration_sec=2.0)
            return
        finally:
            self._tick_costs.append(time.monotonic() - now)
        if feedback:
            msg = JointState()
            msg.header.stamp = self.get_clock().now().to_msg()
            msg.name = list(feedback)
            msg.position = [float(v) for v in feedback.values()]
            self.joint_states.publish(msg)

    def _on_set_enabled(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        self.loop.set_enabled(bool(request.data))
        response.success = True
        response.message = "enabled" if request.data else "relaxed"
        return response

    def _on_go_neutral(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        self.loop.go_neutral()
        response.success = True
        response.message = "going to the neutral pose"
        return response

    def _report(self) -> None:
        status = self.loop.status()
        values = {"connected": status.connected, "ticks": self.ticks, "missed_ticks": self.missed_ticks,
                  "tick_errors": self.tick_errors, **self._tick_cost_summary(), "commands_accepted": status.commands_accepted,
                  "commands_rejected": status.commands_rejected, "connect_attempts": status.connect_attempts,
                  **status.bus}
        # the log has the outage already (ServoLoop reports it once, then at growing intervals): diagnostics only
        self.diagnostics.publish(values, warn=status.level == "warn", error=status.level == "error",
                                 message=status.message)

    def _tick_cost_summary(self) -> dict[str, float]:
        costs, self._tick_costs = self._tick_costs, []
        if not costs:
            return {}
        return {"tick_cost_mean_us": 1e6 * sum(costs) / len(costs), "tick_cost_max_us": 1e6 * max(costs)}

    def close(self) -> None:
        """Relax or go neutral (parameter on_shutdown, read now) and close the port. Called once by run_node."""
        if self._closed:
            return
        self._closed = True
        self.timer.cancel()
        mode = self.get_parameter("on_shutdown").value
        self.loop.config = dataclasses.replace(self.loop.config, on_shutdown=mode)
        self.loop.shutdown()
        self.get_logger().info(f"servo bus closed ({mode})")


def main(args: list[str] | None = None) -> int:
    return run_node(ServoDriverNode, args)


if __name__ == "__main__":
    sys.exit(main())
