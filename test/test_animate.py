"""`talkface animate IN -o OUT.csv`: any rate/channels in, Live Link CSV out, same frames as streaming."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile
import torch

from talkface_ros.cli import main as talkface
from talkface_ros.face.livelink import read_livelink_csv
from talkface_ros.model.animate import animate_file
from talkface_ros.model.checkpoint import save_checkpoint
from talkface_ros.model.export import export_onnx
from talkface_ros.model.network import FaceModel, ModelConfig


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    torch.manual_seed(0)
    model = FaceModel(ModelConfig(d_model=32, n_layer=1, n_head=2, window=8, den_hidden=32, den_layers=1))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    d = tmp_path_factory.mktemp("model")
    save_checkpoint(model.eval(), d)
    export_onnx(model, d)
    return d


@pytest.fixture()
def stereo_wav(tmp_path):
    rng = np.random.default_rng(0)
    n = int(1.5 * 44100)
    left = 0.3 * np.sin(2 * np.pi * 200 * np.arange(n) / 44100) * (rng.random(n) > 0.3)
    data = np.stack([left, 0.5 * rng.standard_normal(n).clip(-1, 1)], axis=1)
    path = tmp_path / "in.wav"
    soundfile.write(path, data, 44100, subtype="PCM_24")
    return path


def test_animate_writes_livelink_csv_at_the_requested_fps(model_dir, stereo_wav, tmp_path):
    out = tmp_path / "out.csv"
    assert talkface(["animate", str(stereo_wav), "-o", str(out), "--fps", "60", "--model", str(model_dir),
                     "--emotion", "happy:0.8", "--lookahead", "2", "--seed", "3"]) == 0
    frames, fps = read_livelink_csv(out)
    assert fps == pytest.approx(60, abs=0.5)
    assert len(frames) == 90  # 1.5 s: 75 model frames at 50 Hz -> 90 at 60 fps
    assert np.isfinite(frames).all() and frames[:, :52].min() >= 0 and frames[:, :52].max() <= 1


@pytest.mark.parametrize("lookahead", [0, 3])
def test_offline_path_equals_the_streaming_push_path(model_dir, stereo_wav, lookahead):
    offline = animate_file(str(stereo_wav), str(model_dir), lookahead=lookahead, seed=5, emotion="sad:0.5")
    streamed = animate_file(str(stereo_wav), str(model_dir), lookahead=lookahead, seed=5, emotion="sad:0.5",
                            streaming=True)
    assert offline.shape == streamed.shape == (75, 55)
    np.testing.assert_allclose(offline, streamed, atol=1e-4)


def test_unreadable_audio_and_bad_arguments_fail_clearly(model_dir, tmp_path, caplog):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF nonsense")
    assert talkface(["animate", str(bad), "-o", str(tmp_path / "o.csv"), "--model", str(model_dir)]) == 1
    assert "cannot read" in caplog.text
    assert talkface(["animate", str(tmp_path / "missing.wav"), "-o", str(tmp_path / "o.csv"),
                     "--model", str(model_dir)]) == 1
    assert "not found" in caplog.text
    ok = tmp_path / "ok.wav"
    soundfile.write(ok, np.zeros(1600), 16000)
    assert talkface(["animate", str(ok), "-o", str(tmp_path / "o.csv"), "--model", str(tmp_path / "nomodel")]) == 1
    assert "model folder not found" in caplog.text


def test_silence_clipping_and_tiny_files(model_dir, tmp_path):
    path = tmp_path / "clip.wav"
    soundfile.write(path, np.concatenate([np.zeros(8000), np.ones(8000), -np.ones(5)]), 8000)
    frames = animate_file(str(path), str(model_dir))
    assert frames.shape == (-(-32010 // 320), 55) and np.isfinite(frames).all()
    tiny = tmp_path / "tiny.wav"
    soundfile.write(tiny, np.zeros(10), 16000)
    assert animate_file(str(tiny), str(model_dir)).shape == (1, 55)


def test_animate_uses_two_threads_only_where_two_cpus_are_allowed(monkeypatch):
    from talkface_ros.model import animate

    monkeypatch.setattr(animate.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert animate.default_threads() == 2
    monkeypatch.setattr(animate.os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert animate.default_threads() == 1


def _exit_code(argv: list[str]) -> int:
    """talkface's return code, or argparse's (it exits 2 on a bad command line)."""
    try:
        return talkface(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)


@pytest.mark.parametrize("option", [["--fps", "0"], ["--fps", "-5"], ["--fps", "nan"], ["--fps", "abc"],
                                    ["--threads", "0"], ["--lookahead", "4"], ["--lookahead", "-1"],
                                    ["--emotion", "bored"], ["--emotion", "happy:2"]])
def test_every_bad_value_is_a_usage_error_with_exit_code_2(option, tmp_path, capsys, monkeypatch):
    from talkface_ros.model import animate

    monkeypatch.setattr(animate, "animate_file", lambda *a, **k: pytest.fail("the model ran"))
    assert _exit_code(["animate", str(tmp_path / "in.wav"), "-o", str(tmp_path / "o.csv"), *option]) == 2
    err = capsys.readouterr().err
    assert f"argument {option[0]}" in err and "Traceback" not in err
    assert not (tmp_path / "o.csv").exists()


def test_a_bad_output_path_fails_before_the_model_runs(tmp_path, caplog, monkeypatch):
    from talkface_ros.model import animate

    monkeypatch.setattr(animate, "animate_file", lambda *a, **k: pytest.fail("the model ran"))
    wav = tmp_path / "in.wav"
    soundfile.write(wav, np.zeros(1600), 16000)
    # an existing folder as -o
    assert talkface(["animate", str(wav), "-o", str(tmp_path)]) == 1
    assert "is a directory" in caplog.text
    # a file where a parent folder should be
    (tmp_path / "plain").write_text("x")
    caplog.clear()
    assert talkface(["animate", str(wav), "-o", str(tmp_path / "plain" / "sub" / "o.csv")]) == 1
    assert "cannot create" in caplog.text
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "\n" not in errors[0].getMessage()


def test_missing_output_folders_are_created(model_dir, stereo_wav, tmp_path):
    out = tmp_path / "new" / "deeper" / "o.csv"
    assert talkface(["animate", str(stereo_wav), "-o", str(out), "--model", str(model_dir)]) == 0
    frames, _ = read_livelink_csv(out)
    assert len(frames) == 90
