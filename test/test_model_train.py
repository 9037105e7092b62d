"""`talkface train` / `talkface distill` / `talkface export-onnx` on a tiny stand-in corpus (contract A)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from talkface_ros.cli import main as talkface
from talkface_ros.model.checkpoint import load_checkpoint
from talkface_ros.model.streamer import FaceStreamer
from model_helpers import write_toy_corpus

TINY = ["--set", "d_model=32", "--set", "n_layer=1", "--set", "n_head=2", "--set", "window=8",
        "--set", "den_hidden=32", "--set", "den_layers=1", "--set", "batch=4", "--set", "seq=30"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    write_toy_corpus(d)
    return d


def test_train_resume_distill_export_and_run(corpus, tmp_path):
    teacher = tmp_path / "teacher"
    args = ["train", "--corpus", str(corpus), "-o", str(teacher), "--threads", "1", *TINY]
    assert talkface(args + ["--steps", "40", "--set", "save_every=20", "--set", "warmup=5"]) == 0
    card = json.loads((teacher / "card.json").read_text())
    # 6 utterances, each with one augmented copy (TrainConfig.audio_copies = 1)
    assert card["train"]["step"] == 40 and card["train"]["clips"] == 12 and "val_v_loss" in card["train"]
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
    assert json.loads((student / "config.json").read_text())["residual_student"] is True  # the default recipe
    assert talkface(["export-onnx", str(student)]) == 0
    s = FaceStreamer.from_pretrained(student)
    frames = s.push(np.zeros(16000, np.int16))
    assert len(frames) == 50 and all(np.isfinite(f.values).all() for f in frames)


def test_distill_aux_weight_pulls_the_articulation_towards_the_aux_estimate(corpus, tmp_path):
    """DistillConfig.aux_weight: the student's lip channels follow the aux head's lag-free estimate of frame t."""
    import torch

    from talkface_ros.model.data import load_clips, sample_batch
    from talkface_ros.model.diffusion import student_x0
    from talkface_ros.model.train import ARTICULATION_IDX, _select

    teacher = tmp_path / "teacher"
    assert talkface(["train", "--corpus", str(corpus), "-o", str(teacher), "--threads", "1", *TINY,
                     "--steps", "40", "--set", "warmup=5"]) == 0
    gaps = {}
    for weight in (0.0, 50.0):
        out = tmp_path / f"student_{weight}"
        assert talkface(["distill", str(teacher), "--corpus", str(corpus), "-o", str(out), "--threads", "1",
                         "--steps", "100", "--set", "batch=4", "--set", "seq=30", "--set", "teacher_steps=2",
                         "--set", "lr=0.003", "--set", f"aux_weight={weight}"]) == 0
        card = json.loads((out / "card.json").read_text())
        assert card["distill"]["config"]["aux_weight"] == weight and "aux" in card["distill"]["last_loss"]
        model, _, _ = load_checkpoint(out)
        clips = load_clips(str(corpus), "train")
        batch = sample_batch(clips, 4, 30, model.cfg.history, 0, np.random.default_rng(5), gain_db=0.0)
        with torch.no_grad():
            h = model.encoder(batch.tokens)
            _, hh, hist, _, emo, la = _select(batch, h, model, 0.0, torch.Generator().manual_seed(0))
            h_frame = h[batch.valid]
            pred = student_x0(model, torch.randn(hh.shape[0], 55, generator=torch.Generator().manual_seed(1)),
                              h_frame, hh, hist, emo, la)
            aux = model.aux_head(h_frame)
        gaps[weight] = float((pred - aux)[:, ARTICULATION_IDX].abs().mean())
    assert gaps[50.0] < 0.7 * gaps[0.0], gaps


def test_augmented_copies_keep_the_labels_and_change_the_audio(corpus):
    from talkface_ros.model.data import load_clips

    clean = load_clips(str(corpus), "train")
    clips = load_clips(str(corpus), "train", audio_copies=2, rng=np.random.default_rng(0))
    assert len(clean) == 6 and len(clips) == 18
    for i, original in enumerate(clean):
        group = clips[3 * i:3 * i + 3]
        assert group[0].id == original.id and np.array_equal(group[0].tokens, original.tokens)
        for copy in group[1:]:
            assert copy.id.startswith(original.id + "+aug")
            assert np.array_equal(copy.frames, original.frames) and np.array_equal(copy.phone_class, original.phone_class)
            assert copy.tokens.shape == original.tokens.shape and np.isfinite(copy.tokens).all()
            assert np.abs(copy.tokens - original.tokens).mean() > 0.1  # the audio really changed
    again = load_clips(str(corpus), "train", audio_copies=2, rng=np.random.default_rng(0))
    assert all(np.array_equal(a.tokens, b.tokens) for a, b in zip(clips, again))  # seeded: reproducible
    with pytest.raises(ValueError, match="rng"):
        load_clips(str(corpus), "train", audio_copies=1)


def test_spectral_jitter_moves_formants_by_the_drawn_factor_and_tilts_without_shifting_the_mean():
    from talkface_ros.model.data import spectral_jitter
    from talkface_ros.model.features import MEL_CENTRES_HZ as _MEL_CENTRES_HZ, _hz_to_mel

    x = np.full((1, 4, 160), -8.0, np.float32)
    x[..., 30] = x[..., 80 + 30] = 0.0  # one formant-like peak at mel bin 30 in both halves of each token
    assert spectral_jitter(x, np.random.default_rng(0), 0.0, 0.0) is x
    for seed in range(5):
        alpha = float(np.exp(np.random.default_rng(seed).uniform(-0.12, 0.12)))  # the function's first draw
        y = spectral_jitter(x, np.random.default_rng(seed), 0.12, 0.0)
        mel = _hz_to_mel(_MEL_CENTRES_HZ)
        expected = int(np.argmin(np.abs(mel - _hz_to_mel(np.array(alpha * _MEL_CENTRES_HZ[30])))))
        assert abs(int(np.argmax(y[0, 0, :80])) - expected) <= 1 and abs(int(np.argmax(y[0, 0, 80:])) - expected) <= 1
    flat = np.full((3, 2, 160), -4.0, np.float32)
    tilted = spectral_jitter(flat, np.random.default_rng(1), 0.0, 2.0)
    halves = tilted.reshape(3, 4, 80)
    assert np.allclose(halves.mean(axis=2), -4.0, atol=1e-5)  # a tilt about mid-band
    slopes = halves[:, 0, -1] - halves[:, 0, 0]
    assert np.all(np.abs(slopes) <= 2.0) and np.ptp(slopes) > 0.1  # per crop, within the range
    assert np.all(halves == halves[:, :1])  # the same tilt for every frame of a crop


def test_train_rejects_an_unknown_config_field(corpus, tmp_path):
    with pytest.raises(SystemExit, match="unknown config field"):
        talkface(["train", "--corpus", str(corpus), "-o", str(tmp_path / "x"), "--set", "nope=1"])


@pytest.mark.parametrize("lookahead", [0, 1, 3])
def test_aux_head_reads_frame_t_from_token_t_at_every_lookahead(corpus, lookahead):
    """The aux head regresses frame t from h[t], never h[t + L] (that pulled the encoder towards a delay)."""
    import torch

    from talkface_ros.model.data import load_clips, sample_batch
    from talkface_ros.model.network import FaceModel, ModelConfig
    from talkface_ros.model.train import aux_loss

    model = FaceModel(ModelConfig(d_model=64, n_head=2, n_layer=1, window=8, den_hidden=32, den_layers=1))
    with torch.no_grad():  # aux_head(h) = h[:, :55]
        model.aux_head.weight.copy_(torch.eye(55, 64))
        model.aux_head.bias.zero_()
    clips = load_clips(str(corpus), "train")
    batch = sample_batch(clips, 4, 30, model.cfg.history, lookahead, np.random.default_rng(0))
    h = torch.zeros(4, 30, 64)
    h[..., :55] = model.normalize(batch.frames)  # the encoding at token t holds exactly frame t
    assert aux_loss(model, batch, h).item() < 1e-10
    shifted = torch.roll(h, 1, dims=1)  # an encoding one frame late is penalised
    assert aux_loss(model, batch, shifted).item() > 1e-3


def test_history_dropout_replaces_rows_by_the_clip_start_history():
    import torch

    from talkface_ros.model.network import FaceModel, ModelConfig
    from talkface_ros.model.train import drop_history

    model = FaceModel(ModelConfig(d_model=32, n_head=2, n_layer=1, window=8, den_hidden=32, den_layers=1))
    model.face_mean.fill_(0.3)
    hist = torch.randn(2000, 4, 55)
    gen = torch.Generator().manual_seed(0)
    assert torch.equal(drop_history(model, hist, 0.0, gen), hist)
    out = drop_history(model, hist, 0.25, gen)
    start = model.normalize(torch.zeros(4, 55))
    dropped = (out == start).all(dim=(1, 2))
    kept = (out == hist).all(dim=(1, 2))
    assert bool((dropped | kept).all()) and 0.2 < dropped.float().mean().item() < 0.3


def test_own_history_rolls_the_student_out_from_the_frames_before_the_crop(corpus):
    """Distillation can condition on the student's own outputs (as at run time), not only ground truth."""
    import torch

    from talkface_ros.model.data import load_clips, sample_batch
    from talkface_ros.model.network import FaceModel, ModelConfig
    from talkface_ros.model.train import own_history

    model = FaceModel(ModelConfig(d_model=32, n_head=2, n_layer=1, window=8, den_hidden=32, den_layers=1))
    model.face_mean.fill_(0.3)
    with torch.no_grad():  # a student that always answers x0 = 0, i.e. the mean face
        model.student.out.weight.zero_()
        model.student.out.bias.zero_()
    clips = load_clips(str(corpus), "train")
    batch = sample_batch(clips, 3, 30, model.cfg.history, 1, np.random.default_rng(1))
    batch.history[:, 0] = 0.9  # the ground-truth frames before the crop
    h = model.encoder(batch.tokens).detach()
    out = own_history(model, batch, h, torch.Generator().manual_seed(0))
    assert out.shape == batch.history.shape
    assert torch.equal(out[:, 0], batch.history[:, 0])
    assert torch.allclose(out[:, 1, :-1], batch.history[:, 0, 1:])  # shifted by one generated frame
    assert torch.allclose(out[:, 1, -1], torch.full((3, 55), 0.3))
    assert torch.allclose(out[:, 4:], torch.full_like(out[:, 4:], 0.3))  # only its own frames from t = K on


