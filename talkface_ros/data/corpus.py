"""The corpus on disk (contract A): DIR/manifest.jsonl + DIR/shards/shard-NNNNN.npz (no pickle).

Each shard holds `{id}/audio` int16 16 kHz, `{id}/frames` float32 [T, 55], `{id}/phone_class` uint8 [T],
`{id}/viseme` int8 [T]. The writer also keeps DIR/shards/shard-NNNNN.jsonl (that shard's manifest lines) so
an interrupted run resumes by shard; `write_manifest` joins them into manifest.jsonl.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE
from talkface_ros.face.arkit import FRAME_SIZE

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "heldout_voice", "heldout_lang")
MANIFEST_KEYS = ("id", "shard", "split", "language", "voice", "synth", "emotion", "intensity", "seconds", "num_frames")


@dataclass
class Utterance:
    id: str
    audio: np.ndarray  # int16 [N]
    frames: np.ndarray  # float32 [T, 55]
    phone_class: np.ndarray  # uint8 [T]
    viseme: np.ndarray  # int8 [T]
    emotion: str = "neutral"
    intensity: float = 1.0
    language: str = ""
    voice: str = ""
    synth: str = ""
    split: str = "train"

    def validate(self) -> None:
        T = -(-len(self.audio) // 320)
        if self.audio.dtype != np.int16 or self.audio.ndim != 1:
            raise ValueError(f"{self.id}: audio must be 1-D int16")
        if self.frames.shape != (T, FRAME_SIZE):
            raise ValueError(f"{self.id}: frames shape {self.frames.shape}, expected {(T, FRAME_SIZE)}")
        if self.phone_class.shape != (T,) or self.viseme.shape != (T,):
            raise ValueError(f"{self.id}: phone_class/viseme must have {T} entries")
        if not np.isfinite(self.frames).all():
            raise ValueError(f"{self.id}: frames contain NaN/Inf")
        if self.split not in SPLITS:
            raise ValueError(f"{self.id}: unknown split {self.split!r}")

    def manifest_entry(self, shard: int) -> dict:
        return {
            "id": self.id, "shard": shard, "split": self.split, "language": self.language, "voice": self.voice,
            "synth": self.synth, "emotion": self.emotion, "intensity": round(float(self.intensity), 4),
            "seconds": round(len(self.audio) / MODEL_SAMPLE_RATE, 4), "num_frames": int(len(self.frames)),
        }


def shard_path(directory: str | Path, shard: int) -> Path:
    return Path(directory) / "shards" / f"shard-{shard:05d}.npz"


def write_shard(directory: str | Path, shard: int, utterances: list[Utterance]) -> list[dict]:
    """Write one shard atomically (tmp + rename), then its manifest lines. Returns the entries."""
    path = shard_path(directory, shard)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    entries = []
    for utt in utterances:
        utt.validate()
        if "/" in utt.id:
            raise ValueError(f"utterance id {utt.id!r} must not contain '/'")
        arrays[f"{utt.id}/audio"] = utt.audio
        arrays[f"{utt.id}/frames"] = utt.frames.astype(np.float32)
        arrays[f"{utt.id}/phone_class"] = utt.phone_class.astype(np.uint8)
        arrays[f"{utt.id}/viseme"] = utt.viseme.astype(np.int8)
        entries.append(utt.manifest_entry(shard))
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    lines = path.with_suffix(".jsonl")
    tmp_lines = path.with_suffix(".jsonl.tmp")
    tmp_lines.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8")
    os.replace(tmp_lines, lines)
    return entries


def shard_done(directory: str | Path, shard: int) -> bool:
    path = shard_path(directory, shard)
    return path.exists() and path.with_suffix(".jsonl").exists()


def write_manifest(directory: str | Path) -> int:
    """Join the per-shard manifests (in shard order) into DIR/manifest.jsonl. Returns the count."""
    directory = Path(directory)
    parts = sorted((directory / "shards").glob("shard-*.jsonl"))
    count = 0
    tmp = directory / "manifest.jsonl.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        for part in parts:
            for line in part.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    out.write(line + "\n")
                    count += 1
    os.replace(tmp, directory / "manifest.jsonl")
    return count


class Corpus:
    """Reads a corpus directory. `utterances(split)` streams shard by shard (one shard in memory)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        manifest = self.directory / "manifest.jsonl"
        if not manifest.exists():
            raise FileNotFoundError(f"{manifest} not found (run `talkface data synth --out {self.directory}`)")
        self.entries: list[dict] = []
        for n, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            entry = json.loads(line)
            missing = [k for k in MANIFEST_KEYS if k not in entry]
            if missing:
                raise ValueError(f"{manifest}:{n}: missing keys {missing}")
            self.entries.append(entry)

    def __len__(self) -> int:
        return len(self.entries)

    def seconds(self, split: str | None = None) -> float:
        return float(sum(e["seconds"] for e in self.entries if split is None or e["split"] == split))

    def utterances(self, split: str | None = None) -> Iterator[Utterance]:
        if split is not None and split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        by_shard: dict[int, list[dict]] = {}
        for e in self.entries:
            if split is None or e["split"] == split:
                by_shard.setdefault(int(e["shard"]), []).append(e)
        for shard in sorted(by_shard):
            with np.load(shard_path(self.directory, shard), allow_pickle=False) as data:
                for e in by_shard[shard]:
                    uid = e["id"]
                    yield Utterance(
                        id=uid, audio=data[f"{uid}/audio"], frames=data[f"{uid}/frames"],
                        phone_class=data[f"{uid}/phone_class"], viseme=data[f"{uid}/viseme"],
                        emotion=e["emotion"], intensity=float(e["intensity"]), language=e["language"],
                        voice=e["voice"], synth=e["synth"], split=e["split"],
                    )
