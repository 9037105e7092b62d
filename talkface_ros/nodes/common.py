"""Shared plumbing for the rclpy nodes: declared parameters with descriptors, QoS, a clean main()."""
from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import rclpy
import rclpy.executors
import rclpy.logging
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.node import Node
from rclpy.qos import QoSProfile, qos_profile_sensor_data


class StartupError(RuntimeError):
    """A problem the user must fix (missing device, unreadable file): logged as one line, exit code 1."""


@dataclass(frozen=True)
class ParamSpec:
    """One node parameter: declared with a descriptor, range-checked on every set."""

    name: str
    default: Any
    description: str
    min: float | int | None = None
    max: float | int | None = None
    choices: Sequence[str] | None = None
    read_only: bool = False

    def check(self, value: Any) -> str | None:
        """The reason `value` is unacceptable, or None."""
        if self.choices is not None and value not in self.choices:
            return f"{self.name} must be one of {list(self.choices)}, got {value!r}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.min is not None and value < self.min:
                return f"{self.name} must be >= {self.min}, got {value}"
            if self.max is not None and value > self.max:
                return f"{self.name} must be <= {self.max}, got {value}"
        return None


def declare_parameters(node: Node, specs: Sequence[ParamSpec]) -> dict[str, Any]:
    """Declare every spec with its descriptor, validate the initial values (from YAML or the command line)
    and install a set-parameters callback that rejects bad values with a reason. Returns name -> value."""
    by_name = {spec.name: spec for spec in specs}
    for spec in specs:
        descriptor = ParameterDescriptor(description=spec.description, read_only=spec.read_only)
        if spec.choices is not None:
            descriptor.additional_constraints = "one of: " + ", ".join(spec.choices)
        if spec.min is not None and spec.max is not None and not isinstance(spec.default, bool):
            if isinstance(spec.default, int):
                descriptor.integer_range = [IntegerRange(from_value=int(spec.min), to_value=int(spec.max), step=0)]
            elif isinstance(spec.default, float):
                descriptor.floating_point_range = [
                    FloatingPointRange(from_value=float(spec.min), to_value=float(spec.max), step=0.0)
                ]
        try:
            node.declare_parameter(spec.name, spec.default, descriptor)
        except (InvalidParameterValueException, InvalidParameterTypeException) as error:
            raise StartupError(f"invalid parameter {spec.name}: {error}") from None
    values = {spec.name: node.get_parameter(spec.name).value for spec in specs}
    for spec in specs:
        reason = spec.check(values[spec.name])
        if reason:
            raise StartupError(f"invalid parameter: {reason}")

    def on_set(parameters: list) -> SetParametersResult:
        for parameter in parameters:
            spec = by_name.get(parameter.name)
            reason = spec.check(parameter.value) if spec else None
            if reason:
                return SetParametersResult(successful=False, reason=reason)
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(on_set)
    return values


def sensor_qos(depth: int = 50) -> QoSProfile:
    """Best-effort, volatile: the sensor-data profile, with a deeper queue so bursts are not dropped."""
    qos = QoSProfile(depth=depth)
    qos.reliability = qos_profile_sensor_data.reliability
    qos.durability = qos_profile_sensor_data.durability
    qos.history = qos_profile_sensor_data.history
    return qos


def _make_executor():
    """The single-threaded executor; TALKFACE_EXECUTOR=events picks rclpy's experimental events executor
    (less overhead per callback: ~1 ms less per hop here, but a cross-process test lost every message
    once in three runs with it, so it is opt-in)."""
    import os

    if os.environ.get("TALKFACE_EXECUTOR", "single") == "events":
        try:
            from rclpy.experimental import EventsExecutor

            return EventsExecutor()
        except ImportError:
            pass
    return rclpy.executors.SingleThreadedExecutor()


def node_logger_name(args: Sequence[str], default: str) -> str:
    """The logger name rclpy gives the node these ROS arguments start: `__node:=` / `__name:=` and `__ns:=`
    remaps honoured (ns.name), for messages logged before the node exists or when building it failed."""
    name, namespace = default, ""
    ros_args = False
    for i, arg in enumerate(args):
        if arg == "--ros-args":
            ros_args = True
        elif arg == "--":
            ros_args = False
        elif ros_args and arg in ("-r", "--remap") and i + 1 < len(args):
            rule = args[i + 1]
            if ":__" in rule and not rule.startswith("__"):  # node-specific form: node:__name:=value
                rule = rule.split(":", 1)[1]
            key, _, value = rule.partition(":=")
            if key in ("__node", "__name") and value:
                name = value
            elif key == "__ns":
                namespace = value
    namespace = namespace.strip("/").replace("/", ".")
    return f"{namespace}.{name}" if namespace else name


