"""Phones (IPA) -> Oculus-15 visemes -> ARKit-52 poses, and the phone classes the lip-sync metrics use.

Oculus / OpenXR visemes: sil PP FF TH DD kk CH SS nn RR aa E ih oh ou (index 0..14).
Phone classes (bitmask, contract A): 1 open vowel, 2 bilabial closure (p b m), 4 rounded vowel, 8 spread vowel.
"""
from __future__ import annotations

import unicodedata

import numpy as np

from talkface_ros.face.arkit import INDEX, NUM_BLENDSHAPES

VISEMES: tuple[str, ...] = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou")
VISEME_INDEX: dict[str, int] = {name: i for i, name in enumerate(VISEMES)}

OPEN_VOWEL, BILABIAL, ROUNDED_VOWEL, SPREAD_VOWEL = 1, 2, 4, 8

# First IPA letter -> viseme. Multi-letter affricates are checked first.
_AFFRICATES = {"tʃ": "CH", "dʒ": "CH", "tɕ": "CH", "dʑ": "CH", "ʈʂ": "CH", "ts": "SS", "dz": "SS", "pf": "FF"}
_LETTER_VISEME: dict[str, str] = {}
for _letters, _viseme in (
    ("pbmʙ", "PP"),
    ("fvɸβʋɱ", "FF"),
    ("θð", "TH"),
    ("tdʈɖɾɽ", "DD"),
    ("kgɡqɢxɣχʁŋcɟhɦʔħʕɧ", "kk"),
    ("ʃʒɕʑʂʐçʝ", "CH"),
    ("sz", "SS"),
    ("nlɫɬɮɭʎɳɲʟ", "nn"),
    ("rɹʀɻɺ", "RR"),
    ("aɑɐæäɒʌᴀ", "aa"),
    ("eɛəɜœɘɵɚɝ", "E"),
    ("iɪyɨʏj", "ih"),
    ("oɔø", "oh"),
    ("uʊɯʉwɥ", "ou"),
):
    for _letter in _letters:
        _LETTER_VISEME[_letter] = _viseme

_VOWELS = set("aɑɐæäɒʌeɛəɜœɘɵɚɝiɪyɨʏoɔøuʊɯʉᴀ")
_OPEN = set("aɑɐæäɒʌᴀ")
_ROUNDED = set("oɔøuʊʉyʏœɵɒ")
_SPREAD = set("iɪeɛɯɨ")
_IGNORED = set("ːˑˈˌ̃ʰʲʷˠˤ̩̯̪̥̬~-_|'0123456789ʼ̝̞̟̠̹̜̈̆̚")


def _clean(symbol: str) -> str:
    """Drop length/stress marks and diacritics; keep base IPA letters."""
    out = []
    for ch in unicodedata.normalize("NFD", symbol):
        if ch in _IGNORED or unicodedata.category(ch) == "Mn":
            continue
        out.append(ch)
    return "".join(out)


def vowel_letters(symbol: str) -> str:
    """The vowel letters of a phone ("aɪ" -> "aɪ", "t" -> "")."""
    return "".join(ch for ch in _clean(symbol) if ch in _VOWELS)


def ipa_viseme(symbol: str) -> int:
    """An IPA phone -> Oculus viseme index (0 = sil for silence or unknown symbols)."""
    base = _clean(symbol)
    if not base:
        return 0
    for prefix, viseme in _AFFRICATES.items():
        if base.startswith(prefix):
            return VISEME_INDEX[viseme]
    for ch in base:
        if ch in _LETTER_VISEME:
            return VISEME_INDEX[_LETTER_VISEME[ch]]
    return 0


def ipa_phone_class(symbol: str) -> int:
    """An IPA phone -> phone-class bitmask (by its first letter; diphthongs are split by the caller)."""
    base = _clean(symbol)
    if not base:
        return 0
    first = base[0]
    if first in "pbm" and not base.startswith("pf"):
        return BILABIAL
    if first not in _VOWELS:
        return 0
    bits = 0
    if first in _OPEN:
        bits |= OPEN_VOWEL
    if first in _ROUNDED:
        bits |= ROUNDED_VOWEL
    if first in _SPREAD:
        bits |= SPREAD_VOWEL
    return bits


# ARKit pose per viseme (neutral elsewhere). Values in [0, 1].
_POSES: dict[str, dict[str, float]] = {
    "sil": {},
    "PP": {"jawOpen": 0.02, "mouthClose": 0.02, "mouthPressLeft": 0.35, "mouthPressRight": 0.35, "mouthRollLower": 0.15, "mouthRollUpper": 0.1},
    "FF": {"jawOpen": 0.08, "mouthRollLower": 0.55, "mouthUpperUpLeft": 0.2, "mouthUpperUpRight": 0.2, "mouthShrugUpper": 0.1},
    "TH": {"jawOpen": 0.15, "tongueOut": 0.35, "mouthLowerDownLeft": 0.1, "mouthLowerDownRight": 0.1},
    "DD": {"jawOpen": 0.18, "mouthLowerDownLeft": 0.1, "mouthLowerDownRight": 0.1, "mouthStretchLeft": 0.1, "mouthStretchRight": 0.1},
    "kk": {"jawOpen": 0.22, "mouthStretchLeft": 0.12, "mouthStretchRight": 0.12},
    "CH": {"jawOpen": 0.12, "mouthFunnel": 0.5, "mouthPucker": 0.25, "mouthUpperUpLeft": 0.15, "mouthUpperUpRight": 0.15},
    "SS": {"jawOpen": 0.07, "mouthStretchLeft": 0.3, "mouthStretchRight": 0.3, "mouthSmileLeft": 0.1, "mouthSmileRight": 0.1},
    "nn": {"jawOpen": 0.15, "mouthLowerDownLeft": 0.05, "mouthLowerDownRight": 0.05},
    "RR": {"jawOpen": 0.15, "mouthFunnel": 0.3, "mouthPucker": 0.2},
    "aa": {"jawOpen": 0.6, "mouthLowerDownLeft": 0.3, "mouthLowerDownRight": 0.3, "mouthUpperUpLeft": 0.1, "mouthUpperUpRight": 0.1},
    "E": {"jawOpen": 0.35, "mouthStretchLeft": 0.25, "mouthStretchRight": 0.25, "mouthLowerDownLeft": 0.2, "mouthLowerDownRight": 0.2},
    "ih": {"jawOpen": 0.18, "mouthStretchLeft": 0.4, "mouthStretchRight": 0.4, "mouthSmileLeft": 0.15, "mouthSmileRight": 0.15},
    "oh": {"jawOpen": 0.35, "mouthFunnel": 0.6, "mouthPucker": 0.3},
    "ou": {"jawOpen": 0.12, "mouthFunnel": 0.35, "mouthPucker": 0.75},
}


def viseme_pose_matrix() -> np.ndarray:
    """[15, 52] ARKit weights, one row per viseme."""
    poses = np.zeros((len(VISEMES), NUM_BLENDSHAPES), np.float32)
    for viseme, weights in _POSES.items():
        for name, value in weights.items():
            poses[VISEME_INDEX[viseme], INDEX[name]] = value
    return poses


VISEME_POSES: np.ndarray = viseme_pose_matrix()
