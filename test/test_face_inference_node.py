"""face_inference as its own process over real rclpy topics: WAV -> audio_capture -> face_inference ->
this process; equality with `talkface animate`, emotion switches, bad input, restarts."""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import numpy as np
import pytest
import soundfile

from ros_helpers import Recorder, require_rclpy, start_node, stop_process

require_rclpy()
pytestmark = [pytest.mark.ros, pytest.mark.slow]

from sensor_msgs.msg import JointState  # noqa: E402
from std_msgs.msg import Int16MultiArray, String  # noqa: E402

from talkface_ros.face.arkit import FRAME_NAMES, INDEX  # noqa: E402
from talkface_ros.model.streamer import default_model_dir  # noqa: E402
from talkface_ros.nodes.common import sensor_qos  # noqa: E402
from talkface_ros.nodes.messages import pcm_to_msg  # noqa: E402


def shipped_model() -> str:
    """The shipped model (or $TALKFACE_TEST_MODEL, to run these tests against another one)."""
    if os.environ.get("TALKFACE_TEST_MODEL"):
        return os.environ["TALKFACE_TEST_MODEL"]
    directory = default_model_dir()
    if not (directory / "config.json").is_file():
        pytest.fail(f"the shipped model is missing from {directory}")
    return str(directory)


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-w", str(path), "-v", "en-us", "Maybe the bob pub opens at nine."], check=True)
    else:
        t = np.arange(32000) / 16000
        soundfile.write(path, 0.3 * np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 3 * t) > 0), 16000)
    return path


def frames_of(messages) -> np.ndarray:
    assert all(list(m.name) == list(FRAME_NAMES) for m in messages)
    return np.array([m.position for m in messages], dtype=np.float32)


def stamps_of(messages) -> np.ndarray:
    return np.array([m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in messages])


INFERENCE = {"idle_animation": False, "idle_timeout_s": 0.4, "seed": 7}


