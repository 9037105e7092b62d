"""Test-wide settings. DDS discovery stays on loopback and each test run gets its own ROS domain, set
here before anything can import rclpy."""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.pop("ROS_STATIC_PEERS", None)
if "TALKFACE_TEST_DOMAIN_ID" not in os.environ:
    os.environ["TALKFACE_TEST_DOMAIN_ID"] = str(100 + os.getpid() % 100)
os.environ["ROS_DOMAIN_ID"] = os.environ["TALKFACE_TEST_DOMAIN_ID"]
# Offscreen MuJoCo rendering on the CPU; must be chosen before anything imports mujoco or OpenGL.
os.environ.setdefault("MUJOCO_GL", "osmesa")
os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
os.environ.setdefault("ROS_LOG_DIR", str(Path(__file__).resolve().parent.parent / ".ros" / "log"))

sys.path.insert(0, str(Path(__file__).resolve().parent))

# test/launch runs against the colcon-installed package with the launch stack: tools/launch_tests.sh (make launch-test)
collect_ignore = [] if os.environ.get("TALKFACE_LAUNCH_TESTS") == "1" else ["launch"]


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "colcon: runs against the colcon-installed package in CI")
    config.addinivalue_line("markers", "ros: needs rclpy and starts ROS processes on loopback")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
