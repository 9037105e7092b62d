"""Text for the TTS: normalised, cut into sentences (one synthesis call each: espeak-ng's event timing drifts
on long calls), long sentences cut again at commas or spaces."""
from __future__ import annotations

import re

MAX_SENTENCE_CHARS = 200  # ~12 s at 175 wpm is too long for one call; cut well before
_SENTENCE_END = re.compile(r"(?<=[.!?;:…。！？])\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def normalise(text: str) -> str:
    """Control characters dropped, whitespace collapsed, trimmed."""
    return " ".join(_CONTROL.sub(" ", text).split())


def split_sentences(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[str]:
    """Sentences of `text` in order, none longer than max_chars (cut at the last comma, else the last space,
    else hard). Empty or blank text gives []."""
    if max_chars < 10:
        raise ValueError(f"max_chars must be >= 10, got {max_chars}")
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(normalise(text)):
        while len(sentence) > max_chars:
            head = sentence[:max_chars]
            cut = max(head.rfind(", "), head.rfind("; "))
            cut = cut + 1 if cut > max_chars // 3 else head.rfind(" ")
            if cut <= max_chars // 3:
                cut = max_chars
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence.strip():
            pieces.append(sentence.strip())
    return [p for p in pieces if any(ch.isalnum() for ch in p)]
