"""On-disk cache of phone alignments (pocketsphinx's, the espeak DTW's): one JSON file per alignment, None
(no alignment) cached too. Only an optimisation: delete it at will."""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from talkface_ros.data.phones import Phone

log = logging.getLogger(__name__)


def alignment_cache_dir() -> Path:
    """$TALKFACE_CACHE_DIR, else $XDG_CACHE_HOME/talkface_ros, else ~/.cache/talkface_ros; + /alignments."""
    base = os.environ.get("TALKFACE_CACHE_DIR") or str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "talkface_ros")
    return Path(base) / "alignments"


def cached_phones(path: Path, align: Callable[[], list[Phone] | None]) -> list[Phone] | None:
    """The alignment stored at `path`, else `align()`, stored there (atomically) for next time."""
    try:
        cached = json.loads(path.read_text())
        return None if cached is None else [Phone(sym, start, end) for sym, start, end in cached]
    except (OSError, ValueError, TypeError):
        pass
    phones = align()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(None if phones is None else [[p.symbol, p.start, p.end] for p in phones]))
        tmp.replace(path)
    except OSError as error:
        log.warning("alignment cache not written (%s)", error)
    return phones
