"""A held-out split by speaker: every speaker is wholly in one half, so a test speaker is never trained on.

The speakers are ranked by a hash of (salt, name) and the first `share` of them (at least one, and at least
one left for training when there are two or more) are the test half. The split depends only on the names, the
salt and the share: the same on every machine, whatever order the clips are found in. A source lists its
speakers explicitly (e.g. `tuxpaint.READERS`), so that a new package version with another speaker does not
quietly move an existing one across.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable


def held_out_speakers(speakers: Iterable[str], share: float = 0.5, salt: str = "") -> frozenset[str]:
    """The test half of `speakers`: round(share * n) of them, clipped to [1, n - 1] (n >= 2)."""
    if not 0.0 < share < 1.0:
        raise ValueError(f"share must be in (0, 1), not {share}")
    names = sorted(set(speakers), key=lambda name: hashlib.sha256(f"{salt}\0{name}".encode()).hexdigest())
    if len(names) < 2:
        raise ValueError(f"a held-out split needs two speakers or more, not {names}")
    count = min(max(round(share * len(names)), 1), len(names) - 1)
    return frozenset(names[:count])


def split_of(speaker: str, test_speakers: frozenset[str]) -> str:
    return "test" if speaker in test_speakers else "train"
