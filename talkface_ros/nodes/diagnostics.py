"""/diagnostics publishing (diagnostic_msgs when installed; otherwise the log)."""
from __future__ import annotations

from typing import Any

from rclpy.node import Node

try:
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
except ImportError:  # diagnostic_msgs is optional: fall back to the log
    DiagnosticArray = None


class DiagnosticsPublisher:
    def __init__(self, node: Node, component: str) -> None:
        self.node = node
        self.name = f"{node.get_name()}: {component}"
        self.publisher = node.create_publisher(DiagnosticArray, "/diagnostics", 10) if DiagnosticArray else None

    def publish(self, values: dict[str, Any], warn: bool = False, error: bool = False, message: str = "ok") -> None:
        if self.publisher is None:
            self.node.get_logger().debug(f"{message}: {values}")
            return
        status = DiagnosticStatus()
        status.level = DiagnosticStatus.ERROR if error else DiagnosticStatus.WARN if warn else DiagnosticStatus.OK
        status.name = self.name
        status.hardware_id = self.node.get_fully_qualified_name()
        status.message = message
        status.values = [KeyValue(key=str(k), value=f"{v:.6g}" if isinstance(v, float) else str(v)) for k, v in values.items()]
        array = DiagnosticArray()
        array.header.stamp = self.node.get_clock().now().to_msg()
        array.status = [status]
        self.publisher.publish(array)
