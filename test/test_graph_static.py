"""The launch files and `talkface bringup` are built from one graph description: check it statically
(launch/launch_ros are not installable here) and run the launch files for real where they are."""
import ast
import importlib
from pathlib import Path

import pytest

from talkface_ros.nodes.bringup import node_command
from talkface_ros.nodes.graph import PROFILES, GraphOptions, build_graph
from talkface_ros.paths import config_path
from test_package import node_entry_points

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.colcon


def all_graphs():
    for profile in PROFILES:
        for hardware in ("maestro", "dynamixel"):
            yield profile, build_graph(GraphOptions(profile=profile, audio_source="wav", wav_path="/tmp/x.wav",
                                                    hardware=hardware, record_dir="/tmp/rec"))


def test_every_graph_node_is_an_installed_executable_with_its_config_and_parameters():
    pytest.importorskip("rclpy")
    entries = node_entry_points()
    for profile, specs in all_graphs():
        for spec in specs:
            assert spec.executable in entries, f"{profile}: {spec.executable} is not a console script"
            module = importlib.import_module(f"talkface_ros.nodes.{spec.executable}")
            declared = {p.name for p in module.PARAMETERS}
            unknown = set(spec.parameters) - declared
            assert not unknown, f"{profile}/{spec.name}: unknown parameters {unknown}"
            for name in spec.param_files:
                path = config_path(name)
                assert path.is_file(), f"{profile}/{spec.name}: missing config {name}"
                text = path.read_text()
                assert f"/{spec.name}:" in text or "/**:" in text, f"{name} has no section for {spec.name}"


def test_bad_options_are_refused_with_a_reason():
    for options, reason in [
        (GraphOptions(profile="moon"), "profile"),
        (GraphOptions(audio_source="wav"), "wav_path"),
        (GraphOptions(profile="file", audio_source="wav", wav_path="x.wav"), "record_dir"),
        (GraphOptions(hardware="lego"), "hardware"),
    ]:
        with pytest.raises(ValueError, match=reason):
            build_graph(options)


def test_bringup_command_lines_carry_parameters_and_remaps():
    options = GraphOptions(profile="sim", audio_source="wav", wav_path="/tmp/a.wav", namespace="robot1",
                           audio_topic="/tts/pcm", emotion="happy:0.5")
    commands = {spec.name: node_command(spec, options.namespace) for spec in build_graph(options)}
    capture = commands["audio_capture"]
    assert "source:=wav" in capture and "wav_path:=/tmp/a.wav" in capture
    assert "audio/pcm:=/tts/pcm" in capture and "__ns:=/robot1" in capture
    assert "emotion:=happy:0.5" in commands["face_inference"]
    # the file starts only when the whole graph is there to hear its first word
    assert "wait_for_nodes:=face_inference,face_retarget,face_sim" in capture
    microphone = build_graph(GraphOptions(profile="sim"))[0]
    assert "wait_for_nodes" not in microphone.parameters


