"""Lip-sync gain of a face driven by its own TTS: the face model with lookahead (the TTS's audio is known
before it is played, so 2-3 frames of future audio cost no sync) and forced lip closure on p/b/m frames from
the TTS's phone timings, vs lookahead 0, on the synthetic held-out set (voices and languages never trained
on). Prints JSON: open-vs-bilabial and rounded-vs-spread AUC (pooled and core60, as `talkface eval`).

The closure uses the corpus's own viseme track (espeak-ng's phoneme events: what the TTS knows) and the
AUC's bilabial label comes from the same events, so "+ closure" is what exact TTS timings give; "+ closure,
20 ms late" shifts the closure mask by one frame to show how much a timing error costs.

  python bench/bench_speech_lipsync.py --corpus out/corpus3 [--lookaheads 0,2,3] [--max-utterances 150]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402


def load_items(corpus_dir: str, max_utterances: int) -> list:
    from talkface_ros.data.corpus import Corpus
    from talkface_ros.eval.evaluate import EvalItem, speaker_of

    corpus = Corpus(corpus_dir)
    items, visemes = [], []
    for split in ("heldout_voice", "heldout_lang"):
        for k, utt in enumerate(corpus.utterances(split)):
            if k >= max_utterances:
                break
            items.append(EvalItem(utt.id, utt.audio, utt.phone_class, utt.frames, utt.emotion, utt.intensity,
                                  speaker_of(utt.voice)))
            visemes.append(np.asarray(utt.viseme))
    if not items:
        raise SystemExit(f"{corpus_dir} has no held-out utterances (talkface data synth --out {corpus_dir} ...)")
    return items, visemes


def aucs(preds: list[np.ndarray], classes: list[np.ndarray]) -> dict:
    from talkface_ros.eval import metrics

    pooled = metrics.lip_sync_aucs(np.concatenate(preds), np.concatenate(classes))
    core = [metrics.core_mask(c) for c in classes]
    core_aucs = metrics.lip_sync_aucs(np.concatenate([p[m] for p, m in zip(preds, core)]),
                                      np.concatenate([c[m] for c, m in zip(classes, core)]))
    return {"open_vs_bilabial": round(pooled["open_vs_bilabial_auc"], 3),
            "rounded_vs_spread": round(pooled["rounded_vs_spread_auc"], 3),
            "open_vs_bilabial_core60": round(core_aucs["open_vs_bilabial_auc"], 3),
            "rounded_vs_spread_core60": round(core_aucs["rounded_vs_spread_auc"], 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="out/corpus3")
    parser.add_argument("--lookaheads", default="0,2,3")
    parser.add_argument("--max-utterances", type=int, default=150, help="per held-out split")
    parser.add_argument("--model", default=None)
    args = parser.parse_args()

    from talkface_ros.eval.evaluate import run_system
    from talkface_ros.eval.systems import model_factory
    from talkface_ros.face.visemes import VISEME_INDEX
    from talkface_ros.speech.closure import apply_closure

    items, visemes = load_items(args.corpus, args.max_utterances)
    bilabial = [v == VISEME_INDEX["PP"] for v in visemes]
    late = [np.concatenate([[False], m[:-1]]) for m in bilabial]
    rows = {}
    for lookahead in [int(x) for x in args.lookaheads.split(",")]:
        started = time.perf_counter()
        system = model_factory(args.model, "onnxruntime", lookahead)()
        preds = [run_system(system, item) for item in items]
        classes = [item.phone_class[: len(p)] for item, p in zip(items, preds)]
        rows[f"lookahead {lookahead}"] = aucs(preds, classes)
        rows[f"lookahead {lookahead} + closure"] = aucs([apply_closure(p, m) for p, m in zip(preds, bilabial)], classes)
        rows[f"lookahead {lookahead} + closure, 20 ms late"] = aucs(
            [apply_closure(p, m) for p, m in zip(preds, late)], classes)
        print(f"lookahead {lookahead}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    seconds = sum(len(i.audio) for i in items) / 16000
    print(json.dumps({"set": "synth-heldout (voice + lang)", "corpus": args.corpus, "utterances": len(items),
                      "seconds": round(seconds, 1), "date": time.strftime("%Y-%m-%d"), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
