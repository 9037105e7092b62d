"""`talkface <command> --help` is quick: no subcommand imports torch (or rclpy) just to print its options."""
import subprocess
import sys

from talkface_ros.cli import COMMANDS

HEAVY = ("torch", "rclpy")


def test_no_subcommand_help_imports_torch_or_rclpy():
    # one interpreter for all commands (2 CPUs are shared with other work); sys.modules only grows, so the
    # first command that pulls a heavy module in is the one named
    code = (
        "import sys\n"
        "from talkface_ros.cli import main\n"
        f"for name in {sorted(COMMANDS)!r}:\n"
        "    try:\n"
        "        main([name, '--help'])\n"
        "    except SystemExit as exit_:\n"
        "        assert exit_.code in (0, None), (name, exit_.code)\n"
        f"    heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "    assert not heavy, f'talkface {name} --help imported {heavy}'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    for name in COMMANDS:
        assert f"talkface {name}" in result.stdout  # every help was printed
