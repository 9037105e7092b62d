"""`talkface data ...`: corpus synthesis and checks."""
from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    synth = sub.add_parser("synth", help="synthesise a speech + teacher-curve corpus")
    synth.add_argument("--out", required=True, help="corpus directory (resumes if it exists)")
    synth.add_argument("--hours", type=float, default=1.0, help="hours of speech")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--workers", type=int, default=2)
    synth.add_argument("--shard-seconds", type=float, default=120.0)
    synth.add_argument("--no-progress", action="store_true")
    align = sub.add_parser("align-check", help="phone-timing error vs audio silence boundaries, per language")
    align.add_argument("--languages", default="en-us,de,fr,es,ru,fi")
    align.add_argument("--sentences", type=int, default=20)
    align.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    if args.action == "synth":
        from talkface_ros.data.synth import SynthConfig, synthesize

        if args.hours <= 0 or args.workers < 1 or args.shard_seconds <= 0:
            raise SystemExit("--hours, --workers and --shard-seconds must be positive")
        summary = synthesize(SynthConfig(out=args.out, hours=args.hours, seed=args.seed, shard_seconds=args.shard_seconds, workers=args.workers), progress=not args.no_progress)
        print(json.dumps(summary))
        return 0
    if args.action == "align-check":
        from talkface_ros.data.align_check import check_languages

        report = check_languages(args.languages.split(","), args.sentences, args.seed)
        print(json.dumps(report, indent=1))
        return 0
    return 2
