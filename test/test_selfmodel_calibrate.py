"""A tiny end-to-end calibration: babble, fit, invert, evaluate, save, load, retarget."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("mujoco")
pytest.importorskip("torch")


def test_tiny_calibration_round_trip(tmp_path):
    from talkface_ros.face.arkit import FRAME_SIZE
    from talkface_ros.selfmodel.model import SelfModel
    from talkface_ros.selfmodel.train import CalibrateConfig, calibrate
    from talkface_ros.sim.face_sim import FaceSim

    sim = FaceSim()
    config = CalibrateConfig(babble_samples=300, forward_steps=150, inverse_frames=200, solver_steps=30,
                             inverse_steps=100, eval_frames=8)
    model = calibrate(sim, config, progress=False)
    folder = model.save(tmp_path / "cal")
    metrics = json.loads((folder / "selfmodel.json").read_text())["metrics"]
    for key in ("forward_heldout_rmse_mm", "retarget_in_sim_mm", "retarget_in_sim_expressible_mm"):
        assert key in metrics
    assert np.isfinite(metrics["forward_heldout_rmse_mm"]["all"])
    loaded = SelfModel.load(folder)
    frames = np.random.default_rng(1).uniform(0, 1, size=(5, FRAME_SIZE))
    np.testing.assert_allclose(loaded.retarget(frames), model.retarget(frames), atol=1e-5)
    assert not list(folder.glob("*.pt")) and not list(folder.glob("*.pkl"))
