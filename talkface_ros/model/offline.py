"""FaceStreamer.animate: a whole utterance at once, equal to streaming it (reset + push + flush) within float
tolerance. The encoder runs over all tokens in whole windows, and the one-step denoiser over all frames in
one call (`DenoiseAll`: its history-free terms batched, the recurrence on its own outputs inside the graph),
with the same noise draws; with 2 threads the encoder runs on a worker beside the denoiser, in chunks."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from talkface_ros.face.arkit import FRAME_SIZE, sanitize_frames
from talkface_ros.model.features import SAMPLES_PER_FRAME, SILENT_TOKEN, TOKEN_DIM

if TYPE_CHECKING:
    from talkface_ros.model.streamer import FaceStreamer

PIPELINE_WINDOWS = 2  # encoder windows per chunk when animate overlaps the encoder with the denoiser


def pipeline_chunks(n_windows: int, size: int = PIPELINE_WINDOWS) -> list[tuple[int, int]]:
    """Window ranges [a, b) of `size` covering 0 .. n_windows; a last piece smaller than `size` joins the one
    before it."""
    bounds = [*range(0, n_windows, size), n_windows]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < size:
        del bounds[-2]
    return list(zip(bounds[:-1], bounds[1:]))


def animate(streamer: "FaceStreamer", pcm: np.ndarray) -> np.ndarray:
    """A whole utterance -> [ceil(N / 320), 55] frames, equal to reset + push + flush (within float
    tolerance): the encoder runs over all tokens at once, and the denoiser over all frames in one call
    (`DenoiseAll`: its history-free terms batched, the recurrence on its own outputs inside the graph), with
    the same noise draws."""
    from talkface_ros.model.features import audio_tokens, to_float

    streamer.reset()
    pcm = np.asarray(pcm).reshape(-1)
    n_frames = -(-len(pcm) // SAMPLES_PER_FRAME)
    if n_frames == 0:
        return np.zeros((0, FRAME_SIZE), dtype=np.float32)
    pad = n_frames * SAMPLES_PER_FRAME - len(pcm) + streamer.lookahead * SAMPLES_PER_FRAME
    if pcm.dtype != np.int16:  # as push() reads it (int16 stays int16: the same samples, converted once)
        pcm = to_float(pcm)
    samples = np.concatenate([pcm, np.zeros(pad, dtype=pcm.dtype)])
    n_tokens = len(samples) // SAMPLES_PER_FRAME
    n_windows = -(-n_tokens // streamer.window)  # the blocked encoder graph takes whole windows
    # the same noise stream as n_frames calls of _noise() (the generator is sequential)
    noise = streamer.state.rng.standard_normal((n_frames, FRAME_SIZE)).astype(np.float32)
    if streamer.threads > 1 and streamer.backend_name == "onnxruntime" and n_windows >= 2 * PIPELINE_WINDOWS:
        out, h_all = encode_and_denoise_pipelined(streamer, samples, n_tokens, noise, n_frames)
    else:
        tokens = audio_tokens(samples)
        if streamer.state.filters is not None:
            tokens = streamer.state.filters.push(tokens)
        padded = np.full((1, n_windows * streamer.window, TOKEN_DIM), SILENT_TOKEN, dtype=np.float32)
        padded[0, :n_tokens] = tokens
        h_all = streamer.backend.encode_all(padded)[0]
        out = streamer.backend.denoise_all(denoise_feeds(streamer, h_all, 0, n_frames, streamer.state.history, noise))
    bad = ~np.isfinite(out).all(axis=1)
    if bad.any():  # the graph fed a NaN frame back; streaming feeds back its sanitized frame: redo from there
        out = denoise_from(streamer, int(np.argmax(bad)), out, h_all, noise)
    out = sanitize_frames(out)
    streamer.state.history = np.concatenate([streamer.state.history, out[None]], axis=1)[:, -streamer.history_len:].copy()
    streamer.state.n_frames = n_frames
    streamer.state.n_tokens = n_tokens
    if streamer.max_lookahead:  # as stepping would leave it (zeros stand for tokens before the start)
        past = np.concatenate([np.zeros_like(streamer.state.h_past), h_all[:n_tokens]])
        streamer.state.h_past = np.ascontiguousarray(past[-streamer.max_lookahead:])
    return out

def denoise_feeds(streamer: "FaceStreamer", h_all: np.ndarray, start: int, stop: int, history: np.ndarray,
                   noise: np.ndarray) -> dict[str, np.ndarray]:
    """Frames start .. stop-1 of an utterance encoded as h_all: frame t reads h[t + lookahead] and, for a
    residual student's mean, its own encoding h[t]."""
    la = streamer.lookahead
    return {"h": h_all[start + la:stop + la], "h_frame": h_all[start:stop], "history": history, "noise": noise,
            "emotion": streamer._emotion, "lookahead": streamer._lookahead_arr}

