"""Shared pieces of the launch tests in this folder. They run the package's launch files for real with
launch_testing (`launch_test FILE`, see tools/launch_tests.sh), against the colcon-installed package."""
from __future__ import annotations

import math
import tempfile
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import launch
import launch_testing.actions
from ament_index_python.packages import get_package_share_directory
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource


def short_clip(seconds: float) -> str:
    """The first `seconds` of the bundled speech clip, as a temporary WAV file."""
    from talkface_ros.paths import assets_dir

    with wave.open(str(assets_dir() / "demo_speech.wav"), "rb") as source:
        params = source.getparams()
        frames = source.readframes(int(seconds * params.framerate))
    path = Path(tempfile.mkdtemp(prefix="talkface-launch-test-")) / "clip.wav"
    with wave.open(str(path), "wb") as target:
        target.setparams(params)
        target.writeframes(frames)
    return str(path)


def include_launch_file(name: str, arguments: dict[str, str]) -> launch.LaunchDescription:
    """The installed launch file `name` with `arguments`, then ReadyToTest."""
    path = Path(get_package_share_directory("talkface_ros")) / "launch" / name
    return launch.LaunchDescription([
        IncludeLaunchDescription(PythonLaunchDescriptionSource(str(path)), launch_arguments=arguments.items()),
        launch_testing.actions.ReadyToTest(),
    ])


@dataclass
class Received:
    times: list[float] = field(default_factory=list)   # monotonic receive times
    messages: list = field(default_factory=list)

    def rate_hz(self, skip: int = 50) -> float:
        """Messages per second of receive time, after the first `skip` (start-up: the model catches up on the
        audio that arrived while it loaded)."""
        times = self.times[skip:]
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])


class TopicProbe:
    """An rclpy node in the test process that records what arrives on some topics, spun in a thread."""

    def __init__(self, topics: dict[str, type], node_name: str = "launch_test_probe") -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import qos_profile_sensor_data

        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node(node_name, context=self.context)
        self.received = {topic: Received() for topic in topics}
        self.lock = threading.Lock()
        for topic, kind in topics.items():
            self.node.create_subscription(kind, topic, lambda msg, t=topic: self._on(t, msg), qos_profile_sensor_data)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def _on(self, topic: str, msg) -> None:
        with self.lock:
            self.received[topic].times.append(time.monotonic())
            self.received[topic].messages.append(msg)

    def wait_for(self, topic: str, count: int, timeout: float) -> Received:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received[topic].times) >= count:
                    break
            time.sleep(0.05)
        with self.lock:
            return Received(list(self.received[topic].times), list(self.received[topic].messages))

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()


def graph_flow(namespace: str = "") -> tuple[Received, Received, Received]:
    """Blendshapes (250), motor commands (200) and joint states (100) as they arrive from a running face graph."""
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    prefix = f"/{namespace}/" if namespace else ""
    topics = {f"{prefix}face/blendshapes": (JointState, 250, 40.0),
              f"{prefix}face_controller/commands": (Float64MultiArray, 200, 10.0),
              f"{prefix}joint_states": (JointState, 100, 10.0)}
    probe = TopicProbe({topic: kind for topic, (kind, _, _) in topics.items()})
    try:
        frames, commands, states = (probe.wait_for(topic, count, timeout) for topic, (_, count, timeout) in topics.items())
    finally:
        probe.close()
    return frames, commands, states


def all_finite(values) -> bool:
    return all(math.isfinite(v) for v in values)