def _default_node_name(make_node: Callable[[], Node]) -> str:
    """A node module's default node name is its module name (talkface_ros.nodes.face_inference -> face_inference)."""
    module = getattr(make_node, "__module__", "") or ""
    if module == "__main__":  # python -m talkface_ros.nodes.<node>
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        module = spec.name if spec is not None else ""
    return module.rsplit(".", 1)[-1] if module.startswith("talkface_ros.nodes.") else "talkface"


class RosLogHandler(logging.Handler):
    """The ROS-free core logs with `logging`; in a node process its records go through the node's rclpy logger,
    so they carry the node's name (`[servo_driver]`), its severity filter, and reach the ROS log files and
    /rosout like the node's own lines. Without it Python prints bare, unprefixed warnings to stderr."""

    def __init__(self, logger) -> None:
        super().__init__()
        self.logger = logger

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            if record.levelno >= logging.ERROR:
                self.logger.error(message)
            elif record.levelno >= logging.WARNING:
                self.logger.warning(message)
            elif record.levelno >= logging.INFO:
                self.logger.info(message)
            else:
                self.logger.debug(message)
        except Exception:  # a log line must never take the node down
            self.handleError(record)


def _route_core_logging(logger) -> Callable[[], None]:
    """Send the `talkface_ros` Python loggers through `logger` (an rclpy logger); returns the undo."""
    core = logging.getLogger("talkface_ros")
    handler = RosLogHandler(logger)
    saved = (core.level, core.propagate)
    core.addHandler(handler)
    core.propagate = False
    try:  # rclpy's severities use Python's numbers (DEBUG 10 ... FATAL 50)
        core.setLevel(max(logging.DEBUG, int(logger.get_effective_level())))
    except Exception:
        core.setLevel(logging.INFO)

    def undo() -> None:
        core.removeHandler(handler)
        core.setLevel(saved[0])
        core.propagate = saved[1]

    return undo


def run_node(make_node: Callable[[], Node], args: list[str] | None = None) -> int:
    """Build a node and spin it until SIGINT/SIGTERM, shutdown, or the node sets `finished`. A StartupError
    is one log line and exit code 1.

    SIGINT/SIGTERM only set a flag that the spin loop checks (rclpy's own handler would shut the context
    down first, and a KeyboardInterrupt could land in the middle of a callback), so a node's close() —
    relax the servos, write the recording — runs with a live context, in one piece. A spin_once loop on
    the single-threaded executor: the lowest tail latency here, and it never hangs the way
    EventsExecutor().spin() can."""
    import signal

    stop_requested = threading.Event()
    try:
        from rclpy.signals import SignalHandlerOptions

        rclpy.init(args=args if args is not None else sys.argv, signal_handler_options=SignalHandlerOptions.NO)
        previous = {sig: signal.signal(sig, lambda *_: stop_requested.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ImportError:  # rclpy without SignalHandlerOptions: its own handler shuts the context down
        rclpy.init(args=args if args is not None else sys.argv)
        previous = {}
    node: Node | None = None
    executor: rclpy.executors.SingleThreadedExecutor | None = None
    exit_code = 0
    # until the node exists (and if building it fails), log under the name it will have, not a generic one
    logger = rclpy.logging.get_logger(node_logger_name(args if args is not None else sys.argv,
                                                       _default_node_name(make_node)))
    unroute = _route_core_logging(logger)
    try:
        node = make_node()
        unroute()
        unroute = _route_core_logging(node.get_logger())
        executor = _make_executor()
        executor.add_node(node)
        # A node sets `finished = True` when its work is done (e.g. the end of a WAV file).
        while rclpy.ok() and not stop_requested.is_set() and not getattr(node, "finished", False):
            executor.spin_once(timeout_sec=0.1)
    except StartupError as error:
        (node.get_logger() if node is not None else logger).error(str(error))
        exit_code = 1
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass
    finally:
        if node is not None:
            close = getattr(node, "close", None)
            if callable(close):
                close()
            if executor is not None:
                executor.shutdown()
            node.destroy_node()
        if rclpy.ok():
            rclpy.try_shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        unroute()
    return exit_code
