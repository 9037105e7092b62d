"""Forced lip closure from the TTS's own phone timings: a TTS knows when it says p, b or m, so the face can
close the lips there whatever the audio model made of it (a stop's closure is silence, which an audio model
must guess from context).

`closure_mask(phones, num_frames)` marks the 20 ms frames whose centre lies in a bilabial phone;
`apply_closure(frames, mask)` shuts the jaw and presses the lips on those frames (the teacher's own rule,
`talkface_ros.data.teacher.enforce_closures`), so the result is what the model was trained to imitate.
"""
from __future__ import annotations

import numpy as np

from talkface_ros.data.phones import Phone
from talkface_ros.data.teacher import enforce_closures
from talkface_ros.face.visemes import BILABIAL, ipa_phone_class

FRAME_S = 0.02


def closure_mask(phones: list[Phone], num_frames: int, frame_s: float = FRAME_S) -> np.ndarray:
    """bool [num_frames]: frame i (centre (i + 0.5) * frame_s) lies in a p/b/m phone."""
    mask = np.zeros(num_frames, bool)
    centres = (np.arange(num_frames) + 0.5) * frame_s
    for phone in phones:
        if phone.symbol and ipa_phone_class(phone.symbol) & BILABIAL:
            mask |= (centres >= phone.start) & (centres < phone.end)
    return mask


def apply_closure(frames: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A copy of frames [T, 55] with the lips closed on the masked frames."""
    frames = np.array(frames, np.float32, copy=True)
    n = min(len(frames), len(mask))
    phone_class = np.zeros(len(frames), np.uint8)
    phone_class[:n][np.asarray(mask[:n], bool)] = BILABIAL
    return enforce_closures(frames, phone_class)


def closure_intervals(phones: list[Phone]) -> list[tuple[float, float]]:
    """(start, end) of the p/b/m phones, adjacent ones merged, in the phones' time (s from sample 0)."""
    intervals: list[tuple[float, float]] = []
    for phone in phones:
        if phone.symbol and ipa_phone_class(phone.symbol) & BILABIAL and phone.end > phone.start:
            if intervals and phone.start <= intervals[-1][1] + 1e-6:
                intervals[-1] = (intervals[-1][0], max(intervals[-1][1], phone.end))
            else:
                intervals.append((phone.start, phone.end))
    return intervals


def close_lips(frame: np.ndarray) -> np.ndarray:
    """One frame [55] with the lips closed (the teacher's closure rule)."""
    return apply_closure(np.asarray(frame, np.float32)[None, :], np.ones(1, bool))[0]


class ClosureSchedule:
    """When the lips must close, on the frames' clock (absolute seconds), as a TTS announces it.

    A message is [t_from, start0, end0, start1, end1, ...]: from t_from on, the lips close exactly in these
    intervals (what was scheduled after t_from is replaced: a new utterance, or a cut one with no pairs)."""

    def __init__(self, keep_s: float = 10.0) -> None:
        self.keep_s = keep_s
        self._intervals: list[tuple[float, float]] = []

    def update(self, data) -> int:
        """Apply one message; -> the number of intervals added. ValueError on a malformed one (nothing changes)."""
        values = [float(v) for v in data]
        if not values or len(values) % 2 != 1 or not np.isfinite(values).all():
            raise ValueError(f"expected [t_from, start, end, ...] (an odd count of finite numbers), got {len(values)} values")
        t_from, pairs = values[0], list(zip(values[1::2], values[2::2]))
        if any(end <= start or start < t_from for start, end in pairs):
            raise ValueError("every interval must end after it starts, and start at or after t_from")
        kept = [(s, min(e, t_from)) for s, e in self._intervals if s < t_from]
        self._intervals = sorted(kept + pairs)
        return len(pairs)

    def covers(self, t: float) -> bool:
        """Is time t inside a closure? Intervals older than keep_s before t are forgotten."""
        if self._intervals and self._intervals[0][1] < t - self.keep_s:
            self._intervals = [(s, e) for s, e in self._intervals if e >= t - self.keep_s]
        return any(s <= t < e for s, e in self._intervals)

    def __len__(self) -> int:
        return len(self._intervals)
