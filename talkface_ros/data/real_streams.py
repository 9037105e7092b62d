"""Unlabelled real speech for adaptation: the training halves of the Debian real-speech sources, joined per
speaker into continuous streams.

`talkface adapt` needs no labels for most of its loss (the frozen model's encoding of the clean audio is the
target), so real recordings can teach the encoder what real voices sound like in a room without an aligner.
Only the training halves are used (Tux Paint's training languages, Fish Fillets' big fish): the held-out
speakers of `real-tuxpaint` and `real-fillets`, and every speaker of `real`/`real-prompts`, stay unheard.

Short clips (a Tux Paint description is ~1.4 s) are joined, in a fixed order per speaker, with a pause between
them, into streams of about `stream_s`, so that a crop has a speaker's context before it as in a live stream.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE

log = logging.getLogger(__name__)

SOURCES = ("tuxpaint", "fillets")


@dataclass(frozen=True)
class StreamConfig:
    stream_s: float = 20.0  # a stream is closed once it is this long
    pause_s: tuple[float, float] = (0.15, 0.5)  # silence between two clips of a stream
    max_clip_s: float = 12.0  # longer clips are left out (none of the sources has a reason for them)
    seed: int = 0


def training_clips(source: str) -> list:
    """The `data.real_clips.RealClip`s of a source's training half; ValueError for an unknown source,
    FileNotFoundError when its Debian package is not installed."""
    if source == "tuxpaint":
        from talkface_ros.data import tuxpaint as module
    elif source == "fillets":
        from talkface_ros.data import fillets as module
    else:
        raise ValueError(f"unknown real-speech source {source!r}; known: {', '.join(SOURCES)}")
    if not module.installed():
        raise FileNotFoundError(f"{source} is not installed: bash tools/install_system_deps.sh --speech-corpora")
    clips, _ = module.find_clips()
    return module.split_clips(clips, "train")


def join_clips(clips: list[np.ndarray], rng: np.random.Generator, config: StreamConfig) -> list[np.ndarray]:
    """int16 clips of one speaker -> int16 streams of about `stream_s`, a random pause between clips."""
    streams: list[np.ndarray] = []
    parts: list[np.ndarray] = []
    length = 0
    limit = int(config.stream_s * MODEL_SAMPLE_RATE)
    for clip in clips:
        if parts:
            pause = np.zeros(int(rng.uniform(*config.pause_s) * MODEL_SAMPLE_RATE), np.int16)
            parts.append(pause)
            length += len(pause)
        parts.append(np.asarray(clip, np.int16))
        length += len(clip)
        if length >= limit:
            streams.append(np.concatenate(parts))
            parts, length = [], 0
    if parts:
        streams.append(np.concatenate(parts))
    return streams


def real_streams(sources: tuple[str, ...] | list[str], config: StreamConfig = StreamConfig()) -> list[np.ndarray]:
    """Streams (int16, 16 kHz) of the training halves of `sources`, each of one speaker."""
    from talkface_ros.audio.wav import load_wav_16k
    from talkface_ros.data.real_clips import clip_order

    rng = np.random.default_rng([config.seed, 1819])
    streams: list[np.ndarray] = []
    for source in sources:
        by_speaker: dict[str, list[np.ndarray]] = defaultdict(list)
        unreadable = too_long = 0
        for clip in sorted(training_clips(source), key=clip_order):
            try:
                audio = load_wav_16k(clip.path)
            except (RuntimeError, OSError):
                unreadable += 1
                continue
            if len(audio) > config.max_clip_s * MODEL_SAMPLE_RATE:
                too_long += 1
                continue
            by_speaker[clip.speaker].append(audio)
        made = [s for speaker in sorted(by_speaker) for s in join_clips(by_speaker[speaker], rng, config)]
        seconds = sum(len(s) for s in made) / MODEL_SAMPLE_RATE
        log.info("real speech %s: %d speakers, %d streams, %.0f min (%d unreadable, %d longer than %.0f s)", source,
                 len(by_speaker), len(made), seconds / 60, unreadable, too_long, config.max_clip_s)
        streams += made
    return streams
