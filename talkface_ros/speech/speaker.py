"""The speaking robot's core: requests in, paced PCM out to the face model, the same audio to a speaker later.

A request (text) is synthesised whole, then published in `chunk_ms` chunks paced at the audio rate, so the
face model runs on it exactly as on a microphone; each chunk is also handed to the playback, which sounds it
`playback_delay_s` after it was published (the chain latency: publish -> face frame out), so the mouth and the
sound line up. The TTS is ahead of the speaker by that delay: the face model's lookahead costs no sync.

Overlapping requests (`policy`):
- `queue` (default): a request while talking waits its turn (up to `max_queue` waiting; beyond that it is
  refused with a reason, the robot keeps talking). Requests are spoken in arrival order, back to back.
- `interrupt`: a request while talking cuts the current utterance at the next chunk, drops what was waiting
  and what the speaker had not played yet, and is spoken at once (barge-in for a dialogue manager).
`stop()` cuts the current utterance and drops the queue under either policy.

The speaking flag turns true when the first chunk of an utterance is published and false `speaking_hold_s`
after the last sample has left the speaker (queued utterances keep it true in between), so an ASR listening
to the room can ignore the robot's own voice.

No rclpy: the node passes `publish_pcm` and `on_speaking` callbacks and a playback object (or None).
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE
from talkface_ros.speech.text import normalise
from talkface_ros.speech.tts import TtsEngine, TtsError, Utterance, synthesize

log = logging.getLogger(__name__)

POLICIES = ("queue", "interrupt")
MAX_TEXT_CHARS = 5000


class Playback(Protocol):
    """What the speaker needs of a delayed playback (talkface_ros.audio.playback.DelayedPlayback)."""

    def push(self, chunk: np.ndarray, publish_time: float | None = None) -> None: ...

    def clear(self) -> None: ...


@dataclass(frozen=True)
class SpeakerConfig:
    chunk_ms: float = 20.0          # published chunk length (one face frame)
    policy: str = "queue"           # queue | interrupt
    max_queue: int = 5              # requests waiting behind the current one (queue policy)
    playback_delay_s: float = 0.07  # publish -> sound out of the speaker (the chain latency)
    tail_silence_s: float = 0.1     # silence published after each utterance: the face model's lookahead
                                    # frames come out at once, not at its idle timeout, and the mouth closes
    speaking_hold_s: float = 0.1    # speaking stays true this long after the last sample sounded (room echo)

    def validate(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, got {self.policy!r}")
        if not 5.0 <= self.chunk_ms <= 40.0:
            raise ValueError(f"chunk_ms must be in [5, 40], got {self.chunk_ms}")
        if self.max_queue < 0 or self.playback_delay_s < 0 or self.tail_silence_s < 0 or self.speaking_hold_s < 0:
            raise ValueError("max_queue, playback_delay_s, tail_silence_s and speaking_hold_s must be >= 0")


@dataclass
class SpeakerStats:
    requests: int = 0
    spoken: int = 0            # utterances played to the end
    interrupted: int = 0       # utterances cut by an interrupt or stop()
    refused: int = 0           # empty text, too long, queue full
    dropped: int = 0           # queued requests dropped by an interrupt or stop()
    synth_errors: int = 0
    chunks: int = 0
    late_chunks: int = 0       # published more than one chunk period after their time (CPU starved)
    last_utterance: dict = field(default_factory=dict)  # timing of the last utterance (for tests and benches)


class Speaker:
    def __init__(self, engine: TtsEngine, config: SpeakerConfig, publish_pcm: Callable[[np.ndarray], None],
                 on_speaking: Callable[[bool], None], playback: Playback | None = None,
                 on_utterance: Callable[[Utterance, dict], None] | None = None,
                 on_start: Callable[[Utterance], None] | None = None,
                 on_cut: Callable[[], None] | None = None) -> None:
        """on_start(utterance): right after its first chunk was published; on_cut(): an utterance was cut."""
        config.validate()
        self.engine = engine
        self.config = config
        self.publish_pcm = publish_pcm
        self.on_speaking = on_speaking
        self.on_utterance = on_utterance
        self.on_start = on_start
        self.on_cut = on_cut
        self.playback = playback
        self.stats = SpeakerStats()
        self.chunk_samples = int(round(MODEL_SAMPLE_RATE * config.chunk_ms / 1000.0))
        self._lock = threading.Condition()
        self._queue: collections.deque[str] = collections.deque()
        self._cut = threading.Event()        # cut the utterance being published
        self._closed = False
        self._busy = False                   # synthesising or publishing
        self._speaking = False
        self._speaking_until = 0.0           # monotonic time the flag may turn false
        self._thread = threading.Thread(target=self._run, name="speaker", daemon=True)

    # ---- requests
    def start(self) -> "Speaker":
        self.on_speaking(False)  # a known state from the start (latched by the node)
        self._thread.start()
        return self

    def say(self, text: str) -> tuple[bool, str]:
        """Queue (or, with the interrupt policy, barge in with) `text`. -> (accepted, reason)."""
        text = normalise(text)
        with self._lock:
            self.stats.requests += 1
            if not any(ch.isalnum() for ch in text):
                self.stats.refused += 1
                return False, "empty text: nothing to say"
            if len(text) > MAX_TEXT_CHARS:
                self.stats.refused += 1
                return False, f"text of {len(text)} characters; at most {MAX_TEXT_CHARS} per request"
            if self._closed:
                self.stats.refused += 1
                return False, "the speaker is shut down"
            talking = self._busy or bool(self._queue)
            if self.config.policy == "interrupt" and talking:
                self.stats.dropped += len(self._queue)
                self._queue.clear()
                self._cut.set()
            elif talking and len(self._queue) >= self.config.max_queue:
                self.stats.refused += 1
                return False, f"queue full ({self.config.max_queue} waiting); request dropped"
            self._queue.append(text)
            ahead = len(self._queue) - 1 + (1 if self._busy and not self._cut.is_set() else 0)
            self._lock.notify_all()
        if self.config.policy == "interrupt" and talking:
            return True, "interrupting the current utterance"
        return True, "speaking" if ahead == 0 else f"queued ({ahead} ahead)"

    def stop(self) -> int:
        """Cut the current utterance and drop the queue; -> the number of requests dropped or cut."""
        with self._lock:
            dropped = len(self._queue) + (1 if self._busy else 0)
            self.stats.dropped += len(self._queue)
            self._queue.clear()
            if self._busy:
                self._cut.set()
            self._lock.notify_all()
        return dropped

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def queued(self) -> int:
        return len(self._queue)

    def wait_idle(self, timeout: float) -> bool:
        """Until nothing is queued, published or sounding (True), or `timeout` passed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._speaking and not self._busy and not self._queue:
                return True
            time.sleep(0.01)
        return False

    def close(self, timeout: float = 2.0) -> None:
        with self._lock:
            self._closed = True
            self._queue.clear()
            self._cut.set()
            self._lock.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._speaking:
            self._set_speaking(False)

    # ---- the worker
    def _set_speaking(self, value: bool) -> None:
        if value != self._speaking:
            self._speaking = value
            try:
                self.on_speaking(value)
            except Exception:  # a callback failing at shutdown must not kill the worker
                log.exception("on_speaking failed")

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    if self._speaking and time.monotonic() >= self._speaking_until:
                        self._set_speaking(False)
                    wait = self._speaking_until - time.monotonic() if self._speaking else None
                    self._lock.wait(timeout=max(0.001, wait) if wait is not None else None)
                if self._closed:
                    return
                text = self._queue.popleft()
                self._busy = True
                self._cut.clear()
            try:
                self._speak(text)
            except Exception:  # never let one request kill the speaker
                self.stats.synth_errors += 1
                log.exception("speaking %r failed", text[:60])
            finally:
                with self._lock:
                    self._busy = False

    def _speak(self, text: str) -> None:
        started = time.monotonic()
        try:
            utterance = synthesize(self.engine, text)
        except TtsError as error:
            self.stats.synth_errors += 1
            log.warning("cannot say %r: %s", text[:60], error)
            return
        if len(utterance.audio) == 0:
            self.stats.synth_errors += 1
            log.warning("the TTS made no audio for %r", text[:60])
            return
        if self._cut.is_set():
            self._cut.clear()
            self.stats.interrupted += 1
            return
        synth_s = time.monotonic() - started
        timing = self._publish(utterance)
        timing.update(synth_s=synth_s, engine=utterance.engine, text=text)
        self.stats.last_utterance = timing
        if self.on_utterance is not None:
            self.on_utterance(utterance, timing)

    def _publish(self, utterance: Utterance) -> dict:
        """Publish the utterance (+ tail silence) in paced chunks; schedule its playback. -> timing record."""
        n = self.chunk_samples
        period = n / MODEL_SAMPLE_RATE
        tail = int(round(self.config.tail_silence_s * MODEL_SAMPLE_RATE))
        total = -(-(len(utterance.audio) + tail) // n) * n
        audio = np.zeros(total, np.int16)
        audio[: len(utterance.audio)] = utterance.audio
        speech_chunks = -(-len(utterance.audio) // n)
        first_publish = None
        cut_at = None
        t0 = time.monotonic()
        for k in range(total // n):
            target = t0 + k * period
            if self._cut.wait(max(0.0, target - time.monotonic())):
                cut_at = k
                break
            now = time.monotonic()
            if now - target > period:
                self.stats.late_chunks += 1
            chunk = audio[k * n:(k + 1) * n]
            self.publish_pcm(chunk)
            if first_publish is None:
                first_publish = now
                with self._lock:
                    self._speaking_until = now + self.config.playback_delay_s + utterance.duration_s \
                        + self.config.speaking_hold_s
                self._set_speaking(True)
                if self.on_start is not None:
                    self.on_start(utterance)
            if self.playback is not None and k < speech_chunks:
                self.playback.push(chunk, now)
            self.stats.chunks += 1
        if cut_at is not None:
            self._cut.clear()
            self.stats.interrupted += 1
            if self.playback is not None:
                self.playback.clear()  # what the speaker had not played yet is dropped with the utterance
            if self.on_cut is not None:
                self.on_cut()
            with self._lock:
                self._speaking_until = time.monotonic() + self.config.speaking_hold_s
            for _ in range(-(-tail // n)):  # silence to the face model: the mouth closes now, not at its timeout
                self.publish_pcm(np.zeros(n, np.int16))
        else:
            self.stats.spoken += 1
            with self._lock:
                self._speaking_until = (first_publish or t0) + self.config.playback_delay_s \
                    + utterance.duration_s + self.config.speaking_hold_s
        with self._lock:
            self._lock.notify_all()
        return {"first_publish": first_publish, "t0": t0, "samples": len(utterance.audio),
                "chunks": total // n, "cut_at_chunk": cut_at}
