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


def test_launch_files_parse_and_share_the_graph_arguments():
    graph_launch = ast.parse((ROOT / "launch" / "graph_launch.py").read_text())
    arguments = next(n for n in graph_launch.body if isinstance(n, ast.Assign) and n.targets[0].id == "ARGUMENTS")
    fields = {value.elts[0].value for value in arguments.value.values}
    assert fields <= set(GraphOptions.__dataclass_fields__), fields - set(GraphOptions.__dataclass_fields__)
    for name in ("face_sim.launch.py", "face_hardware.launch.py"):
        source = (ROOT / "launch" / name).read_text()
        ast.parse(source)
        assert "graph_nodes(" in source and "generate_launch_description" in source


def test_launch_files_load_where_launch_is_installed():
    # (the repo's own launch/ folder imports as a namespace package, so ask for launch_ros)
    pytest.importorskip("launch_ros", reason="launch is not installable here; runs on ROS 2 installs")
    import launch
    from launch.launch_description_sources import PythonLaunchDescriptionSource

    for name in ("face_sim.launch.py", "face_hardware.launch.py", "audio_capture.launch.py"):
        description = PythonLaunchDescriptionSource(str(ROOT / "launch" / name)).get_launch_description(
            launch.LaunchContext())
        assert description.entities
