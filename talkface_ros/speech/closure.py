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
