"""Fish Fillets NG's Czech voice acting: ~1900 lines of real, acted Czech dialogue, with their text.

Debian `fillets-ng-data` (the scripts) + `fillets-ng-data-cs` (the Czech voices), GPL-2 (ALTAR interactive's
original game, freed in 2004; `bash tools/install_system_deps.sh --speech-corpora`). The audio is
SOUND_DIR/<level>/cs/<dialog id>.ogg (mostly 22.05 kHz); the text is in SCRIPT_DIR/<level>/dialogs_cs.lua and
SCRIPT_DIR/share/*_dialogs_cs.lua as
    dialogId("let-m-divna", "font_small", "What kind of strange ship is that?")
    dialogStr("Co je to za divnou loď?")
(the dialog id, the font of the character who says it, the English line; then the Czech line).

Speakers: no credits name the actors. The font is the character: `font_small` is the small fish (a female
voice) and `font_big` the big fish (a male voice), four fifths of the lines between them. The other ~25
characters (parrot, statue, vikings, ...) may well be the same actors in other voices, so they are in neither
half of the held-out split (`SPEAKERS`): they are only counted.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path

from talkface_ros.data.real_clips import RealClip
from talkface_ros.data.speaker_split import held_out_speakers, split_of

log = logging.getLogger(__name__)

GAME_DIR = Path("/usr/share/games/fillets-ng")
DEBIAN_PACKAGES = ("fillets-ng-data", "fillets-ng-data-cs")
LANGUAGE = "cs"
SPLIT_SALT = "fillets"
FONT_SPEAKERS = {"font_small": "fillets:small-fish", "font_big": "fillets:big-fish"}  # font -> speaker
OTHER_CHARACTERS = "fillets:other-characters"
TEST_SPEAKERS = held_out_speakers(FONT_SPEAKERS.values(), share=0.5, salt=SPLIT_SALT)

_STRING = r'"((?:[^"\\]|\\.)*)"'
_DIALOG = re.compile(r"dialogId\(\s*" + _STRING + r"(?:\s*,\s*(?:" + _STRING + r"|nil))?[^)]*\)\s*"
                     r"dialogStr\(\s*" + _STRING + r"\s*\)", re.S)


def installed(game_dir: Path = GAME_DIR) -> bool:
    return (game_dir / "script").is_dir() and any((game_dir / "sound").glob("*/cs"))


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse_dialogs(lua: str) -> dict[str, tuple[str, str]]:
    """A dialogs_cs.lua file's text -> dialog id -> (font, Czech line). A dialogId without a dialogStr after it
    (no translation) is not in it; the font is "" when not given."""
    return {_unescape(m[1]): (_unescape(m[2] or ""), _unescape(m[3])) for m in _DIALOG.finditer(lua)}


def spoken_text(line: str) -> str | None:
    """A dialog line as espeak-ng should read it: whitespace collapsed; None without a letter."""
    text = re.sub(r"\s+", " ", line).strip()
    return text if re.search(r"[^\W\d_]", text) else None


def speaker_of_font(font: str) -> str:
    return FONT_SPEAKERS.get(font, OTHER_CHARACTERS)


def read_all_dialogs(script_dir: Path) -> tuple[dict[str, tuple[str, str]], set[str]]:
    """Every Czech dialog of the game, and the ids given different lines in different files (ambiguous)."""
    dialogs: dict[str, tuple[str, str]] = {}
    ambiguous: set[str] = set()
    for lua in sorted(script_dir.rglob("*dialogs_cs.lua")):
        for dialog_id, value in parse_dialogs(lua.read_text(encoding="utf-8", errors="replace")).items():
            if dialogs.get(dialog_id, value) != value:
                ambiguous.add(dialog_id)
            dialogs[dialog_id] = value
    return dialogs, ambiguous


def find_clips(game_dir: Path = GAME_DIR) -> tuple[list[RealClip], Counter]:
    """Every Czech voice file with its line, and how many were left out, by why."""
    dialogs, ambiguous = read_all_dialogs(game_dir / "script")
    clips: list[RealClip] = []
    skipped: Counter = Counter()
    for path in sorted((game_dir / "sound").rglob("cs/*.ogg")):
        dialog_id = path.stem
        if dialog_id in ambiguous:
            skipped["ambiguous text"] += 1
            continue
        font, line = dialogs.get(dialog_id, ("", ""))
        text = spoken_text(line)
        if text is None:
            skipped["no text"] += 1
            continue
        level = path.relative_to(game_dir / "sound").parent.parent.as_posix().replace("/", "_")
        clips.append(RealClip(f"fillets-{level}-{dialog_id}", path, text, LANGUAGE, speaker_of_font(font)))
    return clips, skipped


def split_clips(clips: list[RealClip], split: str | None) -> list[RealClip]:
    """The clips of one half ("test": the held-out fish, "train": the other), or all (None). The other
    characters are in neither half."""
    if split is None:
        return list(clips)
    return [c for c in clips if c.speaker != OTHER_CHARACTERS and split_of(c.speaker, TEST_SPEAKERS) == split]
