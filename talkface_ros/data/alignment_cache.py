"""On-disk cache of phone alignments (pocketsphinx's, the espeak DTW's, with their fit measures): one JSON file
per alignment, None (no alignment) cached too. Only an optimisation: delete it at will."""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from talkface_ros.data.phones import Phone

log = logging.getLogger(__name__)


def alignment_cache_dir() -> Path:
    """$TALKFACE_CACHE_DIR, else $XDG_CACHE_HOME/talkface_ros, else ~/.cache/talkface_ros; + /alignments."""
    base = os.environ.get("TALKFACE_CACHE_DIR") or str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "talkface_ros")
    return Path(base) / "alignments"


def cached_json(path: Path, compute: Callable[[], Any]) -> Any:
    """The JSON value stored at `path`, else `compute()` (JSON-serialisable), stored there (atomically) for next
    time. A damaged entry is recomputed."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    value = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(value))
        tmp.replace(path)
    except OSError as error:
        log.warning("alignment cache not written (%s)", error)
    return value


def phones_to_json(phones: list[Phone] | None) -> list | None:
    return None if phones is None else [[p.symbol, p.start, p.end] for p in phones]


def phones_from_json(cached: list | None) -> list[Phone] | None:
    return None if cached is None else [Phone(sym, start, end) for sym, start, end in cached]


def cached_phones(path: Path, align: Callable[[], list[Phone] | None]) -> list[Phone] | None:
    """The alignment stored at `path`, else `align()`, stored there (atomically) for next time."""
    try:
        return phones_from_json(cached_json(path, lambda: phones_to_json(align())))
    except (ValueError, TypeError):  # a damaged entry that is valid JSON: recompute and overwrite it
        path.unlink(missing_ok=True)
        return phones_from_json(cached_json(path, lambda: phones_to_json(align())))
