"""`talkface animate IN.wav -o OUT.csv`: audio file -> Live Link Face CSV with the online model.

Frame i reflects only audio up to the end of its 20 ms interval plus `lookahead` frames: the encoder runs over
all tokens at once (equal to stepping it, see test_model_streaming) and the one-step denoiser runs frame by
frame on its own outputs with the same noise draws as the streaming node. `--streaming` runs the node's very
`push()` path instead. Audio is read like the audio_capture node does (any rate/channels -> 16 kHz mono int16).
"""
from __future__ import annotations

import logging
import os

import numpy as np

from talkface_ros.face.emotion import parse_emotion

log = logging.getLogger(__name__)


def animate_file(path: str, model: str | None = None, backend: str = "onnxruntime", lookahead: int = 0,
                 seed: int = 0, emotion: str = "neutral", streaming: bool = False, threads: int = 1) -> np.ndarray:
    """-> [ceil(samples / 320), 55] frames at 50 Hz. Raises AudioFileError / ModelFileError / ValueError."""
    from talkface_ros.audio.pcm import float_to_int16
    from talkface_ros.audio.wav import load_audio
    from talkface_ros.face.arkit import sanitize_frames
    from talkface_ros.model.streamer import FaceStreamer

    emo = parse_emotion(emotion)
    pcm = float_to_int16(load_audio(path))
    streamer = FaceStreamer.from_pretrained(model, backend=backend, threads=threads, lookahead=lookahead, seed=seed)
    streamer.set_emotion(emo.label, emo.intensity)
    if streaming:
        frames = streamer.push(pcm) + streamer.flush()
        values = np.stack([f.values for f in frames]) if frames else np.zeros((0, 55), np.float32)
    else:
        values = streamer.animate(pcm)
    return sanitize_frames(values)


def default_threads() -> int:
    """2 (the encoder beside the denoiser: measured faster, same frames) where this process may run on 2 CPUs."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return 2 if cpus >= 2 else 1
