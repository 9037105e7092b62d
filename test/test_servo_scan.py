"""`talkface servo-scan` and `talkface emulate` against the emulators."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from talkface_ros.hardware.emulator import DynamixelEmulator, MaestroEmulator
from talkface_ros.hardware.scan import DynamixelFound, MaestroFound, scan


@pytest.mark.parametrize("model, channels", [("micro6", 6), ("mini18", 18)])
def test_scan_finds_a_maestro_and_counts_its_channels(model, channels):
    with MaestroEmulator(model=model) as emu:
        emu.channels[2].target = 6000
        emu.channels[2].position = 6000.0
        found = scan(emu.path, "auto")
        assert len(found) == 1 and isinstance(found[0], MaestroFound)
        assert found[0].model == model and len(found[0].channels) == channels
        assert found[0].channels[2] == 1500.0 and found[0].channels[0] is None
        assert emu.error_bits == 0  # the scan cleared the error its last probe caused
        assert emu.targets_received == 0  # read-only: nothing moved


def test_scan_finds_dynamixels():
    with DynamixelEmulator(ids=(3, 11)) as emu:
        found = scan(emu.path, "dynamixel", baud=57600)
        assert len(found) == 1 and isinstance(found[0], DynamixelFound)
        assert sorted(found[0].servos) == [3, 11] and found[0].servos[3]["model"] == 1020
        assert not emu.received_goals


def test_cli_scan_json_and_exit_codes(tmp_path):
    with MaestroEmulator(model="mini12") as emu:
        result = subprocess.run([sys.executable, "-m", "talkface_ros.cli", "servo-scan", "--port", emu.path, "--json"],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)[0]["model"] == "mini12"
    missing = subprocess.run([sys.executable, "-m", "talkface_ros.cli", "servo-scan", "--port", str(tmp_path / "x")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_cli_emulate_serves_a_port_that_scans(tmp_path):
    link = tmp_path / "ttyEmu"
    process = subprocess.Popen([sys.executable, "-m", "talkface_ros.cli", "emulate", "maestro", "--link", str(link),
                                "--model", "micro6", "--duration", "20"], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert str(link) in line
        found = scan(str(link), "maestro")
        assert found and found[0].model == "micro6"
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    summary = json.loads(output.strip().splitlines()[-1])
    assert summary["device"] == "maestro" and summary["replies"] >= 7
    assert not link.exists()


def test_emulator_for_the_shipped_face_matches_its_buses():
    from talkface_ros.hardware.emulator import emulator_for_face

    description = pytest.importorskip("talkface_ros.face.description").load_face_description()
    calibrations = description.calibrations()
    for bus in sorted({c.bus for c in calibrations}):
        with emulator_for_face(bus, calibrations) as emu:
            found = scan(emu.path, bus)
            assert len(found) == 1
            if bus == "maestro":
                assert len(found[0].channels) > max(c.channel for c in calibrations if c.bus == "maestro")
            else:
                assert set(found[0].servos) == {c.channel for c in calibrations if c.bus == "dynamixel"}
    with pytest.raises(ValueError, match="no joints"):
        emulator_for_face("maestro", [c for c in calibrations if c.bus != "maestro"])
