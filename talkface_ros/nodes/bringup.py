"""The node graph as separate processes, for machines without `ros2 launch` (`talkface bringup`, the demo,
the benchmarks): the same graph description as the launch files (talkface_ros.nodes.graph), the same config
files and parameters; every node is stopped with SIGINT, and ends with its starter even if that is killed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from talkface_ros.nodes.graph import EMULATED_PREFIX, GraphOptions, NodeSpec, emulated_ports
from talkface_ros.paths import config_path
from talkface_ros.process import exit_with_parent_env


def _ros_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value == "":
        return "''"
    return str(value)


def node_command(spec: NodeSpec, namespace: str = "") -> list[str]:
    command = [sys.executable, "-m", f"talkface_ros.nodes.{spec.executable}", "--ros-args", "-r", f"__node:={spec.name}"]
    if namespace:
        command += ["-r", f"__ns:={namespace if namespace.startswith('/') else '/' + namespace}"]
    for name in spec.param_files:
        path = config_path(name)
        if path.is_file():
            command += ["--params-file", str(path)]
    for key, value in spec.parameters.items():
        command += ["-p", f"{key}:={_ros_value(value)}"]
    for source, target in spec.remappings.items():
        command += ["-r", f"{source}:={target}"]
    return command


def bringup_environment() -> dict[str, str]:
    """Keep discovery on this machine unless the user chose otherwise."""
    env = dict(os.environ)
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    env.setdefault("ROS_DOMAIN_ID", "42")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.update(exit_with_parent_env())  # no node outlives bringup, even if it is killed
    return env


class Graph:
    """The running processes of a graph; a context manager that always stops them."""

    def __init__(self, specs: list[NodeSpec], namespace: str = "", quiet: bool = False,
                 extra_env: dict[str, str] | None = None) -> None:
        self.specs = specs
        self.namespace = namespace
        self.quiet = quiet
        self.env = bringup_environment()
        self.env.update(extra_env or {})
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, list[str]] = {}

    def _pump(self, name: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.logs[name].append(line)
            if not self.quiet:
                sys.stdout.write(f"[{name}] {line}")

    def start(self) -> "Graph":
        for spec in self.specs:
            process = subprocess.Popen(node_command(spec, self.namespace), env=self.env, text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            self.processes[spec.name] = process
            self.logs[spec.name] = []
            threading.Thread(target=self._pump, args=(spec.name, process), daemon=True).start()
        return self

    def failed(self) -> dict[str, int]:
        """Nodes that exited with an error."""
        return {name: p.returncode for name, p in self.processes.items() if p.poll() not in (None, 0)}

    def stop(self, timeout: float = 10.0) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> "Graph":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def start_emulators(options: GraphOptions) -> list:
    """For --hardware emulated-maestro|emulated-dynamixel: the controller(s) emulated on pseudo-terminals in
    this process, sized from the face description (a Maestro face also gets its Dynamixel neck); the
    servo_driver nodes get their ports."""
    import tempfile

    from talkface_ros.face.description import load_face_description
    from talkface_ros.hardware.emulator.for_face import emulator_for_face

    calibrations = load_face_description().calibrations()
    ports = emulated_ports(options, tempfile.mkdtemp(prefix=EMULATED_PREFIX), {c.bus for c in calibrations})
    emulators = [emulator_for_face(bus, calibrations, link_path=port).start() for bus, port in ports.items()]
    print(f"emulated {options.hardware.replace('emulated-', '')} on {options.port}"
          + (f", Dynamixel neck on {options.neck_port}" if options.neck_port else ""))
    return emulators


def dry_run_emulated_ports(options: GraphOptions) -> str:
    """--dry-run of an emulated-* profile: the ports the emulators will have (their folder is made at start-up,
    so its random part shows as XXXXXXXX); -> a comment line for the printout."""
    import tempfile

    ports = emulated_ports(options, str(Path(tempfile.gettempdir()) / f"{EMULATED_PREFIX}XXXXXXXX"))
    return ("# " + ", ".join(f"emulated {bus} on {port}" for bus, port in ports.items())
            + " (pseudo-terminals made at start-up; XXXXXXXX is random)")


def clip_finished(audio_capture_log: list[str]) -> bool:
    """audio_capture logs 'end of <wav>: N chunks published' after the last chunk of each pass."""
    return any("end of " in line and "chunks published" in line for line in audio_capture_log)
