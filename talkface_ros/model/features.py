"""Log-mel front end (numpy only), offline and streaming, bit-for-bit the same.

16 kHz mono, 80 mel bins, 25 ms Hann window (400 samples), 10 ms hop (160 samples).
Mel frame m uses the window that *ends* at sample 160 * (m + 1) (samples before 0 are zeros), so it
needs no future audio: two mel frames make one 20 ms model token, and token t ends exactly at the end of
face frame t's interval [320 t, 320 (t + 1)).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE as SAMPLE_RATE

N_MELS = 80
WIN = 400
HOP = 160
N_FFT = 512
SAMPLES_PER_FRAME = 320  # one 50 Hz model frame
MELS_PER_TOKEN = SAMPLES_PER_FRAME // HOP  # 2
TOKEN_DIM = N_MELS * MELS_PER_TOKEN  # 160
LOG_FLOOR = 1e-6
SILENT_TOKEN = float(np.log(LOG_FLOOR))  # the value of every token entry in digital silence
FMIN_HZ, FMAX_HZ = 20.0, 7600.0


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_band_edges_hz(n_mels: int = N_MELS, fmin: float = FMIN_HZ, fmax: float = FMAX_HZ) -> np.ndarray:
    """[n_mels + 2]: filter m rises from edge m, peaks at edge m + 1 (its centre) and falls to edge m + 2."""
    return _mel_to_hz(np.linspace(_hz_to_mel(np.array(fmin)), _hz_to_mel(np.array(fmax)), n_mels + 2))


def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, sr: int = SAMPLE_RATE,
                   fmin: float = FMIN_HZ, fmax: float = FMAX_HZ) -> np.ndarray:
    """Triangular HTK-style filters, shape [n_fft // 2 + 1, n_mels] (float64)."""
    edges = mel_band_edges_hz(n_mels, fmin, fmax)
    bins = np.linspace(0.0, sr / 2.0, n_fft // 2 + 1)
    fb = np.zeros((n_fft // 2 + 1, n_mels))
    for m in range(n_mels):
        lo, centre, hi = edges[m], edges[m + 1], edges[m + 2]
        up = (bins - lo) / (centre - lo)
        down = (hi - bins) / (hi - centre)
        fb[:, m] = np.maximum(0.0, np.minimum(up, down))
    return fb


MEL_CENTRES_HZ = mel_band_edges_hz()[1:-1]  # [80] the centre frequency of each mel bin
_WINDOW = np.hanning(WIN + 1)[:-1]  # periodic Hann
_FILTERS = mel_filterbank()


_FILTERS_CSR = None  # the filterbank as a scipy CSR matrix [80, 257], built on first use


def _filters_csr():
    global _FILTERS_CSR
    if _FILTERS_CSR is None:
        from scipy.sparse import csr_matrix

        _FILTERS_CSR = csr_matrix(_FILTERS.T)
    return _FILTERS_CSR


_BLOCK_ROWS = 128


def to_float(pcm: np.ndarray) -> np.ndarray:
    """int16 or float PCM -> float64 in [-1, 1]; NaN/Inf -> 0, clipped. Never raises on values."""
    pcm = np.asarray(pcm)
    if pcm.dtype == np.int16:
        return pcm.astype(np.float64) / 32768.0
    x = pcm.astype(np.float64, copy=True).reshape(-1)
    x[~np.isfinite(x)] = 0.0
    return np.clip(x, -1.0, 1.0)


def _log_mel_windows(padded: np.ndarray, n_frames: int) -> np.ndarray:
    """padded: float64 samples where frame m's window is padded[m*HOP : m*HOP + WIN]. -> [n_frames, 80] float32.

    Every operation is per frame (FFT per row; the filterbank as a sparse CSR product, each mel a sum over its
    bins in a fixed order for every frame), never a BLAS matmul, so a frame's value does not depend on how many
    frames are computed together: the streaming and offline paths agree bit for bit."""
    if n_frames <= 0:
        return np.zeros((0, N_MELS), dtype=np.float32)
    out = np.empty((n_frames, N_MELS), dtype=np.float32)
    all_windows = np.lib.stride_tricks.sliding_window_view(padded[: (n_frames - 1) * HOP + WIN], WIN)[::HOP]
    # in blocks of rows (the same values): the temporaries of a whole utterance would not stay in the caches, and
    # large ones cost fresh pages on every call
    for start in range(0, n_frames, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, n_frames)
        spectrum = np.fft.rfft(all_windows[start:stop] * _WINDOW, n=N_FFT, axis=1)
        power = spectrum.real ** 2 + spectrum.imag ** 2
        mel = _filters_csr() @ np.ascontiguousarray(power.T)  # [80, rows]
        out[start:stop] = np.log(mel.T + LOG_FLOOR)
    return out


def log_mel(pcm: np.ndarray) -> np.ndarray:
    """Offline: all complete mel frames of `pcm` -> [len(pcm) // 160, 80] float32. (Pushed through
    `StreamingLogMel` in pieces: no float64 copy of a whole utterance.)"""
    pcm = np.asarray(pcm)
    stream = StreamingLogMel()
    step = _BLOCK_ROWS * HOP
    mel = [stream.push(pcm[i:i + step]) for i in range(0, len(pcm), step)]
    return np.concatenate(mel) if mel else np.zeros((0, N_MELS), dtype=np.float32)


def with_left_context(pcm: np.ndarray) -> np.ndarray:
    """The float64 samples that mel frame m reads at [m * HOP, m * HOP + WIN): WIN - HOP zeros, then `pcm`."""
    return np.concatenate([np.zeros(WIN - HOP), to_float(pcm)])


def tokens_between(context_samples: np.ndarray, t0: int, t1: int) -> np.ndarray:
    """Tokens t0 .. t1 - 1 of an utterance from `with_left_context(pcm)`: bit-identical to
    `audio_tokens(pcm)[t0:t1]` (every mel frame is computed on its own), so a long utterance can be
    featurised in pieces, e.g. beside the encoder of the previous piece."""
    available = (len(context_samples) - (WIN - HOP)) // HOP // MELS_PER_TOKEN
    if not 0 <= t0 <= t1 <= available:
        raise ValueError(f"tokens {t0}..{t1} outside the utterance's {available}")
    return _log_mel_windows(context_samples[2 * t0 * HOP:], 2 * (t1 - t0)).reshape(t1 - t0, TOKEN_DIM)


def tokens_from_mel(mel: np.ndarray) -> np.ndarray:
    """[M, 80] -> [M // 2, 160] (pairs of mel frames; a trailing odd frame is dropped)."""
    n = mel.shape[0] // MELS_PER_TOKEN
    return mel[: n * MELS_PER_TOKEN].reshape(n, TOKEN_DIM)


def audio_tokens(pcm: np.ndarray) -> np.ndarray:
    """Offline: complete 20 ms tokens of `pcm` -> [len(pcm) // 320, 160] float32."""
    return tokens_from_mel(log_mel(pcm))


class StreamingLogMel:
    """Push PCM in any chunk sizes; get the same mel frames as `log_mel` on the concatenation."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._buffer = np.zeros(WIN - HOP)  # the left context (zeros before the stream starts)

    def push(self, pcm: np.ndarray) -> np.ndarray:
        """-> [n_new, 80] float32 mel frames completed by this chunk."""
        self._buffer = np.concatenate([self._buffer, to_float(pcm)])
        n_frames = (len(self._buffer) - (WIN - HOP)) // HOP
        if n_frames <= 0:
            return np.zeros((0, N_MELS), dtype=np.float32)
        mel = _log_mel_windows(self._buffer, n_frames)
        self._buffer = self._buffer[n_frames * HOP:]
        return mel


class StreamingTokens:
    """Push PCM; get 20 ms tokens [n_new, 160], identical to `audio_tokens` on the concatenation."""

    def __init__(self) -> None:
        self.mel = StreamingLogMel()
        self._pending = np.zeros((0, N_MELS), dtype=np.float32)

    def reset(self) -> None:
        self.mel.reset()
        self._pending = np.zeros((0, N_MELS), dtype=np.float32)

    def push(self, pcm: np.ndarray) -> np.ndarray:
        mel = np.concatenate([self._pending, self.mel.push(pcm)])
        tokens = tokens_from_mel(mel)
        self._pending = mel[tokens.shape[0] * MELS_PER_TOKEN:]
        return tokens


NATS_PER_DB = float(np.log(10.0) / 10.0)  # a power ratio of 1 dB in natural-log units


@dataclass(frozen=True)
class LevelNormConfig:
    """Causal automatic gain on the tokens (`LevelNormaliser`), so that a quiet or a loud speaker looks like one
    at the training corpus's level. Levels are natural logs of the mean mel power of a token."""

    reference: float = 2.4  # the level speech is brought to (the median of the tracked level on corpus3's speech)
    attack: float = 0.5  # share of the gap closed per token when the level rises (~ 30 ms to a new speaker)
    release_db_per_s: float = 6.0  # how fast the tracked level falls in quiet stretches (keeps the syllable envelope)
    max_gain_db: float = 45.0  # no more gain than this: silence and hiss stay quiet
    # noise gate (0: off): no gain that would lift the tracked background above reference - gate_db (a quiet room's
    # hiss before a word must not look like speech); the background follows the token power down at once and up
    # by floor_rise_db_per_s
    gate_db: float = 0.0
    floor_rise_db_per_s: float = 2.0


class LevelNormaliser:
    """Tokens in, tokens out, one at a time and in order, so that any chunking gives the same values bit for bit.

    The level follows the token's mean mel power (floor removed) up quickly (`attack`) and down slowly (`release`),
    never below reference - max_gain. Each token's power is scaled by exp(reference - level) with the log floor
    kept where it was: P' = (P - F) g + F, F = LOG_FLOOR, so digital silence stays at SILENT_TOKEN and a quiet
    speaker looks like the same speaker recorded louder."""

    def __init__(self, config: LevelNormConfig = LevelNormConfig()) -> None:
        self.config = config
        per_token = NATS_PER_DB * SAMPLES_PER_FRAME / SAMPLE_RATE
        self._release = config.release_db_per_s * per_token
        self._rise = config.floor_rise_db_per_s * per_token
        self._lowest = config.reference - config.max_gain_db * NATS_PER_DB
        self._gate = config.gate_db * NATS_PER_DB
        self.reset()

    def reset(self) -> None:
        self.level = self._lowest
        self.background = float("inf")  # the first token sets it

    def push(self, tokens: np.ndarray) -> np.ndarray:
        """[n, TOKEN_DIM] raw log-mel tokens -> the same shape, normalised (float32)."""
        tokens = np.asarray(tokens)
        out = np.empty(tokens.shape, dtype=np.float32)
        c = self.config
        for i in range(len(tokens)):
            power = np.maximum(np.exp(tokens[i].astype(np.float64)) - LOG_FLOOR, 0.0)
            energy = float(np.log(np.sum(power) / TOKEN_DIM + 1e-12))
            if energy > self.level:
                self.level += c.attack * (energy - self.level)
            else:
                self.level = max(self.level - self._release, self._lowest)
            log_gain = c.reference - self.level
            if self._gate > 0.0:
                self.background = min(energy, self.background + self._rise)
                log_gain = min(log_gain, max(0.0, c.reference - self._gate - self.background))
            out[i] = np.log(power * np.exp(log_gain) + LOG_FLOOR)
        return out


@dataclass(frozen=True)
class DereverbConfig:
    """Causal late-reverberation suppression on the mel power (`Dereverberator`): a room's tail is predicted from
    what the band held `delay_s` ago, decayed as a room of `rt60_s` decays, and taken off, so that a closure
    after a vowel looks closed again (spectral subtraction after Lebart, Boucher and Denbigh 2001)."""

    rt60_s: float = 0.4  # the room assumed: its tail falls 60 dB in this time
    delay_s: float = 0.05  # where the late tail begins (early reflections are left alone: they carry no smear)
    over_subtraction: float = 1.0  # scale of the predicted tail that is removed
    floor_db: float = -15.0  # no band is taken down by more than this


class Dereverberator:
    """Tokens in, tokens out, in order, any chunking bit-identical (like `LevelNormaliser`). Works on each of the
    token's two 10 ms mel frames: P_late[m] = P[m - d] exp(-2 delta d hop), delta = 3 ln 10 / RT60;
    P'[m] = P[m] max(1 - beta P_late[m] / P[m], floor). The log floor stays where it was."""

    def __init__(self, config: DereverbConfig = DereverbConfig()) -> None:
        if not config.rt60_s > 0.0 or not config.delay_s > 0.0:
            raise ValueError(f"dereverb needs rt60_s > 0 and delay_s > 0, got {config}")
        self.config = config
        hop_s = HOP / SAMPLE_RATE
        self._delay = max(1, int(round(config.delay_s / hop_s)))
        self._tail_gain = float(np.exp(-2.0 * 3.0 * np.log(10.0) / config.rt60_s * self._delay * hop_s))
        self._min_gain = float(10.0 ** (config.floor_db / 10.0))
        self.reset()

    def reset(self) -> None:
        self._past = np.zeros((self._delay, N_MELS))  # mel power of the last `delay` frames, oldest first

    def push(self, tokens: np.ndarray) -> np.ndarray:
        """[n, TOKEN_DIM] log-mel tokens -> the same shape with the predicted tail removed (float32)."""
        tokens = np.asarray(tokens)
        power = np.maximum(np.exp(tokens.astype(np.float64).reshape(-1, N_MELS)) - LOG_FLOOR, 0.0)
        history = np.concatenate([self._past, power])
        late = self.config.over_subtraction * self._tail_gain * history[:len(power)]
        gain = np.maximum(1.0 - late / np.maximum(power, 1e-12), self._min_gain)
        self._past = history[len(history) - self._delay:]
        return np.log(power * gain + LOG_FLOOR).astype(np.float32).reshape(tokens.shape)


def normalise_levels(tokens: np.ndarray, config: LevelNormConfig = LevelNormConfig()) -> np.ndarray:
    """Offline: a whole utterance's tokens through a fresh `LevelNormaliser`."""
    return LevelNormaliser(config).push(tokens)


def _switched_config(model_config: dict, switch: str, cls):
    """`cls` read from a model's config (config.json / ModelConfig.to_dict()): each field from the key
    `<switch>_<field>` (missing keys keep the default); None where `switch` is off or missing."""
    if not model_config.get(switch, False):
        return None
    defaults = cls()
    return cls(**{f.name: float(model_config.get(f"{switch}_{f.name}", getattr(defaults, f.name)))
                  for f in fields(cls)})


def level_norm_config(model_config: dict) -> LevelNormConfig | None:
    """The normaliser of a model's config: None where `level_norm` is off or missing (models from before it see
    the raw log-mel)."""
    return _switched_config(model_config, "level_norm", LevelNormConfig)


def dereverb_config(model_config: dict) -> DereverbConfig | None:
    """The dereverberator of a model's config: None where `dereverb` is off or missing."""
    return _switched_config(model_config, "dereverb", DereverbConfig)


@dataclass(frozen=True)
class FrontEnd:
    """What stands between the log-mel tokens and a model's encoder, in this order: the dereverberator, then the
    level normaliser (either may be absent). The dereverberator's gains are ratios of powers, so it is level
    invariant and may run first."""

    dereverb: DereverbConfig | None = None
    level_norm: LevelNormConfig | None = None

    def filters(self) -> "TokenFilters | None":
        """A fresh stream's filter state; None where the model reads the raw log-mel."""
        stages = ([Dereverberator(self.dereverb)] if self.dereverb is not None else []) + (
            [LevelNormaliser(self.level_norm)] if self.level_norm is not None else [])
        return TokenFilters(stages) if stages else None


class TokenFilters:
    """The stateful stages of a `FrontEnd`, pushed in order."""

    def __init__(self, stages: list) -> None:
        self.stages = stages

    def reset(self) -> None:
        for stage in self.stages:
            stage.reset()

    def push(self, tokens: np.ndarray) -> np.ndarray:
        for stage in self.stages:
            tokens = stage.push(tokens)
        return tokens


def front_end_config(model_config: dict) -> FrontEnd:
    """The front end a model was trained with, from its config (config.json / ModelConfig.to_dict())."""
    return FrontEnd(dereverb=dereverb_config(model_config), level_norm=level_norm_config(model_config))


def model_tokens(pcm: np.ndarray, front_end: FrontEnd | None = None) -> np.ndarray:
    """Offline: what a model's encoder reads, `audio_tokens` then the model's front-end filters (if any)."""
    tokens = audio_tokens(pcm)
    filters = front_end.filters() if front_end is not None else None
    return tokens if filters is None else filters.push(tokens)
