"""Corpus synthesis speed: makes a small corpus in a temp dir and prints JSON (x real time, minutes per hour).

    python bench/bench_data_synth.py --minutes 5 [--workers 2] [--festival-share 0.12]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time

from talkface_ros.data.corpus import Corpus
from talkface_ros.data.synth import SynthConfig, synthesize


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--festival-share", type=float, default=0.12)
    parser.add_argument("--seed", type=int, default=123)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-corpus-") as out:
        config = SynthConfig(out=out, hours=args.minutes / 60, seed=args.seed, shard_seconds=60, workers=args.workers, festival_share=args.festival_share)
        start = time.perf_counter()
        synthesize(config, progress=False)
        wall = time.perf_counter() - start
        corpus = Corpus(out)
        audio_s = corpus.seconds()
        synths = {}
        for e in corpus.entries:
            synths[e["synth"]] = round(synths.get(e["synth"], 0.0) + e["seconds"], 1)
    print(json.dumps({
        "bench": "data_synth", "workers": args.workers, "audio_s": round(audio_s, 1), "wall_s": round(wall, 2),
        "x_realtime": round(audio_s / wall, 1), "minutes_per_hour_of_speech": round(60 * wall / audio_s, 2),
        "utterances": len(corpus), "seconds_by_synth": synths,
    }))


if __name__ == "__main__":
    main()