def test_wav_through_the_graph_equals_talkface_animate(speech_wav):
    from talkface_ros.model.animate import animate_file

    model = shipped_model()
    expected = animate_file(str(speech_wav), model=model, seed=7)
    with Recorder(JointState, "face/blendshapes", qos=1000) as recorder:
        inference = start_node("face_inference", {**INFERENCE, "model_path": model})
        assert recorder.wait_for_publisher(), stop_process(inference)
        capture = start_node("audio_capture", {"source": "wav", "wav_path": str(speech_wav), "wait_for_subscriber_s": 30.0})
        try:
            assert recorder.spin_until(lambda: len(recorder.messages) >= len(expected), timeout=60), \
                f"{len(recorder.messages)} of {len(expected)} frames" + \
                stop_process(inference) + stop_process(capture)
            recorder.spin_until(lambda: False, timeout=0.6)  # nothing more may come
        finally:
            outputs = stop_process(capture) + stop_process(inference)
    frames = frames_of(recorder.messages)
    assert len(frames) == len(expected), outputs
    assert np.all(np.isfinite(frames))
    np.testing.assert_allclose(frames, expected, atol=2e-3)
    stamps = stamps_of(recorder.messages)
    assert np.all(np.diff(stamps) > 0.0)
    # The sample clock, not arrival jitter: frames 20 ms apart. The anchor only ever moves back (chunks that
    # arrive sooner after their samples than the first one did), so no step is longer than 20 ms, and the
    # shortened steps add up to the first chunk's extra delivery latency, not to a drift. On a loaded
    # machine that catch-up can spread over a dozen chunks at start-up.
    steps = np.diff(stamps)
    assert np.median(steps) == pytest.approx(0.02, abs=1e-6)
    assert np.all(steps < 0.02 + 1e-6), steps
    assert np.sum(0.02 - steps) < 0.15, steps
    assert np.mean(np.abs(steps[len(steps) // 2:] - 0.02) < 1e-6) > 0.8, steps


class Driver:
    """Publishes PCM from this process and records the node's frames."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.pcm = recorder.node.create_publisher(Int16MultiArray, "audio/pcm", sensor_qos())
        self.emotion = recorder.node.create_publisher(String, "face/emotion", 10)

    def wait_for_node(self, timeout: float = 60.0) -> None:
        assert self.recorder.spin_until(lambda: self.pcm.get_subscription_count() > 0, timeout)
        assert self.recorder.wait_for_publisher(timeout)
        self.recorder.spin(0.3)

    def send(self, samples: np.ndarray, chunk: int = 320, realtime: bool = True) -> None:
        start = time.monotonic()
        for k in range(0, len(samples), chunk):
            if realtime:
                while time.monotonic() < start + k / 16000:
                    self.recorder.spin(0.002)
            self.pcm.publish(pcm_to_msg(samples[k:k + chunk]))
        self.recorder.spin(0.05)


def test_emotion_switch_moves_brows_and_mouth_corners_quickly_and_keeps_lip_closures(speech_wav):
    from talkface_ros.audio.pcm import float_to_int16
    from talkface_ros.audio.wav import load_audio

    speech = float_to_int16(load_audio(speech_wav))
    with Recorder(JointState, "face/blendshapes", qos=1000) as recorder:
        node = start_node("face_inference", {**INFERENCE, "model_path": shipped_model(), "emotion_transition_s": 0.1})
        try:
            driver = Driver(recorder)
            driver.wait_for_node()
            driver.send(np.tile(speech, 2)[: len(speech) + len(speech) // 2])
            neutral_count = len(recorder.messages)
            driver.emotion.publish(String(data="sad"))
            recorder.spin(0.05)
            driver.send(speech)
            recorder.spin_until(lambda: False, timeout=0.8)
        finally:
            output = stop_process(node)
    frames = frames_of(recorder.messages)

    def channel(*names: str) -> np.ndarray:
        return frames[:, [INDEX[n] for n in names]].mean(axis=1)

    brows, frown = channel("browInnerUp"), channel("mouthFrownLeft", "mouthFrownRight")
    smile = channel("mouthSmileLeft", "mouthSmileRight")
    before = slice(neutral_count - 50, neutral_count)
    soon = slice(neutral_count + 10, neutral_count + 30)       # 200-600 ms after the switch
    later = slice(neutral_count + 50, neutral_count + 100)     # 1-2 s after
    print("browInnerUp by 100 ms:", np.round([brows[neutral_count + 5 * i:neutral_count + 5 * i + 5].mean() for i in range(20)], 3))
    print("frown by 100 ms:", np.round([frown[neutral_count + 5 * i:neutral_count + 5 * i + 5].mean() for i in range(20)], 3))
    # within 200 ms: brows up and mouth corners down (the right direction); then further toward sad
    assert brows[soon].mean() > brows[before].mean() + 0.04, (brows[before].mean(), brows[soon].mean(), output)
    assert frown[soon].mean() > frown[before].mean() + 0.02, (frown[before].mean(), frown[soon].mean())
    assert brows[later].mean() > brows[before].mean() + 0.15
    assert smile[later].mean() <= smile[before].mean() + 0.05
    # and no jump: the transition is spread over emotion_transition_s, not one frame
    assert np.abs(np.diff(brows[neutral_count - 5:neutral_count + 15])).max() < 0.5
    jaw = frames[:, INDEX["jawOpen"]]
    assert jaw[neutral_count:].min() < 0.15, "lips still close (p, b, m) while sad"


def test_bad_input_never_yields_nan_and_a_restart_recovers():
    rng = np.random.default_rng(0)
    with Recorder(JointState, "face/blendshapes", qos=1000) as recorder:
        node = start_node("face_inference", {**INFERENCE, "model_path": shipped_model()})
        try:
            driver = Driver(recorder)
            driver.wait_for_node()
            phases = [
                ("full-scale noise in odd 333-sample chunks", rng.integers(-32768, 32767, size=16000, dtype=np.int16), 333),
                ("clipped square in tiny 37-sample chunks", np.tile(np.repeat(np.int16([32767, -32768]), 40), 100), 37),
                ("8 s of noise in one message", rng.integers(-32768, 32767, size=16000 * 8, dtype=np.int16), 16000 * 8),
            ]
            for name, samples, chunk in phases:
                before = len(recorder.messages)
                driver.send(samples, chunk=chunk)
                expected = len(samples) // 320
                assert recorder.spin_until(lambda: len(recorder.messages) - before >= expected - 1, timeout=30), \
                    f"{name}: {len(recorder.messages) - before} of {expected} frames"
                driver.pcm.publish(pcm_to_msg(np.zeros(0, dtype=np.int16)))  # an empty chunk in between
            count_before_restart = len(recorder.messages)
        finally:
            output = stop_process(node)
        assert "Traceback" not in output
        frames = frames_of(recorder.messages)
        assert np.all(np.isfinite(frames))
        assert frames[:, :52].min() >= 0.0 and frames[:, :52].max() <= 1.0
        assert np.abs(frames[:, 52:]).max() <= 0.6
        # a restarted node picks the stream up again
        node = start_node("face_inference", {**INFERENCE, "model_path": shipped_model()})
        try:
            driver.wait_for_node()
            driver.send(rng.integers(-3000, 3000, size=16000, dtype=np.int16))
            assert recorder.spin_until(lambda: len(recorder.messages) >= count_before_restart + 45, timeout=30)
        finally:
            stop_process(node)


@pytest.mark.parametrize("params", [{"lookahead": 9}, {"emotion": "bored"}])
def test_a_bad_parameter_is_one_error_line_under_the_nodes_name(params):
    # it was logged as [talkface], which names no node of the graph
    process = start_node("face_inference", params)
    try:
        process.wait(timeout=60)
    finally:
        output = stop_process(process)
    assert process.returncode == 1, output
    errors = [line for line in output.splitlines() if "[ERROR]" in line]
    assert len(errors) == 1 and "[face_inference]: invalid parameter" in errors[0], output
    assert "[talkface]" not in output and "Traceback" not in output