def launch_arguments(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "DeclareLaunchArgument" and node.args:
            if isinstance(node.args[0], ast.Constant):
                names.add(node.args[0].value)
    return names


def _launch_arguments_table() -> dict[str, str]:
    """LAUNCH_ARGUMENTS of talkface_ros/nodes/launch_graph.py, read statically: launch argument -> GraphOptions field."""
    tree = ast.parse((ROOT / "talkface_ros" / "nodes" / "launch_graph.py").read_text())
    table = next(n for n in tree.body if isinstance(n, ast.AnnAssign) and n.target.id == "LAUNCH_ARGUMENTS")
    return {key.value: value.args[0].value for key, value in zip(table.value.keys, table.value.values)}


def test_every_launch_file_declares_the_same_arguments_from_the_graph():
    arguments = _launch_arguments_table()
    fields = {field for field in arguments.values() if field}
    assert fields <= set(GraphOptions.__dataclass_fields__), fields - set(GraphOptions.__dataclass_fields__)
    for name in ("face_sim.launch.py", "face_hardware.launch.py", "audio_capture.launch.py"):
        source = (ROOT / "launch" / name).read_text()
        ast.parse(source)
        assert "declare_arguments()" in source and "graph(" in source and "generate_launch_description" in source


def test_launch_arguments_and_bringup_flags_have_the_same_names():
    import argparse

    from talkface_ros.nodes import bringup_cli as bringup

    parser = argparse.ArgumentParser()
    bringup.add_arguments(parser)
    flags = {option for action in parser._actions for option in action.option_strings}
    launch_only = {"ros2_control", "rviz"}  # C++ tools of a full ROS 2 install; bringup starts Python nodes only
    for name in set(_launch_arguments_table()) - launch_only:
        assert f"--{name.replace('_', '-')}" in flags, f"launch argument {name} has no bringup flag"


def test_launch_files_load_where_launch_is_installed():
    # in a child process: importing launch makes every logger created afterwards a LaunchLogger (it sets the
    # logging module's logger class), which would change the logging of the tests that follow
    import subprocess
    import sys

    probe = subprocess.run([sys.executable, "-c", "import launch_ros"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("launch_ros (and composition_interfaces) not importable: tools/launch_tests.sh runs the "
                    "launch files")
    code = (
        "import sys, launch\n"
        "from launch.launch_description_sources import PythonLaunchDescriptionSource\n"
        "for path in sys.argv[1:]:\n"
        "    description = PythonLaunchDescriptionSource(path).get_launch_description(launch.LaunchContext())\n"
        "    assert description.entities, path\n"
        "print('loaded', len(sys.argv) - 1)\n")
    paths = [str(ROOT / "launch" / name) for name in ("face_sim.launch.py", "face_hardware.launch.py",
                                                       "audio_capture.launch.py")]
    done = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "loaded 3" in done.stdout, done.stderr[-3000:]


def test_the_emulated_profile_points_the_drivers_at_the_emulators():
    from talkface_ros.nodes.graph import emulated_ports, emulator_command, uses_emulators

    options = GraphOptions(profile="hardware", hardware="emulated-maestro", audio_source="wav", wav_path="/tmp/a.wav")
    assert uses_emulators(options)
    ports = emulated_ports(options, "/tmp/emu", {"maestro", "dynamixel"})
    assert ports == {"maestro": "/tmp/emu/ttymaestro", "dynamixel": "/tmp/emu/ttydynamixel"}
    drivers = {s.name: s.parameters for s in build_graph(options) if s.executable == "servo_driver"}
    assert drivers["servo_driver"]["port"] == "/tmp/emu/ttymaestro" and drivers["servo_driver"]["bus"] == "maestro"
    assert drivers["servo_driver_neck"]["port"] == "/tmp/emu/ttydynamixel"
    assert emulator_command("maestro", "/tmp/emu/ttymaestro")[-3:] == ["--for-face", "--link", "/tmp/emu/ttymaestro"]
    assert not uses_emulators(GraphOptions(profile="hardware", hardware="maestro"))


def test_audio_from_another_stack_and_its_message_type():
    specs = build_graph(GraphOptions(profile="sim", audio_source="topic", audio_topic="/robot/mic",
                                     audio_msg_type="audio_common", sample_rate=48000))
    names = [s.name for s in specs]
    assert "audio_capture" not in names
    inference = next(s for s in specs if s.name == "face_inference")
    assert inference.parameters["audio_msg_type"] == "audio_common" and inference.parameters["sample_rate"] == 48000
    assert inference.remappings == {"audio/pcm": "/robot/mic"}
    with pytest.raises(ValueError, match="audio_common"):
        build_graph(GraphOptions(audio_msg_type="audio_common"))  # audio_capture publishes Int16MultiArray
    with pytest.raises(ValueError, match="sample_rate"):
        build_graph(GraphOptions(sample_rate=4000))
    with pytest.raises(ValueError, match="stop_at_end"):
        build_graph(GraphOptions(stop_at_end=True))  # the microphone has no end
    capture = build_graph(GraphOptions(profile="capture", audio_source="wav", wav_path="/tmp/a.wav"))
    assert [s.name for s in capture] == ["audio_capture"]


def _bringup(capsys, *argv: str) -> tuple[int, str]:
    from talkface_ros.cli import main

    code = main(["bringup", *argv])
    return code, capsys.readouterr().out


def test_dry_run_shows_the_emulated_controllers_ports(capsys):
    code, out = _bringup(capsys, "--profile", "hardware", "--hardware", "emulated-maestro", "--wav", "/tmp/a.wav",
                         "--dry-run")
    assert code == 0
    assert "port:=/dev/ttyACM0" not in out
    assert "-p bus:=maestro -p port:=" in out and "talkface-emulated-XXXXXXXX/ttymaestro" in out
    assert out.startswith("# emulated maestro on ")  # says that the folder is made at start-up
    code, out = _bringup(capsys, "--profile", "hardware", "--hardware", "maestro", "--port", "/dev/ttyUSB3",
                         "--dry-run")
    assert code == 0 and "port:=/dev/ttyUSB3" in out and "emulated" not in out


def test_a_wav_stops_the_graph_at_its_end_unless_looped_or_told_not_to(capsys):
    def exit_at_end(*argv: str) -> bool:
        code, out = _bringup(capsys, "--profile", "sim", *argv, "--dry-run")
        assert code == 0, out
        return "exit_at_end:=true" in out

    assert exit_at_end("--wav", "/tmp/a.wav")
    assert not exit_at_end("--wav", "/tmp/a.wav", "--no-stop-at-end")
    assert not exit_at_end("--wav", "/tmp/a.wav", "--loop")
    assert not exit_at_end()  # the microphone never ends
    code, out = _bringup(capsys, "--wav", "/tmp/a.wav", "--loop", "--stop-at-end", "--dry-run")
    assert code == 2 and "--loop" in out


def test_bringup_options_all_have_help():
    import argparse

    from talkface_ros.nodes import bringup_cli as bringup

    parser = argparse.ArgumentParser()
    bringup.add_arguments(parser)
    for action in parser._actions:
        if action.option_strings:
            assert action.help, f"{action.option_strings[0]} has no help text"
    profile = next(a for a in parser._actions if a.dest == "profile")
    assert all(name in profile.help for name in PROFILES)


def test_bringup_recognises_audio_captures_end_of_clip_line():
    from talkface_ros.nodes.bringup import clip_finished

    line = "[INFO] [1767000000.123456789] [audio_capture]: end of /tmp/a.wav: 150 chunks published\n"
    assert clip_finished(["[INFO] [1.0] [audio_capture]: reading /tmp/a.wav\n", line])
    assert not clip_finished(["[INFO] [1.0] [audio_capture]: reading /tmp/a.wav\n"])