def test_causal_history_holds_the_aux_estimates_of_the_previous_frames_only(corpus):
    """causal_history conditions on estimates from audio up to each history frame: no future leaks in."""
    import torch

    from talkface_ros.model.data import load_clips, sample_batch
    from talkface_ros.model.network import FaceModel, ModelConfig
    from talkface_ros.model.train import causal_history

    model = FaceModel(ModelConfig(d_model=32, n_head=2, n_layer=1, window=8, den_hidden=32, den_layers=1))
    model.face_mean.fill_(0.3)
    clips = load_clips(str(corpus), "train")
    batch = sample_batch(clips, 2, 20, model.cfg.history, 0, np.random.default_rng(2))
    batch.history[:, 0] = 0.9
    h = model.encoder(batch.tokens).detach()
    out = causal_history(model, batch, h)
    assert out.shape == batch.history.shape
    assert torch.equal(out[:, 0], batch.history[:, 0])   # before the crop: the frames it came with
    estimates = model.denormalize(model.aux_head(h)).clamp(0.0, 1.0)
    for t in (1, 5, 19):
        assert torch.allclose(out[:, t, -1, :52], estimates[:, t - 1, :52])   # the previous frame's estimate
    # the future of the audio does not reach the history of frame t
    changed = batch.tokens.clone()
    changed[:, 10:] += 5.0
    out_changed = causal_history(model, batch, model.encoder(changed).detach())
    assert torch.allclose(out_changed[:, :11], out[:, :11]) and not torch.allclose(out_changed[:, 12:], out[:, 12:])


