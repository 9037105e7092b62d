"""`talkface eval --system energy|mfcc|teacher|model --set synth-heldout|real --condition clean|reverb|...`: one
metrics table, a row per system x set x condition."""
from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from talkface_ros.eval.systems import SYSTEMS

    names = sorted([*SYSTEMS, "teacher", "robot"])
    parser.add_argument("--system", default="energy,mfcc", help=f"comma-separated: {', '.join(names)}")
    parser.add_argument("--set", dest="eval_set", default="synth-heldout", help="comma-separated: synth-heldout (voice + lang), synth-heldout-voice, synth-heldout-lang, synth-val, real (= real-sentences + real-words), real-prompts (Asterisk's English prompts, apart from real), "
                        "real-tuxpaint (Tux Paint's held-out readers, several languages; real-tuxpaint:fr one of them), "
                        "real-fillets (Fish Fillets' held-out Czech voice); with --by-voice a row per reader")
    parser.add_argument("--corpus", default="out/corpus", help="corpus directory for synth-heldout")
    parser.add_argument("--model", default=None, help="model folder for --system model (default: the shipped one)")
    parser.add_argument("--backend", default="onnxruntime", choices=["onnxruntime", "torch"], help="backend for --system model")
    parser.add_argument("--lookahead", type=int, default=0, help="lookahead frames for --system model")
    parser.add_argument("--condition", default="clean",
                        help="comma-separated acoustic conditions, each a row per system and set: clean, reverb (RT60 0.6 s), "
                             "babble (4 other talkers of the set, 5 dB SNR), noise (white, 10 dB), quiet (-30 dB), "
                             "clipped (+20 dB, hard clip), servo (motor whine + hum, 10 dB), telephone (300-3400 Hz)")
    parser.add_argument("--condition-seed", type=int, default=0, help="seed of the degradations (the same audio every run)")
    parser.add_argument("--max-utterances", type=int, default=150, help="per split of synth-heldout, per speaker of real-tuxpaint and real-fillets")
    parser.add_argument("--by-voice", action="store_true", help="also one row per voice of each synth set")
    parser.add_argument("--selfmodel", default=None, help="self-model calibration folder for --system robot (default: the shipped one)")
    parser.add_argument("--robot-emotions", type=int, default=0, metavar="N",
                        help="--system robot: also animate N utterances with each of the 7 emotions and classify them from the robot's landmarks")
    parser.add_argument("--robot-advance", type=int, default=0, metavar="FRAMES",
                        help="--system robot: send each frame this many 20 ms frames early (what lookahead audio allows)")
    parser.add_argument("--robot-lead", type=float, default=None, metavar="FRAMES",
                        help="--system robot: the retargeter's phase lead in frames (default: face_retarget's default)")


def load_set(name: str, corpus_dir: str, max_utterances: int):
    from talkface_ros.eval.evaluate import EvalItem, speaker_of

    splits = {"synth-heldout": ("heldout_voice", "heldout_lang"), "synth-heldout-voice": ("heldout_voice",),
              "synth-heldout-lang": ("heldout_lang",), "synth-val": ("val",)}
    if name in splits:
        from talkface_ros.data.corpus import Corpus

        corpus = Corpus(corpus_dir)
        items = []
        for split in splits[name]:
            for k, utt in enumerate(corpus.utterances(split)):
                if k >= max_utterances:
                    break
                items.append(EvalItem(utt.id, utt.audio, utt.phone_class, utt.frames, utt.emotion, utt.intensity,
                                      speaker_of(utt.voice)))
        if not items:
            raise SystemExit(f"{corpus_dir} has no utterances in {splits[name]}")
        return items
    if name.split(":", 1)[0] in ("real-tuxpaint", "real-fillets"):
        return _load_clip_set(name, max_utterances)
    real = {"real": "build_real_set", "real-sentences": "build_sentence_set", "real-words": "build_ktuberling_set",
            "real-prompts": "build_prompts_set"}
    if name in real:
        from talkface_ros.eval import real_set

        try:
            return getattr(real_set, real[name])()
        except FileNotFoundError as exc:
            raise SystemExit(f"eval set {name!r}: {exc}") from None
    raise SystemExit(f"unknown eval set {name!r} ({', '.join([*splits, *real, 'real-tuxpaint[:LOCALE]', 'real-fillets'])})")


