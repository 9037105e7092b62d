"""`talkface train` / `talkface distill` / `talkface export-onnx` on a tiny stand-in corpus (contract A)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from talkface_ros.cli import main as talkface
from talkface_ros.data.corpus import Utterance, write_manifest, write_shard
from talkface_ros.face.arkit import INDEX
from talkface_ros.model.checkpoint import load_checkpoint
from talkface_ros.model.streamer import FaceStreamer

TINY = ["--set", "d_model=32", "--set", "n_layer=1", "--set", "n_head=2", "--set", "window=8",
        "--set", "den_hidden=32", "--set", "den_layers=1", "--set", "batch=4", "--set", "seq=30"]


def _utterance(i: int, split: str) -> Utterance:
    """Loud bursts open the jaw, silence closes it: a learnable toy relation."""
    rng = np.random.default_rng(i)
    T = 60
    loud = (np.arange(T) // 6 + i) % 2 == 0
    audio = (rng.standard_normal(T * 320) * np.repeat(np.where(loud, 8000, 50), 320)).astype(np.int16)
    frames = np.zeros((T, 55), np.float32)
    frames[:, INDEX["jawOpen"]] = np.where(loud, 0.8, 0.05)
    return Utterance(f"u{i}", audio, frames, np.where(loud, 1, 2).astype(np.uint8), np.zeros(T, np.int8),
                     emotion="happy" if i % 2 else "neutral", intensity=0.7, split=split)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    write_shard(d, 0, [_utterance(i, "train") for i in range(6)] + [_utterance(9, "val")])
    write_manifest(d)
    return d


def test_train_resume_distill_export_and_run(corpus, tmp_path):
    teacher = tmp_path / "teacher"
    args = ["train", "--corpus", str(corpus), "-o", str(teacher), "--threads", "1", *TINY]
    assert talkface(args + ["--steps", "40", "--set", "save_every=20", "--set", "warmup=5"]) == 0
    card = json.loads((teacher / "card.json").read_text())
    assert card["train"]["step"] == 40 and card["train"]["clips"] == 6 and "val_v_loss" in card["train"]
    assert card["git_commit"]
    first_loss = card["train"]["val_aux_mse"]
    # resume: continues from step 40 (optimizer moments restored from the safetensors file)
    assert talkface(args + ["--steps", "120", "--set", "save_every=40", "--set", "warmup=5"]) == 0
    card = json.loads((teacher / "card.json").read_text())
    assert card["train"]["step"] == 120
    assert card["train"]["val_aux_mse"] < first_loss  # it learns
    model, _, extra = load_checkpoint(teacher)
    assert model.cfg.d_model == 32 and any(k.startswith("opt/") for k in extra)

    student = tmp_path / "student"
    assert talkface(["distill", str(teacher), "--corpus", str(corpus), "-o", str(student), "--threads", "1",
                     "--steps", "6", "--set", "batch=4", "--set", "seq=30", "--set", "teacher_steps=4"]) == 0
    card = json.loads((student / "card.json").read_text())
    assert card["distill"]["step"] == 6 and card["distill"]["nfe_student"] == 1 and card["train"]["step"] == 120
    assert talkface(["export-onnx", str(student)]) == 0
    s = FaceStreamer.from_pretrained(student)
    frames = s.push(np.zeros(16000, np.int16))
    assert len(frames) == 50 and all(np.isfinite(f.values).all() for f in frames)


def test_train_rejects_an_unknown_config_field(corpus, tmp_path):
    with pytest.raises(SystemExit, match="unknown config field"):
        talkface(["train", "--corpus", str(corpus), "-o", str(tmp_path / "x"), "--set", "nope=1"])