def encode_and_denoise_pipelined(streamer: "FaceStreamer", samples: np.ndarray, n_tokens: int, noise: np.ndarray,
                                  n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """`animate` with its stages overlapped: the front end and the encoder on a worker thread, in chunks
    of windows (`pipeline_chunks`), the denoiser on this one, each chunk of frames as soon as its encoding
    is there (numpy's FFT and onnxruntime release the GIL). Exact: tokens are computed frame by frame
    (`tokens_between`), each chunk is encoded after the one before it, carrying its last window's keys and
    values (the blocked attention reads one window back), and the denoiser carries its history from chunk
    to chunk. -> (frames, the encodings of all tokens)."""
    from concurrent.futures import ThreadPoolExecutor

    from talkface_ros.model.features import tokens_between, with_left_context

    W, la = streamer.window, streamer.lookahead
    n_windows = -(-n_tokens // W)
    chunks = pipeline_chunks(n_windows)
    context = with_left_context(samples)
    tokens = np.full((1, n_windows * W, TOKEN_DIM), SILENT_TOKEN, dtype=np.float32)
    h_all = np.empty((n_windows * W, streamer.d_model), dtype=np.float32)
    state: list = [None]

    def encode(a: int, b: int) -> None:  # chunks run one after the other on the worker (one thread)
        t1 = min(b * W, n_tokens)
        if t1 > a * W:  # in order, so the token filters carry their state from chunk to chunk
            piece = tokens_between(context, a * W, t1)
            tokens[0, a * W:t1] = piece if streamer.state.filters is None else streamer.state.filters.push(piece)
        h, state[0] = streamer.backend.encode_chunk(tokens[:, a * W:b * W], state[0])
        h_all[a * W:b * W] = h[0]

    out = np.empty((n_frames, FRAME_SIZE), dtype=np.float32)
    history, done = streamer.state.history, 0
    with ThreadPoolExecutor(1) as pool:
        futures = [pool.submit(encode, a, b) for a, b in chunks]
        for (a, b), future in zip(chunks, futures):
            future.result()
            stop = n_frames if b == n_windows else min(n_frames, b * W - la)  # frame t reads h[t + la]
            if stop <= done:
                continue
            part = streamer.backend.denoise_all(denoise_feeds(streamer, h_all, done, stop, history, noise[done:stop]))
            out[done:stop] = part
            history = np.concatenate([history, part[None]], axis=1)[:, -streamer.history_len:]
            done = stop
    return out, h_all

def denoise_from(streamer: "FaceStreamer", start: int, out: np.ndarray, h_all: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Frames from `start` on one call each, each fed back sanitized like `_emit` does (only after a NaN)."""
    k = streamer.history_len
    frames = np.concatenate([streamer.state.history[0], out])  # frames[k + t] = frame t; those before `start` are good
    for t in range(start, len(out)):
        raw = streamer.backend.denoise_all(denoise_feeds(streamer, h_all, t, t + 1, frames[None, t:t + k], noise[t:t + 1]))
        frames[k + t] = sanitize_frames(raw[0])
    return frames[k:]
