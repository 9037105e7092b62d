"""Process plumbing shared by the nodes and the emulators (no ROS)."""
from __future__ import annotations

import ctypes
import os
import signal
import sys

# Set by the launch files and `talkface bringup` for their children: the starter's process id.
EXIT_WITH_PARENT_ENV = "TALKFACE_EXIT_WITH_PARENT"
_PR_SET_PDEATHSIG = 1


def exit_with_parent_env() -> dict[str, str]:
    """The environment entry a starter gives its children so that they end with it."""
    return {EXIT_WITH_PARENT_ENV: str(os.getpid())}


def exit_with_parent_if_asked(signum: int = signal.SIGINT) -> bool:
    """Where the starter asked for it (TALKFACE_EXIT_WITH_PARENT=<its pid>), have Linux send this process
    `signum` when its parent dies: `ros2 launch` stopped with SIGTERM or SIGKILL leaves its children running
    otherwise (upstream launch cancels its task without stopping them). If the starter has died already,
    `signum` is sent at once. -> whether it is armed."""
    starter = os.environ.pop(EXIT_WITH_PARENT_ENV, "")  # for this process only, not for what it starts
    if not starter.isdigit() or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() != int(starter):  # the starter died before prctl (or is not our parent): act now
        os.kill(os.getpid(), signum)
    return True
