"""Motor babbling: random safe commands for the face motors, and the landmarks the face settles to."""
from __future__ import annotations

import logging

import numpy as np
from tqdm import tqdm

log = logging.getLogger(__name__)


def babble_commands(lower: np.ndarray, upper: np.ndarray, neutral: np.ndarray, count: int,
                    rng: np.random.Generator, rest_probability: float = 0.3) -> np.ndarray:
    """[count, M] commands within limits: uniform, with each motor left at neutral with some probability
    (so the slack region of tendons and sparse activations are well covered)."""
    u = rng.uniform(size=(count, lower.size))
    commands = lower + u * (upper - lower)
    rest = rng.uniform(size=commands.shape) < rest_probability
    commands[rest] = np.broadcast_to(neutral, commands.shape)[rest]
    return commands


def babble(sim, motor_index: np.ndarray, count: int, seed: int = 0, settle_s: float = 0.25,
           progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Drive the sim's motors `motor_index` (others at neutral) through `count` random poses; returns
    (commands [N, len(motor_index)], landmarks [N, L, 3] head frame, metres)."""
    d = sim.description
    lower, upper, neutral = (a[motor_index] for a in (d.lower_limits(), d.upper_limits(), d.neutral_positions()))
    commands = babble_commands(lower, upper, neutral, count, np.random.default_rng(seed))
    full = d.neutral_positions()
    landmarks = np.zeros((count, len(d.landmarks), 3))
    for i in tqdm(range(count), desc="babbling", disable=not progress, mininterval=1.0):
        full[motor_index] = commands[i]
        landmarks[i] = sim.settle(full, settle_s)
    return commands, landmarks
