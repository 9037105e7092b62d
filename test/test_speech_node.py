"""The speech node as a separate process on loopback: say -> paced audio/pcm + robot_speaking (latched),
~/stop, and bad input (empty text, unknown voice, no audio device) as warnings, never a crash."""
from __future__ import annotations

import numpy as np
import pytest

from ros_helpers import Recorder, require_rclpy, start_node, stop_process

require_rclpy()
pytestmark = pytest.mark.ros

from rclpy.qos import DurabilityPolicy, QoSProfile  # noqa: E402
from std_msgs.msg import Bool, Int16MultiArray, String  # noqa: E402
from std_srvs.srv import Trigger  # noqa: E402

from talkface_ros.nodes.messages import msg_to_pcm  # noqa: E402

LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
SENTENCE = "Hello, I am a robot face."


class SpeechRig:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.flags: list[bool] = []
        recorder.node.create_subscription(Bool, "robot_speaking", lambda m: self.flags.append(m.data), LATCHED)
        self.say_publisher = recorder.node.create_publisher(String, "say", 10)

    def say(self, text: str) -> None:
        assert self.recorder.spin_until(lambda: self.say_publisher.get_subscription_count() > 0, 30)
        self.say_publisher.publish(String(data=text))

    def pcm(self) -> np.ndarray:
        return np.concatenate([msg_to_pcm(m) for m in self.recorder.messages]) if self.recorder.messages \
            else np.zeros(0, np.int16)


def fresh_process_synth(text: str) -> np.ndarray:
    """The node's TTS audio for `text`, made in a fresh process as the node makes it (libespeak-ng keeps some
    state across calls in one process: after other sentences, a few samples come out different)."""
    import subprocess
    import sys

    code = ("import sys, numpy as np; from talkface_ros.speech.tts import TtsConfig, make_engine, synthesize; "
            "np.save(sys.stdout.buffer, synthesize(make_engine(TtsConfig(voice='en-us'))[0], sys.argv[1]).audio)")
    out = subprocess.run([sys.executable, "-c", code, text], capture_output=True, check=True).stdout
    import io

    return np.load(io.BytesIO(out))


def run_speech(params: dict, body) -> str:
    """Start the node (reliable audio: nothing lost on a loaded machine), run body(rig), stop; -> its output."""
    with Recorder(Int16MultiArray, "audio/pcm", qos=1000) as recorder:
        rig = SpeechRig(recorder)
        node = start_node("speech", {"reliable": True, "stats_period_s": 1.0, **params})
        try:
            assert recorder.spin_until(lambda: rig.flags == [False], 30), "the latched speaking flag starts false"
            body(rig, node)
            assert node.poll() is None, "the node is still running"
        finally:
            output = stop_process(node)
    assert node.returncode == 0 and "Traceback" not in output.split("Exception ignored in")[0], output
    return output


def test_say_publishes_the_speech_in_20ms_chunks_and_flags_speaking():
    expected = fresh_process_synth(SENTENCE)

    def body(rig: SpeechRig, node) -> None:
        rig.say(SENTENCE)
        assert rig.recorder.spin_until(lambda: rig.flags[-1:] == [False] and len(rig.flags) >= 3, 30), rig.flags
        received = rig.recorder.receive_times
        chunks = [msg_to_pcm(m) for m in rig.recorder.messages]
        assert {len(c) for c in chunks} == {320}
        pcm = rig.pcm()
        np.testing.assert_array_equal(pcm[: len(expected)], expected)  # the TTS audio, sample for sample
        assert not pcm[len(expected):].any() and len(pcm) - len(expected) >= 1600, "then ~0.1 s of silence"
        assert received[-1] - received[0] >= 0.7 * len(pcm) / 16000, "paced at the audio rate, not a burst"
        assert rig.flags == [False, True, False]

    run_speech({"playback": False}, body)


def test_stop_service_cuts_the_utterance():
    def body(rig: SpeechRig, node) -> None:
        client = rig.recorder.node.create_client(Trigger, "speech/stop")
        assert rig.recorder.spin_until(client.service_is_ready, 30)
        rig.say(" ".join([SENTENCE] * 6))  # ~10 s
        assert rig.recorder.spin_until(lambda: True in rig.flags and len(rig.recorder.messages) > 25, 30)
        future = client.call_async(Trigger.Request())
        assert rig.recorder.spin_until(future.done, 10)
        assert future.result().success and "1 request" in future.result().message
        assert rig.recorder.spin_until(lambda: rig.flags[-1] is False, 5), "not speaking any more"
        rig.recorder.spin_until(lambda: False, 0.5)
        assert len(rig.pcm()) < 5 * 16000, "cut well before the end of the 10 s utterance"

    run_speech({"playback": False}, body)