def test_a_residual_student_starts_as_the_aux_estimate_and_a_plain_one_as_the_teacher(corpus, tmp_path):
    """DistillConfig.residual: the student's output layer starts at zero on top of the aux head's estimate of
    its frame; residual=false keeps the teacher's weights (the former recipe)."""
    import torch

    from talkface_ros.model.diffusion import one_step, student_x0
    from talkface_ros.model.train import DistillConfig, distill

    teacher = tmp_path / "teacher"
    assert talkface(["train", "--corpus", str(corpus), "-o", str(teacher), "--threads", "1", *TINY,
                     "--steps", "10", "--set", "warmup=5"]) == 0
    g = torch.Generator().manual_seed(0)
    for residual in (True, False):
        model = distill(str(teacher), str(corpus), str(tmp_path / f"s{residual}"),
                        DistillConfig(steps=1, batch=2, seq=20, teacher_steps=1, lr=0.0, threads=1, residual=residual))
        assert model.cfg.residual_student is residual
        h, h_frame = torch.randn(5, 32, generator=g), torch.randn(5, 32, generator=g)
        args = (torch.randn(5, 55, generator=g), h_frame, h, torch.randn(5, model.cfg.history, 55, generator=g),
                torch.zeros(5, 7), torch.zeros(5, dtype=torch.long))
        with torch.no_grad():
            x0 = student_x0(model, *args)
            if residual:
                torch.testing.assert_close(x0, model.aux_head(h_frame))
            else:
                torch.testing.assert_close(x0, one_step(model.teacher, args[0], h, *args[3:]))


