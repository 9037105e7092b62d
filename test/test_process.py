"""A node started by a launch file or bringup ends with its starter (talkface_ros.process)."""
import os
import subprocess
import sys
import time

import pytest

from talkface_ros.process import EXIT_WITH_PARENT_ENV, exit_with_parent_env

CHILD = ("import os, time, talkface_ros.process as p; armed = p.exit_with_parent_if_asked(); "
         "print(armed, os.environ.get('TALKFACE_EXIT_WITH_PARENT'), flush=True); time.sleep(30)")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG) is Linux")


def test_a_child_whose_starter_is_gone_stops_at_once():
    env = dict(os.environ, **{EXIT_WITH_PARENT_ENV: "1"})  # pid 1 is never this child's parent
    started = time.monotonic()
    child = ("import os, time, talkface_ros.process as p\ntry:\n    p.exit_with_parent_if_asked(); time.sleep(30)\n"
             "except KeyboardInterrupt:\n    print('stopped', os.environ.get('TALKFACE_EXIT_WITH_PARENT'))")
    done = subprocess.run([sys.executable, "-c", child], env=env, capture_output=True, text=True, timeout=20)
    assert time.monotonic() - started < 15
    assert done.stdout.strip() == "stopped None", done  # and not passed on to what the child starts


def test_a_child_of_a_killed_starter_is_stopped():
    # starter (a python that starts CHILD and sleeps) is SIGKILLed: no chance to clean up, the kernel signals
    starter_code = (f"import subprocess, sys, os, time; env = dict(os.environ, **{exit_with_parent_env.__name__}()); "
                    f"c = subprocess.Popen([sys.executable, '-c', {CHILD!r}], env=env); print(c.pid, flush=True); "
                    "time.sleep(60)")
    starter_code = starter_code.replace(f"{exit_with_parent_env.__name__}()",
                                        "{'TALKFACE_EXIT_WITH_PARENT': str(os.getpid())}")
    starter = subprocess.Popen([sys.executable, "-c", starter_code], stdout=subprocess.PIPE, text=True)
    child = int(starter.stdout.readline())
    time.sleep(1.5)  # armed
    os.kill(child, 0)  # alive while its starter is
    starter.kill()
    starter.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        try:  # reap it if it became ours (it did not: it is init's), then look again
            os.waitpid(child, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    else:
        os.kill(child, 9)
        pytest.fail("the child outlived its killed starter")


def test_without_the_variable_nothing_is_armed():
    env = {k: v for k, v in os.environ.items() if k != EXIT_WITH_PARENT_ENV}
    done = subprocess.run([sys.executable, "-c", CHILD.replace("time.sleep(30)", "pass")], env=env,
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 0 and done.stdout.startswith("False")
