"""Helpers for tests that run nodes as separate processes on loopback."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any, Callable

import pytest


def require_rclpy():
    return pytest.importorskip("rclpy", reason="rclpy not installed (run `make setup`)")


def ros_env() -> dict[str, str]:
    """The environment for child node processes: loopback discovery, this run's domain."""
    env = dict(os.environ)
    assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def param_args(params: dict[str, Any]) -> list[str]:
    args = ["--ros-args"]
    for name, value in params.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif value == "":
            value = "''"
        args += ["-p", f"{name}:={value}"]
    return args


def start_node(module: str, params: dict[str, Any] | None = None, remaps: dict[str, str] | None = None,
               extra: list[str] | None = None) -> subprocess.Popen:
    """`python -m talkface_ros.nodes.<module> --ros-args -p ...` in its own process."""
    args = [sys.executable, "-m", f"talkface_ros.nodes.{module}", *param_args(params or {})]
    for src, dst in (remaps or {}).items():
        args += ["-r", f"{src}:={dst}"]
    args += extra or []
    return subprocess.Popen(args, env=ros_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop_process(process: subprocess.Popen, timeout: float = 10.0) -> str:
    """SIGINT, then wait; returns the process's output."""
    if process.poll() is None:
        process.send_signal(2)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.stdout.read() if process.stdout else ""


def wait_until(predicate: Callable[[], bool], timeout: float, spin: Callable[[], None] | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if spin:
            spin()
        if predicate():
            return True
        if not spin:
            time.sleep(0.02)
    return predicate()


class Recorder:
    """An in-process rclpy node that records messages from one topic (the test's own process, so
    messages cross a process boundary from the node under test)."""

    def __init__(self, msg_type, topic: str, qos=None, name: str = "test_recorder") -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        from talkface_ros.nodes.common import sensor_qos

        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.messages: list = []
        self.receive_times: list[float] = []
        self.subscription = self.node.create_subscription(msg_type, topic, self._on_message, qos or sensor_qos(1000))

    def _on_message(self, msg) -> None:
        self.messages.append(msg)
        self.receive_times.append(time.monotonic())

    def wait_for_publisher(self, timeout: float = 60.0) -> bool:
        """Until the node under test's publisher is matched: messages sent before that are lost."""
        return self.spin_until(lambda: self.subscription.get_publisher_count() > 0, timeout)

    def spin(self, seconds: float = 0.05) -> None:
        self.executor.spin_once(timeout_sec=seconds)

    def spin_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        return wait_until(predicate, timeout, spin=self.spin)

    def close(self) -> None:
        import rclpy

        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
