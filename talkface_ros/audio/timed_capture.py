"""Capture the default input with each block's ADC time on this machine's monotonic clock, until a line
arrives on stdin; for measuring when sound really came out (a PulseAudio null sink's monitor as the input,
via PULSE_SOURCE). Used by the playback and speech-sync tests and benchmarks as a separate process:

    python -m talkface_ros.audio.timed_capture OUT.npz   # prints "ready" once the stream runs steadily

OUT.npz: samples (float32), block_times (monotonic s of each block's first sample), block_lengths."""
from __future__ import annotations

import sys
import time

import numpy as np

CAPTURE_RATE = 16000


def capture_main(out_path: str) -> None:
    import sounddevice

    blocks: list[np.ndarray] = []
    block_times: list[float] = []

    def on_block(indata, frames, time_info, status) -> None:
        block_times.append(time.monotonic() + (time_info.inputBufferAdcTime - time_info.currentTime))
        blocks.append(indata[:, 0].copy())

    with sounddevice.InputStream(device="pulse", samplerate=CAPTURE_RATE, channels=1, blocksize=160, latency="low",
                                 dtype="float32", callback=on_block):
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:  # a fresh PulseAudio stream stalls ~1.5 s before it runs steadily
            count = len(blocks)
            time.sleep(0.1)
            if len(blocks) - count >= 7:
                break
        print("ready", flush=True)
        sys.stdin.readline()
    np.savez(out_path, samples=np.concatenate(blocks), block_times=np.asarray(block_times),
             block_lengths=np.asarray([len(b) for b in blocks]))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m talkface_ros.audio.timed_capture OUT.npz")
    capture_main(sys.argv[1])
