"""Encoding gap of models against the shipped one's clean encoding, per eval set and condition (issue 18).

    python tools/encoding_gap.py --model out/adapt/b2 --model out/adapt/b3 \
        --set real-prompts,synth-heldout --condition clean,reverb,babble --corpus out/corpus3

Prints one JSON line per set, condition and model (`talkface_ros.eval.encoding_gap`).
"""
from __future__ import annotations

import argparse
import json


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", default=[], help="a model folder (repeat); the shipped one is always included")
    parser.add_argument("--set", dest="eval_set", default="real-prompts,synth-heldout")
    parser.add_argument("--condition", default="clean,reverb,babble")
    parser.add_argument("--corpus", default="out/corpus3")
    parser.add_argument("--max-utterances", type=int, default=120)
    args = parser.parse_args()

    import torch

    from talkface_ros.eval.conditions import degrade_items
    from talkface_ros.eval.encoding_gap import encoding_gap
    from talkface_ros.eval.eval_cli import load_set
    from talkface_ros.model.checkpoint import load_checkpoint
    from talkface_ros.model.streamer import default_model_dir

    torch.set_num_threads(1)
    reference = load_checkpoint(default_model_dir())[0]
    models = {"shipped": reference, **{path: load_checkpoint(path)[0] for path in args.model}}
    for name in args.eval_set.split(","):
        items = load_set(name, args.corpus, args.max_utterances)[: args.max_utterances]
        for condition in args.condition.split(","):
            degraded = degrade_items(items, condition)
            for label, model in models.items():
                gap = encoding_gap(model, reference, [i.audio for i in items], [d.audio for d in degraded])
                print(json.dumps({"set": name, "condition": condition, "model": label, "utterances": len(items),
                                  "gap": round(gap, 4)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