def _load_clip_set(name: str, max_utterances: int):
    """real-tuxpaint (held-out readers, all their languages), real-tuxpaint:fr (one of them), real-fillets."""
    from talkface_ros.eval import real_set

    base, _, locale = name.partition(":")
    try:
        if base == "real-tuxpaint":
            return real_set.build_tuxpaint_set([locale] if locale else None, max_utterances)
        if locale:
            raise SystemExit(f"eval set {name!r}: real-fillets is Czech only (no :LANGUAGE)")
        return real_set.build_fillets_set(max_utterances)
    except FileNotFoundError as exc:
        raise SystemExit(f"eval set {name!r}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from talkface_ros.eval.evaluate import format_table
    from talkface_ros.eval.systems import SYSTEMS, model_factory, register_system

    if args.model or args.backend != "onnxruntime" or args.lookahead:
        register_system("model", model_factory(args.model, args.backend, args.lookahead))
    systems = [s.strip() for s in args.system.split(",") if s.strip()]
    robot = None
    if "robot" in systems:  # the model's frames on the simulated robot face: a table of its own
        systems.remove("robot")
        from talkface_ros.eval.robot import RobotFace
        from talkface_ros.selfmodel.model import SelfModel

        try:
            robot = RobotFace(model=SelfModel.load(args.selfmodel) if args.selfmodel else None,
                              config=_robot_config(args))
        except (FileNotFoundError, ValueError) as exc:
            raise SystemExit(f"cannot build the robot face: {exc}") from None
    from talkface_ros.eval.conditions import CONDITIONS, degrade_items

    conditions = [c.strip() for c in args.condition.split(",") if c.strip()]
    for c in conditions:
        if c not in CONDITIONS:
            raise SystemExit(f"unknown condition {c!r}; known: {', '.join(CONDITIONS)}")
    for s in systems:
        if s != "teacher" and s not in SYSTEMS:
            raise SystemExit(f"unknown system {s!r}; known: teacher, {', '.join(sorted(SYSTEMS))}")
    results, robot_rows = [], []
    for set_name in [s.strip() for s in args.eval_set.split(",") if s.strip()]:
        clean_items = load_set(set_name, args.corpus, args.max_utterances)
        for condition in conditions:
            items = degrade_items(clean_items, condition, args.condition_seed)
            _evaluate_set(args, systems, robot, items, set_name, condition, results, robot_rows)
    if results:
        print(format_table(results))
    if robot_rows:
        from talkface_ros.eval.robot import format_robot_table

        print(f"robot (model lookahead {args.lookahead}, frames sent {args.robot_advance} early; "
              "core60 = middle 60 % of each labelled run):")
        print(format_robot_table(robot_rows))
    return 0


def _evaluate_set(args: argparse.Namespace, systems: list[str], robot, items: list, set_name: str, condition: str,
                  results: list, robot_rows: list) -> None:
    from talkface_ros.eval.evaluate import evaluate
    from talkface_ros.eval.systems import SYSTEMS

    if robot is not None:
        from talkface_ros.eval.robot import evaluate_robot

        robot_rows.extend(evaluate_robot(SYSTEMS["model"](), items, set_name, robot, args.robot_emotions))
    for name in systems:
        try:
            system = None if name == "teacher" else SYSTEMS[name]()
        except Exception as exc:  # a system that cannot be built: say why, no traceback
            raise SystemExit(f"cannot build system {name!r}: {exc}") from exc
        results.append(evaluate(name, system, items, set_name, condition))
        speakers = sorted({item.speaker for item in items if item.speaker})
        for speaker in speakers if args.by_voice else []:
            results.append(evaluate(name, system, [i for i in items if i.speaker == speaker], f"{set_name}:{speaker}",
                                    condition))


def _robot_config(args: argparse.Namespace):
    from talkface_ros.eval.robot import RobotRunConfig

    if args.robot_advance < 0:
        raise SystemExit("--robot-advance must be >= 0")
    lead = {} if args.robot_lead is None else {"lead_frames": args.robot_lead}
    return RobotRunConfig(advance_frames=args.robot_advance, **lead)
