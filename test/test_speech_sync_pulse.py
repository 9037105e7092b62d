"""Mouth and sound in sync, for real: the speech node plays into a private PulseAudio null sink (captured with
ADC timestamps) while face_inference (lookahead 2) animates the PCM it publishes. The measurement is
bench/bench_speech_sync.py's; here on 3 sentences with a loose bound (the 20 ms p95 target over 20 sentences
is the benchmark's): a playback delay that forgot the face's 40 ms of lookahead would fail it."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from ros_helpers import require_rclpy

require_rclpy()
pytestmark = pytest.mark.ros

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import bench_speech_sync  # noqa: E402


def test_speaker_and_face_are_in_sync_on_three_sentences(tmp_path):
    sentences = list(bench_speech_sync.SENTENCES[:3])
    try:
        raw = bench_speech_sync.run(sentences, lookahead=2, chain_latency_s=None, workdir=tmp_path, log=print)
    except RuntimeError as error:
        if "pulseaudio" in str(error) or "not installed" in str(error):
            pytest.skip(str(error))
        raise
    result = bench_speech_sync.analyse(raw)
    print(result["summary"])
    for sentence in result["sentences"]:
        print(sentence)
    located = [s for s in result["sentences"] if s.get("correlation", 0) >= 0.5]
    assert len(located) >= 2, "the spoken sentences are found in the speaker's output"
    for sentence in result["sentences"]:
        assert sentence["frames"] >= sentence["speech_frames"], "a face frame for every 20 ms of speech"
    offsets = [s["offset_ms"] for s in located]
    assert abs(float(np.median(offsets))) <= 25.0, f"face vs sound offsets {offsets} ms"
    # the sound leaves ~chain latency + 2 lookahead frames after the chunk was published
    assert all(20.0 <= s["sound_after_publish_ms"] <= 90.0 for s in located)
    assert result["summary"]["robot_speaking_transitions"] == 2 * len(sentences)
