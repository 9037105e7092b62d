"""Polyphase resampling that streams: any chunking of the input gives exactly the same output as one call
over the whole signal, so a microphone at 44.1/48 kHz and a WAV file reach the model identically."""
from __future__ import annotations

from fractions import Fraction

import numpy as np


def _ratio(src_rate: int, dst_rate: int) -> tuple[int, int]:
    fraction = Fraction(int(dst_rate), int(src_rate))
    return fraction.numerator, fraction.denominator


def design_filter(up: int, down: int, half_len: int = 10) -> np.ndarray:
    """The anti-aliasing FIR of scipy.signal.resample_poly (Kaiser, beta 5), scaled by `up`."""
    from scipy.signal import firwin  # only when a rate differs (importing scipy.signal costs ~0.3 s)

    max_rate = max(up, down)
    return firwin(2 * half_len * max_rate + 1, 1.0 / max_rate, window=("kaiser", 5.0)) * up


class StreamingResampler:
    """Stateful rational resampler src_rate -> dst_rate.

    Output sample k is sum_m P[t % up, m] * x[t // up - m] with t = k * down, where P is the polyphase
    table of the filter. It is causal: output k is produced as soon as input t // up has arrived, so the
    group delay of the filter (half its length) shows up as a fixed latency, not as look-ahead.
    """

    def __init__(self, src_rate: int, dst_rate: int, half_len: int = 10) -> None:
        if src_rate <= 0 or dst_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {src_rate} -> {dst_rate}")
        self.src_rate, self.dst_rate = int(src_rate), int(dst_rate)
        self.up, self.down = _ratio(src_rate, dst_rate)
        self.identity = self.up == self.down == 1
        taps = np.ones(1) if self.identity else design_filter(self.up, self.down, half_len)
        num_phases_taps = -(-len(taps) // self.up)
        padded = np.zeros(num_phases_taps * self.up)
        padded[: len(taps)] = taps
        # table[phase, m] = h[phase + m * up]
        self._table = padded.reshape(num_phases_taps, self.up).T.copy()
        self._num_taps = num_phases_taps
        self.delay_s = (len(taps) - 1) / 2 / (self.up * self.src_rate)
        self.reset()

    def reset(self) -> None:
        # History starts with zeros so the first outputs see a silent past.
        self._history = np.zeros(self._num_taps - 1, dtype=np.float64)
        self._consumed = 0  # input samples dropped from the front of _history, in absolute index
        self._next_output = 0

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Feed float samples, get every output sample that is now fully determined."""
        samples = np.asarray(samples, dtype=np.float64).reshape(-1)
        if self.identity:
            return samples.astype(np.float32)
        buffer = np.concatenate([self._history, samples])
        # absolute input index of buffer[0] is self._consumed - (num_taps - 1)
        base = self._consumed - (self._num_taps - 1)
        total_inputs = self._consumed + len(samples)
        # output k needs input index (k*down)//up < total_inputs
        last_k = (total_inputs * self.up - 1) // self.down if total_inputs > 0 else -1
        ks = np.arange(self._next_output, last_k + 1, dtype=np.int64)
        if len(ks):
            t = ks * self.down
            newest = t // self.up - base  # index into buffer of x[t // up]
            phases = t % self.up
            offsets = newest[:, None] - np.arange(self._num_taps)[None, :]
            output = np.einsum("km,km->k", self._table[phases], buffer[offsets])
            self._next_output = int(ks[-1]) + 1
        else:
            output = np.zeros(0)
        self._consumed = total_inputs
        self._history = buffer[len(buffer) - (self._num_taps - 1):] if self._num_taps > 1 else buffer[:0]
        return output.astype(np.float32)


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Whole-signal resampling with the streaming filter, compensating its delay so output aligns with input."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if src_rate == dst_rate:
        return samples.copy()
    resampler = StreamingResampler(src_rate, dst_rate)
    delay_in = int(round(resampler.delay_s * src_rate))
    padded = np.concatenate([samples, np.zeros(delay_in + resampler._num_taps, dtype=np.float32)])
    output = resampler.process(padded)
    delay_out = int(round(resampler.delay_s * dst_rate))
    wanted = int(round(len(samples) * dst_rate / src_rate))
    return output[delay_out: delay_out + wanted]
