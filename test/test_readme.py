"""The README documents every node parameter (tools/param_tables.py prints the tables) and the two commands."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_readme_has_the_two_commands_and_every_parameter():
    pytest.importorskip("rclpy")
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    from param_tables import NODES, table

    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    for node in NODES:
        for line in table(node).splitlines()[2:]:
            name = line.split("|")[1].strip()
            assert name in readme, f"README misses {node} parameter {name}"
