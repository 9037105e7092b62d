"""`talkface train|distill --recipe shipped`: the shipped model's recipe is a file, every field in it is a
real config field, and the command line overrides it."""
import argparse

import pytest

pytest.importorskip("torch")
from talkface_ros.model import train_cli  # noqa: E402
from talkface_ros.model.network import ModelConfig  # noqa: E402
from talkface_ros.model.train import DistillConfig, TrainConfig  # noqa: E402


def _args(*argv: str, distill: bool = False) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    (train_cli.add_distill_arguments if distill else train_cli.add_arguments)(parser)
    return parser.parse_args([*(["teacher"] if distill else []), "-o", "out/x", *argv])


def test_the_shipped_recipe_sets_real_fields_of_both_stages():
    assert "shipped" in train_cli.recipe_names()
    tcfg, mcfg = TrainConfig(), ModelConfig()
    train_cli._configure(_args("--recipe", "shipped"), "train", tcfg, mcfg)
    assert (tcfg.steps, tcfg.threads, tcfg.batch, tcfg.ema, tcfg.seed) == (2400, 1, 32, 0.998, 1)
    assert tcfg.causal_history == 0.9 and tcfg.history_drop == 0.1
    dcfg = DistillConfig()
    train_cli._configure(_args("--recipe", "shipped", distill=True), "distill", dcfg)
    assert (dcfg.steps, dcfg.batch, dcfg.frames_per_batch, dcfg.student_layers) == (600, 8, 192, 1)
    assert dcfg.aux_weight == 10.0 and dcfg.guidance == 2.0


def test_the_command_line_overrides_the_recipe():
    tcfg = TrainConfig()
    train_cli._configure(_args("--recipe", "shipped", "--steps", "50", "--threads", "2", "--set", "batch=4"),
                         "train", tcfg, ModelConfig())
    assert (tcfg.steps, tcfg.threads, tcfg.batch, tcfg.ema) == (50, 2, 4, 0.998)


def test_bad_recipes_are_refused_with_a_reason(tmp_path):
    with pytest.raises(SystemExit, match="no recipe 'nope'"):
        train_cli._configure(_args("--recipe", "nope"), "train", TrainConfig(), ModelConfig())
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  no_such_field: 3\n")
    with pytest.raises(SystemExit, match="unknown config field 'no_such_field'"):
        train_cli._configure(_args("--recipe", str(bad)), "train", TrainConfig(), ModelConfig())
    bad.write_text("train: [1, 2]\n")
    with pytest.raises(SystemExit, match="mapping"):
        train_cli._configure(_args("--recipe", str(bad)), "train", TrainConfig(), ModelConfig())


def test_the_recipe_reproduces_the_shipped_models_training_configs():
    import dataclasses
    import json

    from talkface_ros.model.streamer import default_model_dir

    card = json.loads((default_model_dir() / "card.json").read_text())
    tcfg, mcfg = TrainConfig(), ModelConfig()
    train_cli._configure(_args("--recipe", "shipped"), "train", tcfg, mcfg)
    dcfg = DistillConfig()
    train_cli._configure(_args("--recipe", "shipped", distill=True), "distill", dcfg)
    for stage, config in (("train", tcfg), ("distill", dcfg)):
        ours = dataclasses.asdict(config)
        differ = {k: (ours.get(k), v) for k, v in card[stage]["config"].items() if ours.get(k, v) != v}
        assert not differ, f"{stage}: recipe vs the shipped model's card: {differ}"


def test_a_value_that_is_not_json_is_refused_with_an_example():
    from talkface_ros.model.adapt import AdaptConfig

    with pytest.raises(SystemExit, match=r"real_sources='tuxpaint': not a JSON value \(e.g. \[\]\)"):
        train_cli._overrides(["real_sources=tuxpaint"], AdaptConfig())
    cfg = AdaptConfig()
    train_cli._overrides(['real_sources=["tuxpaint"]', "extra_layers=2"], cfg)
    assert cfg.real_sources == ("tuxpaint",) and cfg.extra_layers == 2
