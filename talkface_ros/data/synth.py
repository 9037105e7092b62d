"""Corpus synthesis: shards of espeak-ng sentences + teacher curves, deterministic per (seed, shard).

Each shard is generated from its own RNG (seeded by the run seed and the shard number), so the result
does not depend on worker count or order, and an interrupted run resumes by skipping finished shards.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE
from talkface_ros.data import corpus as corpus_io
from talkface_ros.data.corpus import Utterance
from talkface_ros.data.espeak import MAX_SENTENCE_S, EspeakSynth, SynthResult
from talkface_ros.data.teacher import SpeakerStyle, animate
from talkface_ros.data.texts import random_sentence
from talkface_ros.data.voices import choose_voice
from talkface_ros.face.emotion import EMOTIONS

log = logging.getLogger(__name__)

FESTIVAL_VOICE_NAMES = ("kal", "slt", "ked")
FESTIVAL_HELDOUT = ("ked",)
# Festival's other languages (all in training): more real speakers' vocal tracts than the English voices.
FESTIVAL_WORLD_VOICE_NAMES = ("cs_dita", "cs_krb", "cs_ph", "it_lp", "it_pc", "fi_lj", "ru_nsh")


@dataclass(frozen=True)
class SynthConfig:
    out: str
    hours: float = 1.0
    seed: int = 0
    shard_seconds: float = 120.0
    workers: int = 2
    neutral_share: float = 0.35
    festival_share: float = 0.12  # of utterances, when festival is installed
    flite_share: float = 0.15  # of utterances, when flite and pocketsphinx are installed
    festival_world_share: float = 0.15  # of utterances, from the installed FESTIVAL_WORLD_VOICE_NAMES
    piper_share: float = 0.0  # of utterances, from the installed Piper (VITS) voices (data/piper_tts.py)
    prompt_copies: int = 0  # extra shards after the synthetic ones, each one copy of the Asterisk "train" prompts (real speech)
    world_prompt_copies: int = 0  # extra shards after those, each one copy of the Asterisk prompts in es/fr/it/ru (data/world_prompts.py)

    @property
    def num_shards(self) -> int:
        return max(1, int(np.ceil(self.hours * 3600.0 / self.shard_seconds)))

    @property
    def total_shards(self) -> int:
        return self.num_shards + max(0, self.prompt_copies) + max(0, self.world_prompt_copies)


_SYNTH: EspeakSynth | None = None


def _synth() -> EspeakSynth:
    global _SYNTH
    if _SYNTH is None:
        _SYNTH = EspeakSynth()
    return _SYNTH


def speaker_style(seed: int, voice_name: str, pitch: int) -> SpeakerStyle:
    """A stable style per speaker (voice + pitch band), so a speaker keeps its mannerisms across shards."""
    key = sum(ord(c) * (i + 1) for i, c in enumerate(voice_name)) * 131 + pitch // 10
    return SpeakerStyle.random(np.random.default_rng([seed, key]))


def _finish(rng: np.random.Generator, uid: str, result: SynthResult, style: SpeakerStyle, neutral_share: float, **meta) -> Utterance | None:
    """Synth result -> teacher-animated utterance (random emotion), or None if unusable."""
    if len(result.audio) < MODEL_SAMPLE_RATE * 0.3 or len(result.audio) > MAX_SENTENCE_S * MODEL_SAMPLE_RATE or not result.phones:
        return None
    emotion = "neutral" if rng.random() < neutral_share else str(rng.choice(EMOTIONS[1:]))
    intensity = 1.0 if emotion == "neutral" else float(rng.uniform(0.3, 1.0))
    teacher = animate(result.phones, result.audio, rng, emotion=emotion, intensity=intensity, style=style)
    return Utterance(
        id=uid, audio=result.audio, frames=teacher.frames, phone_class=teacher.phone_class, viseme=teacher.viseme,
        emotion=emotion, intensity=intensity, **meta,
    )


def make_utterance(rng: np.random.Generator, uid: str, seed: int, neutral_share: float = 0.35) -> Utterance | None:
    choice = choose_voice(rng)
    text = random_sentence(choice.text_language, rng)
    synth = _synth()
    result = synth.synth(text, choice.voice)
    words = text.split()
    while len(result.audio) > MAX_SENTENCE_S * MODEL_SAMPLE_RATE and len(words) > 1:
        words = words[: max(1, len(words) * 2 // 3)]
        result = synth.synth(" ".join(words), choice.voice)
    style = speaker_style(seed, choice.voice.name, choice.voice.pitch)
    return _finish(
        rng, uid, result, style, neutral_share, language=choice.voice.language,
        voice=f"{choice.voice.name}@p{choice.voice.pitch}r{choice.voice.rate_wpm}", synth="espeak-ng", split=choice.split,
    )


def make_festival_utterances(rng: np.random.Generator, prefix: str, count: int, seed: int, neutral_share: float,
                             voices: tuple[str, ...] = FESTIVAL_VOICE_NAMES, tag: str = "f") -> list[Utterance]:
    """`count` sentences from Festival voices, each in its voice's language (the default: US English kal,
    slt: train/val; ked: held-out voice). Voices that are not installed are left out."""
    from talkface_ros.data import festival

    voices = tuple(v for v in voices if festival.voice_installed(v))
    if count <= 0 or not voices:
        return []
    out: list[Utterance] = []
    # One festival process per voice (start-up dominates), one speaking rate per voice and shard.
    stretches = {name: round(float(rng.uniform(0.85, 1.2)), 2) for name in voices}
    by_voice: dict[tuple[str, float], list[str]] = {}
    for _ in range(count):
        name = str(rng.choice(voices))
        language = festival.FESTIVAL_VOICES[name].language
        by_voice.setdefault((name, stretches[name]), []).append(random_sentence(language, rng, max_words=8))
    n = 0
    for (name, stretch), texts in sorted(by_voice.items()):
        try:
            results = festival.synth_batch(texts, festival.FestivalVoice(name, stretch))
        except (festival.FestivalError, OSError, subprocess.TimeoutExpired) as exc:
            log.warning("festival %s failed, skipping: %s", name, exc)
            continue
        split = "heldout_voice" if name in FESTIVAL_HELDOUT else ("val" if rng.random() < 0.04 else "train")
        style = speaker_style(seed, "festival:" + name, 50)
        text_language = festival.FESTIVAL_VOICES[name].language
        language = "en-us" if text_language == "en" else text_language  # the manifest's name for US English
        for result in results:
            utt = _finish(rng, f"{prefix}-{tag}{n:03d}", result, style, neutral_share, language=language,
                          voice=f"festival:{name}@s{stretch}", synth="festival", split=split)
            n += 1
            if utt is not None:
                out.append(utt)
    return out


@dataclass(frozen=True)
class _Drawn:
    """One sentence a voice source made, with what the manifest says of it."""
    result: SynthResult
    speaker: str  # the style key ("flite:awb")
    language: str
    voice: str  # the manifest's voice label
    synth: str


def _draw_utterances(rng: np.random.Generator, prefix: str, tag: str, count: int, seed: int, neutral_share: float,
                     draw: Callable[[np.random.Generator], _Drawn | None]) -> list[Utterance]:
    """Up to `count` utterances from `draw` (None: that sentence is skipped), at most 4 * count tries; all
    train (4 % val: these sources hold no held-out voices)."""
    out: list[Utterance] = []
    tries = 0
    while len(out) < count and tries < 4 * count:
        tries += 1
        drawn = draw(rng)
        if drawn is None:
            continue
        style = speaker_style(seed, drawn.speaker, 50)
        split = "val" if rng.random() < 0.04 else "train"
        utt = _finish(rng, f"{prefix}-{tag}{len(out):03d}", drawn.result, style, neutral_share, language=drawn.language,
                      voice=drawn.voice, synth=drawn.synth, split=split)
        if utt is not None:
            out.append(utt)
    return out


def make_flite_utterances(rng: np.random.Generator, prefix: str, count: int, seed: int, neutral_share: float) -> list[Utterance]:
    """`count` English sentences from flite voices (all in training: the held-out voices stay the espeak
    variants and Festival's ked), phones by forced alignment. Own speaking rate and pitch per sentence."""
    from talkface_ros.data import flite
    from talkface_ros.data.sphinx_align import shared_aligner

    if count <= 0 or not flite.available():
        return []
    try:
        aligner = shared_aligner()
    except RuntimeError as exc:
        log.warning("no flite sentences: %s", exc)
        return []

    def draw(rng: np.random.Generator) -> _Drawn | None:
        name = str(rng.choice(flite.FLITE_VOICES))
        voice = flite.FliteVoice(name, round(float(rng.uniform(0.85, 1.25)), 2),
                                 None if rng.random() < 0.5 else round(float(rng.uniform(0.8, 1.25)) * (170.0 if name == "slt" else 105.0), 1))
        text = random_sentence("en", rng, max_words=8)
        try:
            result = flite.synth(text, voice, aligner)
        except (flite.FliteError, OSError, subprocess.TimeoutExpired) as exc:
            log.warning("flite %s failed, skipping: %s", name, exc)
            return None
        if result is None:
            return None
        return _Drawn(result, "flite:" + name, "en-us", f"flite:{name}@s{voice.duration_stretch}", "flite")

    return _draw_utterances(rng, prefix, "l", count, seed, neutral_share, draw)


def make_piper_utterances(rng: np.random.Generator, prefix: str, count: int, seed: int, neutral_share: float) -> list[Utterance]:
    """`count` English sentences from the installed Piper voices (neural voices trained on real speakers'
    recordings, all in training), own speaking rate and rhythm per sentence, phones from the voice's own
    durations."""
    from talkface_ros.data import piper_tts

    names = piper_tts.installed_voices()
    if count <= 0 or not names:
        return []

    def draw(rng: np.random.Generator) -> _Drawn | None:
        name = str(rng.choice(names))
        prosody = piper_tts.choose_prosody(rng)
        text = random_sentence("en", rng, max_words=8)
        try:
            result = piper_tts.synth(text, name, prosody)
        except piper_tts.PiperError as exc:
            log.warning("piper %s failed, skipping: %s", name, exc)
            return None
        if result is None:
            return None
        return _Drawn(result, "piper:" + name, "en-us", f"piper:{name}@l{prosody.length_scale}", "piper")

    return _draw_utterances(rng, prefix, "v", count, seed, neutral_share, draw)


def make_shard(config: SynthConfig, shard: int) -> tuple[int, float]:
    """Generate and write one shard; returns (shard, seconds of audio)."""
    world_first = config.num_shards + max(0, config.prompt_copies)
    if shard >= world_first:  # a copy of the real prompts in other languages
        from talkface_ros.data.world_prompts import make_world_prompt_utterances

        utterances = make_world_prompt_utterances(config.seed, config.neutral_share, copy=shard - world_first)
        corpus_io.write_shard(config.out, shard, utterances)
        return shard, sum(len(u.audio) for u in utterances) / MODEL_SAMPLE_RATE
    if shard >= config.num_shards:  # a copy of the real English prompts
        from talkface_ros.data.asterisk import make_prompt_utterances

        utterances = make_prompt_utterances(config.seed, config.neutral_share, copy=shard - config.num_shards)
        corpus_io.write_shard(config.out, shard, utterances)
        return shard, sum(len(u.audio) for u in utterances) / MODEL_SAMPLE_RATE
    rng = np.random.default_rng([config.seed, shard])
    # About 3 s per sentence: festival's share of the shard, synthesised in one festival process.
    festival_count = int(round(config.festival_share * config.shard_seconds / 3.0))
    utterances = make_festival_utterances(rng, f"s{config.seed}-{shard:05d}", festival_count, config.seed, config.neutral_share)
    # flite from its own RNG stream: the espeak and Festival draws stay those of a corpus made without it
    flite_count = int(round(config.flite_share * config.shard_seconds / 3.0))
    utterances += make_flite_utterances(np.random.default_rng([config.seed, shard, 99991]), f"s{config.seed}-{shard:05d}",
                                        flite_count, config.seed, config.neutral_share)
    # Festival's other languages, from their own RNG stream too
    world_count = int(round(config.festival_world_share * config.shard_seconds / 3.0))
    utterances += make_festival_utterances(np.random.default_rng([config.seed, shard, 99989]), f"s{config.seed}-{shard:05d}",
                                           world_count, config.seed, config.neutral_share, FESTIVAL_WORLD_VOICE_NAMES, tag="w")
    piper_count = int(round(config.piper_share * config.shard_seconds / 3.0))
    utterances += make_piper_utterances(np.random.default_rng([config.seed, shard, 99961]), f"s{config.seed}-{shard:05d}",
                                        piper_count, config.seed, config.neutral_share)
    seconds = sum(len(u.audio) for u in utterances) / MODEL_SAMPLE_RATE
    n = 0
    while seconds < config.shard_seconds:
        # One RNG per utterance: a tiny difference in one sentence's audio cannot change the next ones.
        utt_rng = np.random.default_rng([config.seed, shard, n])
        utt = make_utterance(utt_rng, f"s{config.seed}-{shard:05d}-{n:04d}", config.seed, config.neutral_share)
        n += 1
        if utt is None:
            continue
        utterances.append(utt)
        seconds += len(utt.audio) / MODEL_SAMPLE_RATE
    corpus_io.write_shard(config.out, shard, utterances)
    return shard, seconds


def _make_shard_star(args: tuple[SynthConfig, int]) -> tuple[int, float]:
    return make_shard(*args)


def synthesize(config: SynthConfig, progress: bool = True, only: list[int] | None = None) -> dict:
    """Make (or finish) a corpus (or just the shards in `only`). Returns a summary dict.

    Every shard is made in a fresh worker process (forkserver, maxtasksperchild=1): libespeak-ng keeps hidden state
    between sentences (e.g. its pitch-flutter phase), so a shard is only bit-reproducible when its process
    starts clean."""
    out = Path(config.out)
    (out / "shards").mkdir(parents=True, exist_ok=True)
    shards = range(config.total_shards) if only is None else [k for k in only if 0 <= k < config.total_shards]
    todo = [k for k in shards if not corpus_io.shard_done(out, k)]
    log.info("corpus %s: %d shards, %d to make (%d done)", out, config.total_shards, len(todo), config.total_shards - len(todo))
    start = time.perf_counter()
    made_seconds = 0.0
    from tqdm import tqdm

    bar = tqdm(total=len(todo), unit="shard", disable=not progress)
    if todo:
        # forkserver: children fork from a clean server that never touched libespeak-ng (a plain fork
        # would inherit whatever state this process has).
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["talkface_ros.data.synth"])
        with ctx.Pool(max(1, min(config.workers, len(todo))), maxtasksperchild=1) as pool:
            for _, seconds in pool.imap_unordered(_make_shard_star, [(config, k) for k in todo]):
                made_seconds += seconds
                bar.update(1)
    bar.close()
    wall = time.perf_counter() - start
    count = corpus_io.write_manifest(out)
    summary = {
        "out": str(out), "shards": config.total_shards, "made_shards": len(todo), "utterances": count,
        "made_audio_s": round(made_seconds, 1), "wall_s": round(wall, 1),
        "x_realtime": round(made_seconds / wall, 1) if wall > 0 and made_seconds else None,
    }
    log.info("corpus summary: %s", summary)
    return summary
