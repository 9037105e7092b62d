"""The package is a real ROS 2 ament_python package, wherever it was installed from (also run by colcon test)."""
import ast
import importlib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from talkface_ros.paths import share_dir

pytestmark = pytest.mark.colcon
ROOT = Path(__file__).resolve().parent.parent


def test_package_xml_is_format_3_ament_python():
    root = ET.parse(ROOT / "package.xml").getroot()
    assert root.get("format") == "3"
    assert root.findtext("name") == "talkface_ros"
    assert root.find("export/build_type").text == "ament_python"
    depends = {e.text for e in root.iter("exec_depend")}
    assert {"rclpy", "std_msgs", "sensor_msgs", "std_srvs"} <= depends


def test_share_dir_holds_package_data():
    share = share_dir()
    for name in ("package.xml", "config", "launch"):
        assert (share / name).exists(), share / name
    assert (share / "config" / "audio_capture.yaml").is_file()


def node_entry_points() -> dict[str, str]:
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "NODES":
            return ast.literal_eval(node.value)
    raise AssertionError("setup.py has no NODES table")


def test_every_node_executable_has_a_main():
    pytest.importorskip("rclpy")
    entries = node_entry_points()
    assert "audio_capture" in entries
    for name, target in entries.items():
        module_name, function = target.split(":")
        module = importlib.import_module(module_name)
        assert callable(getattr(module, function)), name


def test_rclpy_only_under_nodes():
    offenders = []
    for path in (ROOT / "talkface_ros").rglob("*.py"):
        if "nodes" in path.relative_to(ROOT / "talkface_ros").parts:
            continue
        for line in path.read_text().splitlines():
            if line.strip().startswith(("import rclpy", "from rclpy")):
                offenders.append(str(path))
    assert not offenders


def test_launch_files_parse():
    for launch_file in (ROOT / "launch").glob("*.launch.py"):
        tree = ast.parse(launch_file.read_text())
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert "generate_launch_description" in names, launch_file


def setup_kwargs() -> dict:
    """setup()'s arguments, without running setuptools."""
    import runpy
    from unittest import mock

    captured: dict = {}
    with mock.patch("setuptools.setup", lambda **kw: captured.update(kw)):
        runpy.run_path(str(ROOT / "setup.py"), run_name="not_main")
    return captured


def test_each_data_file_is_installed_once_and_the_index_marker_is_explicit():
    # colcon maps data_files source -> destination: a file listed twice (resource/ was also mirrored into
    # share/) lost the ament index entry, and colcon warned and installed the marker itself
    sources = [source for _, files in setup_kwargs()["data_files"] for source in files]
    assert len(sources) == len(set(sources)), sorted(s for s in sources if sources.count(s) > 1)
    mapping = {source: destination for destination, files in setup_kwargs()["data_files"] for source in files}
    assert mapping["resource/talkface_ros"] == "share/ament_index/resource_index/packages"
    assert mapping["package.xml"] == "share/talkface_ros"


def test_license_file_matches_package_xml():
    root = ET.parse(ROOT / "package.xml").getroot()
    assert root.findtext("license") == "Apache-2.0" == setup_kwargs()["license"]
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX: How to apply the Apache License" in text


def test_changelog_is_a_ros_changelog_whose_top_release_is_the_package_version():
    changelog = pytest.importorskip("catkin_pkg.changelog")
    text = (ROOT / "CHANGELOG.rst").read_text()
    parsed = changelog.Changelog("talkface_ros")
    changelog.populate_changelog_from_rst(parsed, text)
    versions = [version for version, _, _ in parsed.foreach_version()]
    version = ET.parse(ROOT / "package.xml").getroot().findtext("version")
    assert versions and versions[0] == version == setup_kwargs()["version"]


def test_make_test_prints_skip_reasons():
    lines = (ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0].splitlines()
    pytest_lines = [line for line in lines if "pytest" in line and not line.strip().startswith("#")]
    assert pytest_lines and all(" -rs " in f"{line} " for line in pytest_lines), pytest_lines
