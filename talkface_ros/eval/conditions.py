"""Acoustic conditions for `talkface eval --condition ...`: each eval utterance degraded the same way every run.

An utterance's degradation is drawn from a generator seeded by (seed, condition, utterance id), so a
condition gives the same audio for an utterance whatever else is in the set or in the command. Babble is
made of other utterances of the same set (other voices where the set knows its speakers), so synthetic sets
get synthetic talkers and real sets real ones.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from talkface_ros.data import acoustics
from talkface_ros.eval.evaluate import EvalItem


@dataclass(frozen=True)
class ConditionConfig:
    reverb_rt60_s: float = 0.6
    reverb_rooms: int = 8  # a fixed pool of rooms, one drawn per utterance
    babble_talkers: int = 4
    babble_snr_db: float = 5.0
    noise_snr_db: float = 10.0
    servo_snr_db: float = 10.0
    quiet_db: float = -30.0
    clip_gain_db: float = 20.0


Degrade = Callable[[np.ndarray, np.random.Generator, "ConditionContext"], np.ndarray]


@dataclass
class ConditionContext:
    item: EvalItem
    others: list[EvalItem]  # the rest of the set (babble)
    config: ConditionConfig


def _babble(x: np.ndarray, rng: np.random.Generator, ctx: ConditionContext) -> np.ndarray:
    pool = [o for o in ctx.others if o.id != ctx.item.id]
    other_voices = [o for o in pool if o.speaker and o.speaker != ctx.item.speaker]
    if len(other_voices) >= ctx.config.babble_talkers:
        pool = other_voices
    if not pool:
        raise ValueError("babble needs other utterances in the set")
    picks = rng.choice(len(pool), size=min(ctx.config.babble_talkers, len(pool)), replace=False)
    talkers = [acoustics.to_float(pool[int(k)].audio) for k in picks]
    return acoustics.mix_at_snr(x, acoustics.babble(rng, talkers, len(x)), ctx.config.babble_snr_db)


def _reverb(x: np.ndarray, rng: np.random.Generator, ctx: ConditionContext) -> np.ndarray:
    rir = acoustics.fixed_rir(ctx.config.reverb_rt60_s, int(rng.integers(ctx.config.reverb_rooms)))
    return acoustics.reverberate(x, rir)


CONDITIONS: dict[str, Degrade] = {
    "clean": lambda x, rng, ctx: x,
    "reverb": _reverb,
    "babble": _babble,
    "noise": lambda x, rng, ctx: acoustics.mix_at_snr(x, rng.standard_normal(len(x)).astype(np.float32),
                                                      ctx.config.noise_snr_db),
    "quiet": lambda x, rng, ctx: acoustics.gain(x, ctx.config.quiet_db),
    "clipped": lambda x, rng, ctx: acoustics.hard_clip(x, ctx.config.clip_gain_db),
    "servo": lambda x, rng, ctx: acoustics.mix_at_snr(x, acoustics.servo_noise(rng, len(x)), ctx.config.servo_snr_db),
    "telephone": lambda x, rng, ctx: acoustics.telephone_band(x),
}


def condition_rng(seed: int, condition: str, item_id: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(condition.encode()), zlib.crc32(item_id.encode())])


def degrade_items(items: list[EvalItem], condition: str, seed: int = 0,
                  config: ConditionConfig = ConditionConfig()) -> list[EvalItem]:
    """The set with every utterance's audio (int16) degraded by `condition`; labels untouched."""
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")
    if condition == "clean":
        return list(items)
    degrade = CONDITIONS[condition]
    out = []
    for item in items:
        rng = condition_rng(seed, condition, item.id)
        audio = degrade(acoustics.to_float(item.audio), rng, ConditionContext(item, items, config))
        out.append(replace(item, audio=acoustics.to_int16(audio)))
    return out
