"""Real captures as training data: a Live Link Face CSV + its WAV -> a corpus Utterance.

The CSV (30/60 fps) is resampled to the 50 Hz frame grid of the audio (T = ceil(samples / 320)). With a
transcript, pocketsphinx (English) force-aligns it to fill phone_class/viseme; without one they are 0.
`offset_s` shifts the face relative to the audio (positive: the face track starts later than the audio).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from talkface_ros.data.corpus import Utterance
from talkface_ros.face.arkit import sanitize_frames
from talkface_ros.face.frames import resample_frames
from talkface_ros.face.livelink import read_livelink_csv

log = logging.getLogger(__name__)


def utterance_from_livelink(csv_path: str | Path, wav_path: str | Path, transcript: str | None = None, offset_s: float = 0.0,
                            uid: str | None = None, split: str = "train", emotion: str = "neutral", intensity: float = 1.0) -> Utterance:
    from talkface_ros.data.teacher import lip_sync, num_frames_for
    from talkface_ros.audio.wav import load_wav_16k
    from talkface_ros.data.sphinx_align import shared_aligner

    frames, fps = read_livelink_csv(csv_path)
    audio = load_wav_16k(wav_path)
    T = num_frames_for(len(audio))
    face = resample_frames(frames, fps, 50.0)
    shift = int(round(offset_s * 50.0))
    if shift > 0:
        face = np.concatenate([np.repeat(face[:1], shift, axis=0), face])
    elif shift < 0:
        face = face[-shift:]
    if len(face) < T:
        log.warning("%s: face track %.2f s shorter than audio; holding its last frame", csv_path, (T - len(face)) / 50)
        face = np.concatenate([face, np.repeat(face[-1:], T - len(face), axis=0)]) if len(face) else np.zeros((T, 55), np.float32)
    face = sanitize_frames(face[:T])
    phone_class = np.zeros(T, np.uint8)
    viseme = np.zeros(T, np.int8)
    if transcript:
        labels = lip_sync(shared_aligner().align(audio, transcript), T)
        phone_class, viseme = labels.phone_class, labels.viseme
    utt = Utterance(
        id=uid or Path(csv_path).stem, audio=audio, frames=face.astype(np.float32), phone_class=phone_class, viseme=viseme,
        emotion=emotion, intensity=intensity, language="en-us" if transcript else "", voice="livelink", synth="capture", split=split,
    )
    utt.validate()
    return utt
