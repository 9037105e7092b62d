"""Metrics, baselines and `talkface eval`."""
from __future__ import annotations

import numpy as np
import pytest

from talkface_ros.eval import metrics
from talkface_ros.eval.baselines import EnergyJaw, MfccTemplates, calibrate_vowel_templates
from talkface_ros.eval.evaluate import EvalItem, evaluate, run_system
from talkface_ros.face.arkit import INDEX
from talkface_ros.face.visemes import BILABIAL, OPEN_VOWEL, ROUNDED_VOWEL, SPREAD_VOWEL


def test_roc_auc_matches_definition():
    rng = np.random.default_rng(0)
    pos, neg = rng.normal(1, 1, 60), rng.normal(0, 1, 40)
    brute = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
    assert metrics.roc_auc(pos, neg) == pytest.approx(brute)
    assert metrics.roc_auc([1, 1], [1, 1]) == 0.5
    assert np.isnan(metrics.roc_auc([], [1.0]))


def test_lip_sync_aucs_perfect_inverted_constant():
    pc = np.array([OPEN_VOWEL] * 10 + [BILABIAL] * 10 + [ROUNDED_VOWEL] * 10 + [SPREAD_VOWEL] * 10, np.uint8)
    good = np.zeros((40, 55), np.float32)
    good[:10, INDEX["jawOpen"]] = 0.6
    good[20:30, INDEX["mouthPucker"]] = 0.7
    r = metrics.lip_sync_aucs(good, pc)
    assert r == {"open_vs_bilabial_auc": 1.0, "rounded_vs_spread_auc": 1.0}
    inverted = metrics.lip_sync_aucs(0.7 - good, pc)
    assert inverted["open_vs_bilabial_auc"] == 0.0
    assert metrics.lip_sync_aucs(np.zeros((40, 55)), pc)["open_vs_bilabial_auc"] == 0.5
    with pytest.raises(ValueError):
        metrics.lip_sync_aucs(np.zeros((40, 52)), pc)


def test_lag_mae_jitter_diversity_emotion():
    rng = np.random.default_rng(1)
    ref = np.zeros((200, 55), np.float32)
    ref[:, INDEX["jawOpen"]] = np.convolve(rng.random(200), np.ones(5) / 5, "same")
    late = np.roll(ref, 3, axis=0)
    assert metrics.lag_frames(late, ref) == 3 and metrics.lag_frames(ref, ref) == 0
    assert metrics.mouth_mae(ref, ref) == 0 and metrics.mouth_mae(ref + 0.1, ref) > 0
    noisy = ref + rng.normal(0, 0.05, ref.shape).astype(np.float32)
    assert metrics.jitter(noisy) > metrics.jitter(ref)
    assert metrics.upper_face_diversity([ref, ref]) == 0 and metrics.upper_face_diversity([ref, noisy]) > 0
    happy = [np.tile(np.where(np.arange(55) == INDEX["mouthSmileLeft"], 0.6, 0.0), (10, 1)) + rng.normal(0, 0.01, (10, 55)) for _ in range(4)]
    sad = [np.tile(np.where(np.arange(55) == INDEX["browInnerUp"], 0.6, 0.0), (10, 1)) + rng.normal(0, 0.01, (10, 55)) for _ in range(4)]
    assert metrics.emotion_classifiability(happy + sad, ["happy"] * 4 + ["sad"] * 4) == 1.0


def _tone(seconds: float, level: float) -> np.ndarray:
    t = np.arange(int(seconds * 16000)) / 16000
    return (level * 32767 * np.sin(2 * np.pi * 150 * t)).astype(np.int16)


