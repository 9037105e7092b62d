"""How far a model's audio encoding of degraded speech is from a reference model's encoding of the same speech
clean: the diagnostic behind `talkface adapt` (issue 18). The lip read-out (aux head, student) sees only the
encoding, so a gap that stays large under a condition bounds what any read-out can recover there.

The gap of an utterance is the mean over tokens and dimensions of ((h - h_ref) / s)^2, s the spread of each
dimension of h_ref over the set: 0 where the encodings agree, 1 where they differ as much as unrelated
frames of the set do (for a well-spread encoding, about 2 for two independent ones).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def encoding_gap(model, reference, clean_audio: Sequence[np.ndarray], degraded_audio: Sequence[np.ndarray]) -> float:
    """Mean gap (see module doc) of `model` on `degraded_audio` against `reference` on `clean_audio`
    (utterance by utterance, same lengths)."""
    if len(clean_audio) != len(degraded_audio) or not clean_audio:
        raise ValueError("need as many degraded utterances as clean ones, and at least one")
    targets = [reference.encode_audio(audio) for audio in clean_audio]
    spread = np.concatenate(targets).std(0) + 1e-3
    gaps = []
    for target, audio in zip(targets, degraded_audio):
        h = model.encode_audio(audio)
        n = min(len(h), len(target))
        gaps.append(float(np.mean(((h[:n] - target[:n]) / spread) ** 2)))
    return float(np.mean(gaps))
