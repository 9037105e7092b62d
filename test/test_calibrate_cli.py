"""`talkface calibrate` writes to out/selfmodel by default, never into the package's shipped calibration."""
from __future__ import annotations

from pathlib import Path

import pytest

from talkface_ros.cli import main as talkface


class FakeModel:
    config = {"metrics": {"forward_heldout_rmse_mm": {"all": 0.2}}}
    saved_to: list[Path] = []

    def save(self, folder) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.saved_to.append(folder)
        return folder


@pytest.fixture
def fake_calibration(monkeypatch):
    """The CLI around calibrate(), without babbling in MuJoCo or training (minutes)."""
    face_sim = pytest.importorskip("talkface_ros.sim.face_sim")
    train = pytest.importorskip("talkface_ros.selfmodel.train")
    from talkface_ros.face import description

    FakeModel.saved_to = []
    monkeypatch.setattr(description, "load_face_description", lambda path=None: None)
    monkeypatch.setattr(face_sim, "FaceSim", lambda face: None)
    monkeypatch.setattr(train, "calibrate", lambda sim, config: FakeModel())
    return FakeModel


def test_default_output_is_out_selfmodel_not_the_shipped_folder(fake_calibration, tmp_path, monkeypatch, capsys):
    from talkface_ros.selfmodel.model import default_calibration_dir

    monkeypatch.chdir(tmp_path)
    assert talkface(["calibrate", "--sim"]) == 0
    assert fake_calibration.saved_to == [Path("out/selfmodel")]
    out = capsys.readouterr().out
    assert f"saved the calibration in {tmp_path / 'out' / 'selfmodel'}" in out
    assert "calibration_path:=" in out  # how to use it
    assert default_calibration_dir().resolve() not in [p.resolve() for p in fake_calibration.saved_to]


def test_a_file_as_output_fails_before_calibrating(fake_calibration, tmp_path, caplog):
    target = tmp_path / "file"
    target.write_text("x")
    assert talkface(["calibrate", "--sim", "-o", str(target)]) == 1
    assert "is a file" in caplog.text and not fake_calibration.saved_to