def test_energy_baseline_streams_consistently():
    audio = np.concatenate([np.zeros(8000, np.int16), _tone(0.5, 0.3), np.zeros(8000, np.int16)])
    system = EnergyJaw()
    whole = system.push(audio)
    system.reset()
    pieces = np.concatenate([system.push(audio[i : i + 123]) for i in range(0, len(audio), 123)])
    assert whole.shape == (len(audio) // 320, 55) and np.allclose(whole, pieces)
    jaw = whole[:, INDEX["jawOpen"]]
    assert jaw[:20].max() == 0 and jaw[35:45].min() > 0.3 and jaw[-5:].max() < 0.05
    with pytest.raises(ValueError):
        system.push(np.zeros((2, 10), np.int16))


@pytest.fixture(scope="module")
def templates():
    return calibrate_vowel_templates()


def test_mfcc_baseline_tells_rounded_from_spread(templates):
    from talkface_ros.data.espeak import EspeakSynth, EspeakVoice
    from talkface_ros.data.teacher import lip_sync, num_frames_for

    assert set(templates) == {"aa", "E", "ih", "oh", "ou"}
    synth = EspeakSynth()
    frames, classes, energy_frames = [], [], []
    # Held-out voice variants (m7, f4), sentences with both kinds of vowel.
    for text, voice in (("who knew you could see me, too", "en-us+m7"), ("the blue moon is gleaming", "en-us+f4"), ("gute Bücher lesen wir hier", "de+m7")):
        lang, _, variant = voice.partition("+")
        result = synth.synth(text, EspeakVoice(lang, variant))
        system, energy = MfccTemplates(templates), EnergyJaw()
        frames.append(system.push(result.audio))
        energy_frames.append(energy.push(result.audio))
        classes.append(lip_sync(result.phones, num_frames_for(len(result.audio))).phone_class[: len(frames[-1])])
    pc = np.concatenate(classes)
    assert metrics.lip_sync_aucs(np.concatenate(frames), pc)["rounded_vs_spread_auc"] > 0.75
    assert metrics.lip_sync_aucs(np.concatenate(energy_frames), pc)["rounded_vs_spread_auc"] == 0.5


def test_evaluate_with_teacher_reference():
    from talkface_ros.data.espeak import EspeakSynth, EspeakVoice
    from talkface_ros.data.teacher import animate

    synth = EspeakSynth()
    result = synth.synth("mama papa, baba", EspeakVoice("es"))
    teacher = animate(result.phones, result.audio, np.random.default_rng(0))
    item = EvalItem("x", result.audio, teacher.phone_class, teacher.frames)
    frames = run_system(EnergyJaw(), item)
    assert frames.shape == teacher.frames.shape
    res = evaluate("energy", EnergyJaw(), [item], "test")
    assert 0.5 < res.row["open_vs_bilabial_auc"] <= 1.0 and res.row["mouth_mae"] > 0
    assert evaluate("teacher", None, [item], "test").row["open_vs_bilabial_auc"] == 1.0


def test_eval_cli_prints_one_table(tmp_path, capsys):
    from talkface_ros.cli import main
    from talkface_ros.data.corpus import Utterance, write_manifest, write_shard
    from talkface_ros.data.espeak import EspeakSynth, EspeakVoice
    from talkface_ros.data.teacher import animate

    synth = EspeakSynth()
    utts = []
    for k, (text, voice, split) in enumerate((("mama, look at the moon", "en-us+m7", "heldout_voice"), ("bona nit a tothom", "ca", "heldout_lang"), ("hello there", "en-us", "train"))):
        lang, _, variant = voice.partition("+")
        r = synth.synth(text, EspeakVoice(lang, variant))
        t = animate(r.phones, r.audio, np.random.default_rng(k), emotion="happy" if k else "sad")
        utts.append(Utterance(f"u{k}", r.audio, t.frames, t.phone_class, t.viseme, "happy" if k else "sad", 1.0, lang, voice, "espeak-ng", split))
    write_shard(tmp_path, 0, utts)
    write_manifest(tmp_path)
    assert main(["eval", "--system", "teacher,energy,mfcc", "--set", "synth-heldout", "--corpus", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("| system | set |") and len(lines) == 5
    rows = {line.split("|")[1].strip(): line for line in lines[2:]}
    assert set(rows) == {"teacher", "energy", "mfcc"} and "| 2 |" in rows["energy"]  # the two held-out utterances
    # --by-voice: a row per voice of the set too (espeak's variant, or the language's default voice)
    assert main(["eval", "--system", "energy", "--set", "synth-heldout", "--corpus", str(tmp_path), "--by-voice"]) == 0
    sets = [line.split("|")[2].strip() for line in capsys.readouterr().out.strip().splitlines()[2:]]
    assert sets == ["synth-heldout", "synth-heldout:ca", "synth-heldout:m7"]
    with pytest.raises(SystemExit):
        main(["eval", "--system", "nonsense", "--corpus", str(tmp_path)])


def test_speaker_of_a_manifest_voice():
    from talkface_ros.eval.evaluate import speaker_of

    assert speaker_of("en-us+Alicia@p40r180") == "Alicia"
    assert speaker_of("festival:ked@s1.1") == "festival:ked"
    assert speaker_of("flite:awb@s0.95") == "flite:awb" and speaker_of("ca") == "ca"
