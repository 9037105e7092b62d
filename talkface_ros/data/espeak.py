"""espeak-ng speech with phoneme timings, through libespeak-ng's phoneme events (ctypes).

The espeak-ng CLI prints no timings, so this binds the C API: synchronous output, a synth callback that
collects the 22.05 kHz samples and the espeakEVENT_PHONEME events (IPA names, sample positions), one
sentence per call (timing drifts on long calls). Audio is resampled to 16 kHz.

One process holds one libespeak-ng state: use one `EspeakSynth` per process (the corpus tool uses one per
worker process).

MBROLA voices (`mb-us1`, ...: diphones cut from recordings of real people, Debian's non-free `mbrola-*`
packages) go through the same call: espeak-ng makes the phones and their durations, the mbrola program
renders them at the voice's own rate (16 or 22.05 kHz). espeak-ng stamps their events `MBROLA_EVENT_DELAY`
samples late, and where a voice lacks a diphone mbrola renders silence instead and says so on stderr:
such a sentence is refused (`EspeakError`), its labels would be wrong.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import tempfile
from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE as SAMPLE_RATE
from talkface_ros.data.phones import Phone

log = logging.getLogger(__name__)

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 0x0001
_INIT_PHONEME_IPA = 0x0002
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH, _PARAM_RANGE = 1, 2, 3, 4
MAX_SENTENCE_S = 6.0
# espeak-ng adds this many output samples to every event of an MBROLA voice (its last event lands 1000
# samples after the end of the audio, for every voice tried) ...
MBROLA_EVENT_DELAY = 1000
# ... and, that taken off, the waveform's speech onsets and offsets after pauses still come a median 9 ms
# after the events (10 voices, 15 sentences each, `align_check`'s energy boundaries; espeak's own voices: 0).
MBROLA_AUDIO_LAG_S = 0.009


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class EspeakVoice:
    """A voice: espeak-ng language + optional variant (e.g. "de", "+f3"), and prosody."""

    language: str
    variant: str = ""
    rate_wpm: int = 175
    pitch: int = 50  # 0..100
    pitch_range: int = 50  # 0..100

    @property
    def name(self) -> str:
        return self.language + (f"+{self.variant}" if self.variant else "")

    @property
    def is_mbrola(self) -> bool:
        return self.language.startswith("mb-")


@dataclass
class SynthResult:
    audio: np.ndarray  # int16, 16 kHz mono
    phones: list[Phone]  # IPA symbols, times in seconds, contiguous, sorted


class EspeakError(RuntimeError):
    pass


class EspeakSynth:
    """Synthesises one sentence at a time with phoneme timings."""

    _instance_created = False

    def __init__(self, library: str | None = None) -> None:
        path = library or ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            self._lib = ctypes.CDLL(path)
        except OSError as exc:
            raise EspeakError(f"libespeak-ng not found ({exc}); install the espeak-ng package") from exc
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self._lib.espeak_ng_GetSampleRate.restype = ctypes.c_int
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]
        self.native_rate = self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INIT_PHONEME_EVENTS | _INIT_PHONEME_IPA)
        if self.native_rate <= 0:
            raise EspeakError("espeak_Initialize failed (espeak-ng-data missing?)")
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, str]] = []
        self._callback = _Callback(self._on_synth)  # keep a reference: C holds the pointer
        self._lib.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None

    def _on_synth(self, wav, num_samples, events) -> int:
        if num_samples > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, (num_samples,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_PHONEME:
                self._events.append((int(event.sample), event.id.decode("utf-8", "replace")))
            i += 1
        return 0

    def synth(self, text: str, voice: EspeakVoice) -> SynthResult:
        """One sentence -> 16 kHz int16 audio + phones. Raises EspeakError on an unknown voice."""
        # Set the voice on every call: it resets espeak-ng's state, so a sentence sounds the same whatever
        # was synthesised before it (needed for a corpus that is deterministic per shard).
        if self._lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
            raise EspeakError(f"espeak-ng has no voice {voice.name!r}")
        self._voice = voice.name
        for param, value in ((_PARAM_RATE, voice.rate_wpm), (_PARAM_PITCH, voice.pitch), (_PARAM_RANGE, voice.pitch_range), (_PARAM_VOLUME, 100)):
            self._lib.espeak_SetParameter(param, int(value), 0)
        rate = self._lib.espeak_ng_GetSampleRate() or self.native_rate  # an MBROLA voice has its own
        # libespeak-ng has one callback per process: claim it on every call, or a second EspeakSynth made
        # since this one would receive this sentence's audio (and this one would return silence)
        self._lib.espeak_SetSynthCallback(self._callback)
        self._chunks, self._events = [], []
        if voice.is_mbrola:
            complaints = self._speak_capturing_stderr(text)
            missing = [line for line in complaints.splitlines() if "unknown, replaced" in line]
            if missing:
                raise EspeakError(f"{voice.name} lacks {len(missing)} diphone(s) of this sentence ({missing[0].strip()})")
            shift = MBROLA_EVENT_DELAY - int(round(MBROLA_AUDIO_LAG_S * rate))
            self._events = [(sample - shift, name) for sample, name in self._events]
        else:
            self._speak(text)
        native = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        total_s = len(native) / rate
        audio = resample_poly(native.astype(np.float32), SAMPLE_RATE, rate) if rate != SAMPLE_RATE else native.astype(np.float32)
        audio = np.clip(np.round(audio), -32768, 32767).astype(np.int16)
        phones = events_to_phones(self._events, rate, total_s)
        return SynthResult(audio=audio, phones=phones)

    def _speak(self, text: str) -> None:
        data = text.encode("utf-8") + b"\0"
        buf = ctypes.create_string_buffer(data)
        self._lib.espeak_Synth(buf, len(data), 0, 1, 0, _CHARS_UTF8, None, None)
        self._lib.espeak_Synchronize()

    def _speak_capturing_stderr(self, text: str) -> str:
        """Speak with file descriptor 2 sent to a temporary file: mbrola's warnings reach espeak-ng's
        process there, not through any API. Returns what was written."""
        with tempfile.TemporaryFile() as sink:
            saved = os.dup(2)
            os.dup2(sink.fileno(), 2)
            try:
                self._speak(text)
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            sink.seek(0)
            return sink.read().decode("utf-8", "replace")


def events_to_phones(events: list[tuple[int, str]], native_rate: int, total_s: float) -> list[Phone]:
    """Phoneme start events -> contiguous phones (each ends where the next starts). Empty names are
    pauses/word ends and become silence "" segments."""
    phones: list[Phone] = []
    starts = [(max(0, s) / native_rate, name) for s, name in events]
    starts.sort(key=lambda item: item[0])
    if starts and starts[0][0] > 0:
        phones.append(Phone("", 0.0, starts[0][0]))
    for i, (start, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else total_s
        if end <= start:
            continue
        phones.append(Phone(name.strip(), start, min(end, total_s)))
    return [p for p in phones if p.end > p.start]

