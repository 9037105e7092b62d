"""`ros2 launch` as a user runs it: the graph ends with the clip, SIGTERM leaves no orphans, a failing node or
a bad argument ends the launch with a non-zero exit code, missing C++ tools are one warning. Runs (with pytest)
where the launch stack and the colcon-installed package are (tools/launch_tests.sh)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from graph_checks import short_clip  # noqa: E402

if shutil.which("ros2") is None:
    pytest.skip("ros2 CLI not found (tools/launch_tests.sh installs the launch stack)", allow_module_level=True)


def ros2_launch(*arguments: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
    return subprocess.Popen(["ros2", "launch", "talkface_ros", *arguments], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            # a background shell job ignores SIGINT; launch needs it to stop its nodes
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def finish(process: subprocess.Popen, timeout: float) -> tuple[int, str]:
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=20)
        pytest.fail(f"ros2 launch did not end within {timeout} s:\n{out[-3000:]}")
    return process.returncode, out


def test_the_graph_ends_with_the_clip_and_exits_0():
    clip = short_clip(3.0)
    started = time.monotonic()
    code, out = finish(ros2_launch("face_sim.launch.py", "audio_source:=wav", f"wav_path:={clip}"), timeout=90)
    assert code == 0, out[-3000:]
    assert "the clip has been played; stopping the graph" in out
    assert out.count("process has finished cleanly") == 4, out[-3000:]
    assert time.monotonic() - started < 60


def test_sigterm_leaves_no_node_running():
    import psutil

    clip = short_clip(2.0)
    launch = ros2_launch("face_hardware.launch.py", "hardware:=emulated-maestro", "audio_source:=wav",
                         f"wav_path:={clip}", "loop:=true")
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(children) < 7:  # 2 emulators + 5 nodes
            time.sleep(0.5)
            children = psutil.Process(launch.pid).children(recursive=True)
        assert len(children) == 7, [c.cmdline()[:4] for c in children]
        time.sleep(2.0)  # every node past its start-up
        launch.send_signal(signal.SIGTERM)
        finish(launch, timeout=30)
        gone, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, f"orphaned after SIGTERM: {[c.cmdline()[:4] for c in alive]}"
    finally:
        for child in children:
            if child.is_running():
                child.kill()
        if launch.poll() is None:
            launch.kill()


def test_a_failing_node_ends_the_launch_with_an_error():
    # no such input device on any machine: audio_capture exits 1 and the launch follows
    code, out = finish(ros2_launch("face_sim.launch.py", "audio_source:=microphone", "device:=no-such-mic-xyz"),
                       timeout=60)
    assert code != 0
    assert "audio_capture exited with code 1; stopping the graph" in out
    assert "no-such-mic-xyz" in out


def test_a_bad_argument_is_named_and_nothing_starts():
    code, out = finish(ros2_launch("face_sim.launch.py", "lookahead:=soon"), timeout=30)
    assert code != 0 and "lookahead:='soon' is not an integer" in out
    assert "process started" not in out
    code, out = finish(ros2_launch("face_hardware.launch.py", "hardware:=lego"), timeout=30)
    assert code != 0 and "hardware must be one of" in out


def test_missing_cpp_tools_are_one_warning_each():
    clip = short_clip(1.0)
    code, out = finish(ros2_launch("face_sim.launch.py", "audio_source:=wav", f"wav_path:={clip}", "rviz:=true"),
                       timeout=90)
    assert code == 0, out[-3000:]
    from ament_index_python.packages import PackageNotFoundError, get_package_prefix

    for package in ("robot_state_publisher", "rviz2"):
        try:
            get_package_prefix(package)
        except PackageNotFoundError:
            assert out.count(f"{package} is not installed") == 1, out[-3000:]
