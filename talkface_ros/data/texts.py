"""Sentence text per language, from the `wordfreq` package's word lists (offline, 40+ languages).

Sentences are random draws from a language's most frequent words, so the phone inventory and its
statistics follow the language, while no grammar is needed (the teacher only cares about phones).
"""
from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=None)
def word_list(language: str, size: int = 3000) -> tuple[str, ...]:
    try:
        import wordfreq
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError("the corpus text needs the `wordfreq` package: pip install wordfreq") from exc
    words = [w for w in wordfreq.top_n_list(language, size) if w.isalpha() and len(w) > 1]
    if len(words) < 100:
        raise ValueError(f"wordfreq has too few words for language {language!r}")
    return tuple(words)


def random_sentence(language: str, rng: np.random.Generator, min_words: int = 3, max_words: int = 10) -> str:
    words = word_list(language)
    count = int(rng.integers(min_words, max_words + 1))
    # Mildly favour frequent words (Zipf-ish) while keeping the tail.
    idx = np.minimum((rng.pareto(0.9, count) * 150).astype(int), len(words) - 1)
    chosen = [words[i] for i in idx]
    # Commas make pauses (and phrase-final lengthening) in some sentences.
    for k in range(1, len(chosen) - 1):
        if rng.random() < 0.12:
            chosen[k] += ","
    return " ".join(chosen)
