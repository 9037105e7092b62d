"""Festival (Debian) speech with phone timings, from voices built from recordings of real people: the
US-English diphone (kal, ked) and HTS (slt) voices, and diphone / unit-selection voices in Czech (dita,
krb, ph), Italian (lp, pc), Finnish (lj) and Russian (nsh). One festival process synthesises a
batch of sentences; for each, `utt.save.wave` writes the audio and `utt.save.segs` the phone end times in
the voice's phone set, mapped here to IPA (the phone-set definitions are in /usr/share/festival).
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE
from talkface_ros.data.espeak import SynthResult
from talkface_ros.data.phones import ARPABET_IPA, Phone

log = logging.getLogger(__name__)


def _with_long(phones: dict[str, str], suffix: str = ":") -> dict[str, str]:
    """Add the long form ("a:" -> "aː") of every non-silent phone."""
    out = dict(phones)
    out.update({k + suffix: v + "ː" for k, v in phones.items() if v})
    return out


# Czech (czech.scm): c = ts, c~ = tʃ, ch = x, ~ marks palatals/postalveolars, n* = ŋ, r~ = ř.
CZECH_IPA: dict[str, str] = {
    "#": "", "_": "", "a": "a", "a:": "aː", "b": "b", "c": "ts", "c~": "tʃ", "ch": "x", "d": "d", "d~": "ɟ",
    "dz": "dz", "dz~": "dʒ", "e": "ɛ", "e:": "ɛː", "f": "f", "g": "ɡ", "h": "ɦ", "i": "ɪ", "i:": "iː", "j": "j",
    "k": "k", "l": "l", "m": "m", "n": "n", "n*": "ŋ", "n~": "ɲ", "o": "o", "o:": "oː", "p": "p", "r": "r",
    "r~": "r̝", "r~*": "r̝̊", "s": "s", "s~": "ʃ", "t": "t", "t~": "c", "u": "u", "u:": "uː", "v": "v", "z": "z",
    "z~": "ʒ", "@": "ə", "mg": "ɱ",
}
# Italian (italian_phoneset.scm): a trailing 1 marks the stressed vowel; E/O open-mid, J = ɲ, L = ʎ.
_ITALIAN_BASE = {
    "i": "i", "e": "e", "E": "ɛ", "a": "a", "o": "o", "O": "ɔ", "u": "u",
}
ITALIAN_IPA: dict[str, str] = {
    "#": "", **_ITALIAN_BASE, **{k + "1": "ˈ" + v for k, v in _ITALIAN_BASE.items()},
    "j": "j", "w": "w", "p": "p", "t": "t", "k": "k", "b": "b", "d": "d", "g": "ɡ", "f": "f", "s": "s",
    "S": "ʃ", "v": "v", "z": "z", "Z": "ʒ", "ts": "ts", "tS": "tʃ", "dz": "dz", "dZ": "dʒ", "m": "m", "n": "n",
    "J": "ɲ", "ng": "ŋ", "nf": "ɱ", "l": "l", "L": "ʎ", "r": "r",
}
# Finnish (suopuhe finnish_phones.scm): @ = ä, 7 = ö, & = a central mid vowel; ":" marks length.
FINNISH_IPA: dict[str, str] = {
    "#": "", "##": "",
    **_with_long({"a": "ɑ", "e": "e", "i": "i", "o": "o", "u": "u", "y": "y", "@": "æ", "7": "ø", "&": "ə",
                  "p": "p", "t": "t", "k": "k", "b": "b", "d": "d", "g": "ɡ", "f": "f", "T": "θ", "D": "ð",
                  "s": "s", "S": "ʃ", "z": "z", "Z": "ʒ", "h": "h", "v": "ʋ", "m": "m", "n": "n", "N": "ŋ",
                  "l": "l", "L": "ʎ", "r": "r", "j": "j", "w": "w"}),
}
# Russian (msu_ru_nsh_phoneset.scm): doubled vowels are stressed, doubled consonants palatalised.
RUSSIAN_IPA: dict[str, str] = {
    "pau": "", "ii": "ˈi", "yy": "ˈɨ", "uu": "ˈu", "ee": "ˈe", "oo": "ˈo", "aa": "ˈa", "a": "ɐ", "e": "e",
    "i": "ɪ", "y": "ɨ", "u": "ʊ", "ae": "ə", "ay": "ɪ", "ur": "ʊ",
    "p": "p", "pp": "pʲ", "b": "b", "bb": "bʲ", "t": "t", "tt": "tʲ", "d": "d", "dd": "dʲ", "k": "k",
    "kk": "kʲ", "g": "ɡ", "gg": "ɡʲ", "c": "ts", "ch": "tɕ", "f": "f", "ff": "fʲ", "v": "v", "vv": "vʲ",
    "s": "s", "ss": "sʲ", "z": "z", "zz": "zʲ", "sh": "ʂ", "sch": "ɕː", "zh": "ʐ", "h": "x", "hh": "xʲ",
    "m": "m", "mm": "mʲ", "n": "n", "nn": "nʲ", "l": "ɫ", "ll": "lʲ", "r": "r", "rr": "rʲ", "j": "j",
}


@dataclass(frozen=True)
class FestivalVoiceSpec:
    command: str  # the scheme function that selects the voice
    language: str  # text language (wordfreq code)
    directory: str  # under FESTIVAL_VOICE_ROOT (Debian package festvox-...): voices not installed are skipped
    phones: dict[str, str] | None = field(default=None, repr=False)  # phone name (as in utt.save.segs) -> IPA; None = ARPAbet
    encoding: str = "utf-8"  # what the voice's text analysis reads


FESTIVAL_VOICES: dict[str, FestivalVoiceSpec] = {
    "kal": FestivalVoiceSpec("voice_kal_diphone", "en", "english/kal_diphone"),
    "ked": FestivalVoiceSpec("voice_ked_diphone", "en", "english/ked_diphone"),
    "slt": FestivalVoiceSpec("voice_cmu_us_slt_arctic_hts", "en", "us/cmu_us_slt_arctic_hts"),
    "cs_dita": FestivalVoiceSpec("voice_czech_dita", "cs", "czech/czech_dita", CZECH_IPA, "iso-8859-2"),
    "cs_krb": FestivalVoiceSpec("voice_czech_krb", "cs", "czech/czech_krb", CZECH_IPA, "iso-8859-2"),
    "cs_ph": FestivalVoiceSpec("voice_czech_ph", "cs", "czech/czech_ph", CZECH_IPA, "iso-8859-2"),
    "it_lp": FestivalVoiceSpec("voice_lp_diphone", "it", "italian/lp_diphone", ITALIAN_IPA, "latin-1"),
    "it_pc": FestivalVoiceSpec("voice_pc_diphone", "it", "italian/pc_diphone", ITALIAN_IPA, "latin-1"),
    "fi_lj": FestivalVoiceSpec("voice_suo_fi_lj_diphone", "fi", "finnish/suo_fi_lj_diphone", FINNISH_IPA, "latin-1"),
    "ru_nsh": FestivalVoiceSpec("voice_msu_ru_nsh_clunits", "ru", "russian/msu_ru_nsh_clunits", RUSSIAN_IPA),
}
# Not used: czech_machac and Finnish hy_fi_mv, whose audio runs on 75 ms and 235 ms (median) past their last
# phone's end time while starting on time (their phone times drift; the others end within 20 ms).

FESTIVAL_VOICE_ROOT = Path("/usr/share/festival/voices")


class FestivalError(RuntimeError):
    pass


@dataclass(frozen=True)
class FestivalVoice:
    name: str  # key of FESTIVAL_VOICES
    duration_stretch: float = 1.0  # > 1 slower


def available() -> bool:
    return shutil.which("festival") is not None


def voice_installed(name: str) -> bool:
    return available() and name in FESTIVAL_VOICES and (FESTIVAL_VOICE_ROOT / FESTIVAL_VOICES[name].directory).is_dir()


def parse_segs(text: str, phone_map: dict[str, str] | None = None) -> list[Phone]:
    """`utt.save.segs` output ('#' then 'END_TIME 100 PHONE' lines) -> contiguous IPA phones.

    `phone_map` maps the voice's phone names (case-sensitive) to IPA; None = ARPAbet ("radio" phones,
    any case). A phone missing from the map becomes "" (no class) and is logged."""
    phones: list[Phone] = []
    start = 0.0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or line.startswith("#"):
            continue
        end, name = float(parts[0]), parts[2]
        table, key = (ARPABET_IPA, name.upper()) if phone_map is None else (phone_map, name)
        if key not in table:
            log.debug("festival phone %s not mapped", name)
        if end > start:
            phones.append(Phone(table.get(key, ""), start, end))
        start = end
    return phones


def _escape(text: str) -> str:
    return text.replace("\\", " ").replace('"', " ")


def synth_batch(texts: list[str], voice: FestivalVoice, timeout_s: float = 120.0) -> list[SynthResult]:
    """Synthesise sentences with one festival process. Audio resampled to 16 kHz int16."""
    if voice.name not in FESTIVAL_VOICES:
        raise FestivalError(f"unknown festival voice {voice.name!r}; known: {sorted(FESTIVAL_VOICES)}")
    if not available():
        raise FestivalError("festival is not installed (apt-get install festival festvox-kallpc16k ...)")
    spec = FESTIVAL_VOICES[voice.name]
    from talkface_ros.audio.wav import load_wav_16k

    with tempfile.TemporaryDirectory(prefix="talkface-festival-") as tmp:
        lines = [f"({spec.command})", f"(Parameter.set 'Duration_Stretch {voice.duration_stretch:.3f})"]
        for i, text in enumerate(texts):
            # unwind-protect: an error in one sentence (a letter the voice's rules lack) skips only it
            lines.append(f'(unwind-protect (begin (set! utt (utt.synth (Utterance Text "{_escape(text)}")))'
                         f' (utt.save.wave utt "{tmp}/{i}.wav" \'riff) (utt.save.segs utt "{tmp}/{i}.segs")) nil)')
        script = Path(tmp) / "batch.scm"
        script.write_text("\n".join(lines) + "\n", encoding=spec.encoding, errors="replace")
        proc = subprocess.run(["festival", "-b", str(script)], capture_output=True, timeout=timeout_s)
        results = []
        for i in range(len(texts)):
            wav, segs = Path(tmp) / f"{i}.wav", Path(tmp) / f"{i}.segs"
            if not wav.exists() or not segs.exists():
                # One sentence the voice's text analysis cannot read costs that sentence, not the batch.
                log.warning("festival %s made no output for sentence %d (%r): %s", voice.name, i, texts[i][:60],
                            proc.stderr.decode("utf-8", "replace")[-300:])
                continue
            audio = load_wav_16k(wav)
            phones = parse_segs(segs.read_text(encoding="utf-8", errors="replace"), spec.phones)
            end = len(audio) / MODEL_SAMPLE_RATE
            if phones and phones[-1].end < end:
                phones.append(Phone("", phones[-1].end, end))
            results.append(SynthResult(audio=audio, phones=[p for p in phones if p.start < end]))
    if texts and not results:
        raise FestivalError(f"festival {voice.name} made no output: {proc.stderr.decode('utf-8', 'replace')[-500:]}")
    return results
