"""Makes the bundled demo speech clip (talkface_ros/assets/demo_speech.wav + .json) with espeak-ng:
a few sentences in a few languages, one synthesis call per sentence, with their phone timings.

  python tools/make_demo_clip.py
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile

from talkface_ros.data.espeak import EspeakSynth, EspeakVoice

SENTENCES = [
    ("en-us", "m3", "Hello! I am a robot face."),
    ("en-us", "m3", "My lips close on every p, b and m, and open wide on ah."),
    ("es", "f2", "Buenos días, me alegra mucho poder hablar contigo."),
    ("de", "m1", "Guten Morgen, wie geht es dir heute?"),
]
PAUSE_S = 0.4
OUT = Path(__file__).resolve().parent.parent / "talkface_ros" / "assets"


def main() -> None:
    synth = EspeakSynth()
    pieces, phones_out, sentences = [], [], []
    cursor = 0
    pause = np.zeros(int(16000 * PAUSE_S), dtype=np.int16)
    for language, variant, text in SENTENCES:
        result = synth.synth(text, EspeakVoice(language, variant, rate_wpm=160, pitch=50))
        offset = cursor / 16000
        sentences.append({"language": language, "voice": f"{language}+{variant}", "text": text,
                          "start_s": round(offset, 3), "end_s": round(offset + len(result.audio) / 16000, 3)})
        phones_out += [{"phone": p.symbol, "start_s": round(offset + p.start, 4), "end_s": round(offset + p.end, 4)}
                       for p in result.phones]
        pieces += [result.audio, pause]
        cursor += len(result.audio) + len(pause)
    audio = np.concatenate(pieces)
    OUT.mkdir(parents=True, exist_ok=True)
    soundfile.write(OUT / "demo_speech.wav", audio, 16000, subtype="PCM_16")
    (OUT / "demo_speech.json").write_text(json.dumps({"made_by": "tools/make_demo_clip.py (espeak-ng)",
                                                     "sentences": sentences, "phones": phones_out}, indent=1) + "\n")
    print(f"wrote {OUT / 'demo_speech.wav'}: {len(audio) / 16000:.2f} s")


if __name__ == "__main__":
    main()