def test_bad_input_is_a_warning_and_a_safe_state():
    def body(rig: SpeechRig, node) -> None:
        rig.say("")
        rig.say("   ")
        rig.recorder.spin_until(lambda: False, 1.0)
        assert not rig.recorder.messages and rig.flags == [False], "nothing said for empty text"
        rig.say("Still here.")
        assert rig.recorder.spin_until(lambda: rig.flags[-1:] == [False] and len(rig.flags) >= 3, 30)
        assert len(rig.pcm()) > 8000

    output = run_speech({"voice": "xx-no-such-voice", "playback": True, "playback_device": "no-such-speaker-xyz"},
                        body)
    assert "no voice 'xx-no-such-voice'" in output and "speaking with espeak-ng voice 'en-us' instead" in output
    assert "no speaker" in output and "no-such-speaker-xyz" in output
    assert output.count("empty text") == 2


def test_bad_parameter_is_one_clear_error():
    node = start_node("speech", {"policy": "shout"})
    node.wait(timeout=30)
    output = stop_process(node)
    assert node.returncode == 1 and "policy must be one of" in output and "Traceback" not in output


def test_the_example_tts_publisher_feeds_audio_pcm_and_robot_speaking():
    import subprocess
    import sys
    from pathlib import Path

    from ros_helpers import ros_env

    script = Path(__file__).resolve().parent.parent / "tools" / "tts_publisher_example.py"
    with Recorder(Int16MultiArray, "audio/pcm") as recorder:
        rig = SpeechRig(recorder)
        process = subprocess.Popen([sys.executable, str(script), "--text", "Hello from my own TTS.", "--no-playback"],
                                   env=ros_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert recorder.spin_until(lambda: process.poll() is not None and rig.flags[-1:] == [False], 60)
        finally:
            output = stop_process(process)
    assert process.returncode == 0, output
    assert rig.flags[-2:] == [True, False]
    chunks = [msg_to_pcm(m) for m in recorder.messages]
    assert len(chunks) > 30 and {len(c) for c in chunks} == {320} and np.abs(np.concatenate(chunks)).max() > 1000


def test_face_closes_the_lips_on_the_tts_bilabials():
    """speech -> face/closures -> face_inference: frames stamped inside a p/b/m of the TTS have the jaw shut."""
    from rclpy.qos import QoSProfile as Qos
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    from talkface_ros.face.arkit import INDEX

    closures: list[list[float]] = []
    with Recorder(JointState, "face/blendshapes", qos=Qos(depth=1000, durability=DurabilityPolicy.TRANSIENT_LOCAL)) \
            as recorder:
        rig = SpeechRig(recorder)
        recorder.node.create_subscription(Float64MultiArray, "face/closures", lambda m: closures.append(list(m.data)), 10)
        bad = recorder.node.create_publisher(Float64MultiArray, "face/closures", 10)
        face = start_node("face_inference", {"lookahead": 2, "idle_animation": False})
        speech = start_node("speech", {"playback": False, "reliable": True})
        try:
            assert recorder.spin_until(lambda: rig.flags == [False] and bad.get_subscription_count() >= 1
                                       and recorder.subscription.get_publisher_count() > 0, 60)
            for _ in range(4):  # malformed: a warning (throttled), nothing else; repeated: discovery may lag
                bad.publish(Float64MultiArray(data=[1.0, 2.0]))
                recorder.spin_until(lambda: False, 0.3)
            rig.say("Bob may buy a big map, maybe.")
            assert recorder.spin_until(lambda: rig.flags[-1:] == [False] and len(rig.flags) >= 3, 30)
            recorder.spin_until(lambda: False, 1.0)
            assert face.poll() is None and speech.poll() is None
        finally:
            face_output, speech_output = stop_process(face), stop_process(speech)
    assert "ignoring face/closures" in face_output and "Traceback" not in face_output.split("Exception ignored")[0]
    announced = [c for c in closures if len(c) % 2 == 1 and len(c) > 1]  # (the test's malformed one is even)
    assert len(announced) == 1 and len(announced[0]) >= 1 + 2 * 5, "b, m, b, b, m, m: at least 5 closures"
    intervals = list(zip(announced[0][1::2], announced[0][2::2]))
    stamps = np.array([m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in recorder.messages])
    jaw = np.array([m.position[INDEX["jawOpen"]] for m in recorder.messages])
    inside = np.array([any(s <= t < e for s, e in intervals) for t in stamps])
    assert inside.sum() >= 5, "frames fall inside the announced closures (same clock)"
    assert (jaw[inside] <= 0.041).all(), jaw[inside]
    assert jaw[~inside].max() > 0.2, "the mouth opens elsewhere"


def test_interrupt_policy_cuts_in_through_the_topic():
    def body(rig: SpeechRig, node) -> None:
        rig.say(" ".join([SENTENCE] * 6))  # ~10 s
        assert rig.recorder.spin_until(lambda: len(rig.recorder.messages) > 25, 30)
        rig.say("Sorry, one moment.")
        assert rig.recorder.spin_until(lambda: rig.flags[-1:] == [False] and len(rig.flags) >= 3, 30), rig.flags
        assert len(rig.pcm()) < 6 * 16000, "the long utterance was cut, the short one spoken"
        assert rig.flags[0] is False and True in rig.flags and rig.flags[-1] is False

    output = run_speech({"playback": False, "policy": "interrupt"}, body)
    assert "interrupting the current utterance" in output and "cut at" in output
    assert "said 'Sorry, one moment.'" in output
