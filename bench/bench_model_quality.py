"""One-step student vs N-step teacher (and the corpus targets) on held-out synthetic voices and languages.

Both are rolled out autoregressively (each frame conditioned on the frames they generated), lookahead 0 unless
--lookahead. Reports contract-C lip metrics, lag, jitter, mouth MAE, the NFE ratio, emotion classifiability,
the effect of emotion on lip AUCs, and upper-face diversity across seeds. Prints JSON.

    python bench/bench_model_quality.py --model talkface_ros/models/talkface --corpus out/corpus [--limit 60]
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from talkface_ros.eval import metrics
from talkface_ros.face.emotion import EMOTIONS
from talkface_ros.model.checkpoint import load_checkpoint
from talkface_ros.model.data import load_clips
from talkface_ros.model.rollout import rollout


def summarize(preds: list[np.ndarray], clips) -> dict:
    pc = np.concatenate([c.phone_class for c in clips])
    pooled = np.concatenate(preds)
    row = {k: round(v, 4) for k, v in metrics.lip_sync_aucs(pooled, pc).items()}
    row["lag_frames_median"] = float(np.median([metrics.lag_frames(p, c.frames) for p, c in zip(preds, clips)]))
    row["jitter"] = round(float(np.mean([metrics.jitter(p) for p in preds])), 5)
    row["mouth_mae_vs_corpus"] = round(float(np.mean([metrics.mouth_mae(p, c.frames) for p, c in zip(preds, clips)])), 4)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="talkface_ros/models/talkface")
    parser.add_argument("--corpus", default="out/corpus")
    parser.add_argument("--limit", type=int, default=60, help="utterances per split")
    parser.add_argument("--lookahead", type=int, default=0)
    parser.add_argument("--teacher-steps", type=int, default=20)
    parser.add_argument("--guidance", type=float, default=1.5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, card, _ = load_checkpoint(args.model)
    result: dict = {"model": args.model, "lookahead": args.lookahead, "teacher_steps": args.teacher_steps,
                    "nfe_teacher": args.teacher_steps * (2 if args.guidance != 1.0 else 1), "nfe_student": 1}
    result["nfe_ratio"] = result["nfe_teacher"] / result["nfe_student"]
    for split in ("heldout_voice", "heldout_lang"):
        clips = load_clips(args.corpus, split, args.limit)
        tokens = [c.tokens for c in clips]
        emotions = np.stack([c.emotion for c in clips])
        t0 = time.perf_counter()
        student = rollout(model, tokens, emotions, args.lookahead, None, seed=0)
        t_student = time.perf_counter() - t0
        t0 = time.perf_counter()
        teacher = rollout(model, tokens, emotions, args.lookahead, args.teacher_steps, args.guidance, seed=0)
        t_teacher = time.perf_counter() - t0
        s_row, t_row = summarize(student, clips), summarize(teacher, clips)
        ratio = {k: round(s_row[k] / t_row[k], 4) for k in ("open_vs_bilabial_auc", "rounded_vs_spread_auc")}
        # emotion: classify the label from the student's face; lips with vs without emotion
        neutral = rollout(model, tokens, np.eye(len(EMOTIONS), dtype=np.float32)[[0] * len(clips)], args.lookahead, None)
        n_row = summarize(neutral, clips)
        labels = [EMOTIONS[int(np.argmax(c.emotion))] if c.emotion.max() > 0 else "neutral" for c in clips]
        seeds = [rollout(model, tokens[:8], emotions[:8], args.lookahead, None, seed=s) for s in (1, 2, 3)]
        result[split] = {
            "utterances": len(clips), "seconds": round(sum(len(t) for t in tokens) / 50.0, 1),
            "student": s_row, "teacher": t_row, "student_over_teacher_auc": ratio,
            "rollout_wall_s": {"student": round(t_student, 2), "teacher": round(t_teacher, 2)},
            "emotion_classifiability": round(metrics.emotion_classifiability(student, labels), 3),
            "student_all_neutral": {k: n_row[k] for k in ("open_vs_bilabial_auc", "rounded_vs_spread_auc")},
            "corpus_targets": summarize([c.frames for c in clips], clips),
            "upper_face_diversity_seeds": round(float(np.mean([metrics.upper_face_diversity([s[i] for s in seeds])
                                                                 for i in range(len(seeds[0]))])), 4),
            "mouth_diversity_seeds": round(float(np.mean([np.stack([s[i][:, metrics.MOUTH_IDX] for s in seeds]).std(0).mean()
                                                          for i in range(len(seeds[0]))])), 4),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
