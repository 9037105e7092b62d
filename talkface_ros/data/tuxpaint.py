"""Tux Paint's spoken stamp descriptions: ~7400 short real recordings in 14 languages, with their text.

Debian `tuxpaint-stamps-default` (GPL-2, `bash tools/install_system_deps.sh --speech-corpora`). Each stamp
`NAME.png` under STAMPS_DIR has `NAME.txt` (the English description on the first line, then one
`LOCALE.utf8=...` line per translation) and, for some locales, `NAME_desc_LOCALE.ogg` (`NAME_desc.ogg`:
English), a volunteer reading the description aloud (44.1 kHz, ~1.4 s). Translations were edited after some
recordings were made, so every clip's text is checked against its audio (`clip_fit`) before use.

Speakers: the files carry no speaker names. The package's changelog credits one reader per language where it
names one (READERS); French has two credits, Brazilian Portuguese "various school children". So the speaker
proxy is one speaker per locale: coarse, and safe for a held-out split (a reader's clips are all in one half,
whoever they are). The split (`speaker_split`) therefore holds out whole languages.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from talkface_ros.data.real_clips import RealClip
from talkface_ros.data.speaker_split import held_out_speakers, split_of

log = logging.getLogger(__name__)

STAMPS_DIR = Path("/usr/share/tuxpaint/stamps")
DEBIAN_PACKAGES = ("tuxpaint-stamps-default",)
SPLIT_SALT = "tuxpaint"
_DESC = re.compile(r"(?P<stamp>.+)_desc(?:_(?P<locale>[a-z]{2,3}(?:_[A-Z]{2})?))?\.(?:ogg|wav)")


@dataclass(frozen=True)
class Reader:
    locale: str  # as in the file names ("pt_BR"; "en" for NAME_desc.ogg)
    language: str  # espeak-ng's
    credit: str  # from the package's changelog; "" when it names nobody


READERS: tuple[Reader, ...] = (
    Reader("be", "be", "Kseniya Buraya"),
    Reader("bg", "bg", "Krasimir Petkov"),
    Reader("ca", "ca", "Pere Pujal i Carabantes"),
    Reader("da", "da", "Joe Dalton"),
    Reader("el", "el", "Kiriaki Serafeim"),
    Reader("en", "en", ""),  # English descriptions (the changelog credits John Arundel with British English letters and numbers)
    Reader("es", "es", "Estefanía Ortiz"),
    Reader("fr", "fr", "Jacques Chion, PaulK"),
    Reader("lt", "lt", "Andrius Jurkus"),
    Reader("ml", "ml", ""),
    Reader("nl", "nl", ""),
    Reader("pt_BR", "pt-br", "Brazilian school children"),
    Reader("ro", "ro", "Tabbytha"),
    Reader("ru", "ru", "Edwin Veber"),
)
_BY_LOCALE = {reader.locale: reader for reader in READERS}


def speaker_name(locale: str) -> str:
    return f"tuxpaint:{locale}"


TEST_SPEAKERS = held_out_speakers([speaker_name(r.locale) for r in READERS], share=0.5, salt=SPLIT_SALT)


def installed(stamps_dir: Path = STAMPS_DIR) -> bool:
    return stamps_dir.is_dir()


def parse_description(text: str) -> dict[str, str]:
    """A stamp's NAME.txt -> locale -> description. The first line that is not `KEY=...` is English ("en");
    `LOCALE.utf8=...` lines give the translations (`ca@valencia` and such are kept under their full name)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if sep and key.endswith(".utf8"):
            out[key[: -len(".utf8")]] = value.strip()
        elif not sep and "en" not in out:
            out["en"] = line
    return out


def spoken_text(description: str) -> str | None:
    """A description as espeak-ng should read it: Devanagari danda-like "|" and brackets/quotes dropped (their
    words are said), whitespace collapsed; None without a letter."""
    text = re.sub(r"[|()\[\]\"“”«»]", " ", description)
    text = re.sub(r"\s+", " ", text).strip()
    return text if re.search(r"[^\W\d_]", text) else None


def parse_clip_name(name: str) -> tuple[str, str] | None:
    """"adelaide-rosella_desc_fr.ogg" -> ("adelaide-rosella", "fr"); "crow_desc.ogg" -> ("crow", "en"); None for
    a file that is not a spoken description."""
    match = _DESC.fullmatch(name)
    return None if match is None else (match["stamp"], match["locale"] or "en")


def find_clips(stamps_dir: Path = STAMPS_DIR) -> tuple[list[RealClip], Counter]:
    """Every spoken description with the text of its locale, and how many were left out, by why."""
    clips: list[RealClip] = []
    skipped: Counter = Counter()
    descriptions: dict[Path, dict[str, str]] = {}
    for path in sorted(p for p in stamps_dir.rglob("*_desc*") if p.is_file()):
        parsed = parse_clip_name(path.name)
        if parsed is None:
            skipped["unexpected file name"] += 1
            continue
        stamp, locale = parsed
        reader = _BY_LOCALE.get(locale)
        if reader is None:
            skipped["locale without a listed reader"] += 1
            continue
        txt = path.with_name(f"{stamp}.txt")
        if txt not in descriptions:
            descriptions[txt] = parse_description(txt.read_text(encoding="utf-8", errors="replace")) if txt.is_file() else {}
        text = spoken_text(descriptions[txt].get(locale, ""))
        if text is None:
            skipped["no text for its locale"] += 1
            continue
        clip_id = f"tuxpaint-{locale}-{path.relative_to(stamps_dir).with_suffix('').as_posix().replace('/', '_')}"
        clips.append(RealClip(clip_id, path, text, reader.language, speaker_name(locale)))
    return clips, skipped


def locale_of_speaker(speaker: str) -> str:
    return speaker.split(":", 1)[1]


def locale_of(clip: RealClip) -> str:
    return locale_of_speaker(clip.speaker)


def split_clips(clips: list[RealClip], split: str | None) -> list[RealClip]:
    """The clips of one half ("test": the held-out readers, "train"), or all (None)."""
    return [c for c in clips if split is None or split_of(c.speaker, TEST_SPEAKERS) == split]
