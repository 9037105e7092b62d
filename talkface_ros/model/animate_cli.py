"""`talkface animate IN.wav -o OUT.csv`: the command line of talkface_ros.model.animate."""
from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from talkface_ros.face.emotion import parse_emotion
from talkface_ros.model.animate import animate_file, default_threads

log = logging.getLogger(__name__)


EXIT_CODES = """exit status: 0 done; 1 the input, the model or the output failed (unreadable audio, missing model,
an output path that cannot be written: checked before the model runs, missing folders are created);
2 a bad command line (an unknown option or a bad value, e.g. --fps 0, --emotion bored)."""


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return value


def _int_at_least(low: int, high: int | None = None):
    def check(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, not {text!r}") from None
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, not {value}")
        return value

    return check


def _emotion(text: str) -> str:
    try:
        parse_emotion(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXIT_CODES
    parser.add_argument("input", help="audio file (any format/rate/channels soundfile reads)")
    parser.add_argument("-o", "--out", required=True,
                        help="output Live Link Face CSV (missing parent folders are created)")
    parser.add_argument("--fps", type=_positive_float, default=60.0, help="output frame rate (default 60)")
    parser.add_argument("--emotion", type=_emotion, default="neutral", help="label[:intensity], e.g. happy:0.8")
    parser.add_argument("--lookahead", type=_int_at_least(0, 3), default=0,
                        help="future 20 ms frames the model may see (0-3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    parser.add_argument("--backend", default="onnxruntime", choices=("onnxruntime", "torch"))
    parser.add_argument("--streaming", action="store_true", help="run the node's push() path (slower, same result)")
    parser.add_argument("--threads", type=_int_at_least(1), default=None,
                        help="1: everything on one thread; 2: the front end and the encoder beside the denoiser "
                             "recurrence (default: 2 where the process may use 2 CPUs); the output does not depend on it")


def run(args: argparse.Namespace) -> int:
    from talkface_ros.audio.wav import AudioFileError
    from talkface_ros.face.frames import resample_frames
    from talkface_ros.face.livelink import write_livelink_csv
    from talkface_ros.model.files import ModelFileError
    from talkface_ros.paths import OutputPathError, prepare_output_file

    try:  # before the model runs: a typo in -o must not cost the whole file's inference
        prepare_output_file(args.out)
    except OutputPathError as error:
        log.error("-o %s", error)
        return 1
    if args.threads is None:
        args.threads = default_threads()
    t0 = time.perf_counter()
    try:
        frames = animate_file(args.input, args.model, args.backend, args.lookahead, args.seed, args.emotion,
                              args.streaming, args.threads)
    except (AudioFileError, ModelFileError, ValueError) as exc:
        log.error("%s", exc)
        return 1
    seconds = len(frames) / 50.0
    out = resample_frames(frames, 50.0, args.fps) if len(frames) else frames
    try:
        write_livelink_csv(args.out, out, args.fps)
    except OSError as error:  # e.g. the disk filled up meanwhile
        log.error("cannot write %s: %s", args.out, error.strerror or error)
        return 1
    elapsed = time.perf_counter() - t0
    log.info("%s: %.2f s of audio -> %d frames at %g fps in %.3f s (%.0fx real time)", args.out, seconds,
             len(out), args.fps, elapsed, seconds / max(elapsed, 1e-9))
    return 0