def test_weight_average_follows_the_ramped_decay_and_swaps_back():
    import torch

    from talkface_ros.model.train import WeightAverage

    p = torch.nn.Parameter(torch.zeros(3))
    avg = WeightAverage({"p": p}, decay=0.5)
    expected = torch.zeros(3)
    for step, value in enumerate((1.0, 2.0, 4.0, 8.0), start=1):
        with torch.no_grad():
            p.fill_(value)
        avg.update()
        d = min(0.5, (1 + step) / (10 + step))
        expected = d * expected + (1 - d) * value
    torch.testing.assert_close(avg.average["p"], expected)
    avg.swap()
    torch.testing.assert_close(p.detach(), expected)
    avg.swap()
    assert (p.detach() == 8.0).all()


def test_training_with_a_weight_average_saves_the_average_and_resumes_it(corpus, tmp_path):
    """TrainConfig.ema: the checkpoint's weights are the average, the raw ones beside them as extra tensors;
    a resumed run goes on from both (one more step at lr 0 leaves the raw weights and moves the average
    towards them by the ramped decay)."""
    import torch

    args = ["train", "--corpus", str(corpus), "-o", str(tmp_path), "--threads", "1", *TINY, "--set", "warmup=5",
            "--set", "ema=0.9", "--set", "save_every=10"]
    assert talkface(args + ["--steps", "10"]) == 0
    avg10, _, extra10 = load_checkpoint(tmp_path)
    w = "encoder.inp.weight"
    assert (avg10.state_dict()[w] - extra10[f"raw/{w}"]).abs().max() > 1e-4  # the average is not the last step
    assert talkface(args + ["--steps", "11", "--set", "lr=0.0"]) == 0
    avg11, _, extra11 = load_checkpoint(tmp_path)
    d = min(0.9, (1 + 11) / (10 + 11))
    for name in ("encoder.inp.weight", "teacher.out.bias", "aux_head.weight"):
        torch.testing.assert_close(extra11[f"raw/{name}"], extra10[f"raw/{name}"])
        torch.testing.assert_close(avg11.state_dict()[name],
                                   d * avg10.state_dict()[name] + (1 - d) * extra10[f"raw/{name}"])


def test_a_smaller_student_keeps_the_teachers_first_blocks(corpus, tmp_path):
    """DistillConfig.student_layers: the student gets that many residual blocks, initialised from the teacher's
    first ones; the config records it, the checkpoint reloads, the graphs run; more blocks than the teacher's
    is refused."""
    import torch

    from talkface_ros.model.train import DistillConfig, distill

    teacher = tmp_path / "teacher"
    assert talkface(["train", "--corpus", str(corpus), "-o", str(teacher), "--threads", "1", *TINY,
                     "--set", "den_layers=2", "--steps", "10", "--set", "warmup=5"]) == 0
    student = tmp_path / "student"
    cfg = DistillConfig(steps=2, batch=2, seq=20, teacher_steps=1, lr=0.0, threads=1, student_layers=1)
    model = distill(str(teacher), str(corpus), str(student), cfg)
    assert len(model.student.blocks) == 1 and len(model.teacher.blocks) == 2
    torch.testing.assert_close(model.student.blocks[0].fc1.weight, model.teacher.blocks[0].fc1.weight)
    reloaded, _, _ = load_checkpoint(student)
    assert reloaded.cfg.student_layers == 1 and len(reloaded.student.blocks) == 1
    assert talkface(["export-onnx", str(student)]) == 0
    frames = FaceStreamer.from_pretrained(student).animate(np.zeros(8000, np.int16))
    assert frames.shape == (25, 55) and np.isfinite(frames).all()
    with pytest.raises(ValueError, match="student_layers 3"):
        distill(str(teacher), str(corpus), str(tmp_path / "too_big"), DistillConfig(steps=1, threads=1, student_layers=3))
