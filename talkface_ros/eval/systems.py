"""The systems `talkface eval` can run, by name. Anyone can add one with `register_system`.

A system is built by a factory `() -> object` with the streaming interface
`push(pcm int16 [N]) -> float32 [n_new_frames, 55]` and `reset()`, optionally
`set_emotion(label, intensity)`. The special name "teacher" replays the reference frames.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

SystemFactory = Callable[[], object]
SYSTEMS: dict[str, SystemFactory] = {}


def register_system(name: str, factory: SystemFactory) -> None:
    SYSTEMS[name] = factory


def _energy() -> object:
    from talkface_ros.eval.baselines import EnergyJaw

    return EnergyJaw()


def _mfcc() -> object:
    from talkface_ros.eval.baselines import MfccTemplates

    return MfccTemplates()


class StreamerAdapter:
    """Wraps a contract-(F) FaceStreamer (push -> list[Frame]) into the array interface."""

    def __init__(self, streamer) -> None:
        self.streamer = streamer

    def reset(self) -> None:
        self.streamer.reset()

    def set_emotion(self, label: str, intensity: float) -> None:
        self.streamer.set_emotion(label, intensity)

    def push(self, pcm: np.ndarray) -> np.ndarray:
        frames = self.streamer.push(pcm)
        return np.array([f.values for f in frames], np.float32).reshape(-1, 55)


def model_factory(path: str | None = None, backend: str = "onnxruntime", lookahead: int = 0) -> SystemFactory:
    """A factory for the shipped (or a given) model behind the contract-F FaceStreamer."""

    def build() -> object:
        try:
            from talkface_ros.model.streamer import FaceStreamer
        except ImportError as exc:
            raise RuntimeError(f"the model runtime is not available: {exc}") from exc
        return StreamerAdapter(FaceStreamer.from_pretrained(path, backend=backend, threads=1, lookahead=lookahead))

    return build


register_system("energy", _energy)
register_system("mfcc", _mfcc)
register_system("model", model_factory())
