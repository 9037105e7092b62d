"""A timed phone: the common currency of every synthesizer and aligner."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phone:
    symbol: str  # IPA ("" = silence / pause)
    start: float  # seconds
    end: float  # seconds

    @property
    def duration(self) -> float:
        return self.end - self.start
