"""speech: text on `say` (std_msgs/String) -> TTS -> `audio/pcm` (paced 20 ms chunks, for face_inference) and
the speaker, `playback_delay` later so the mouth and the sound line up; `robot_speaking` (std_msgs/Bool,
transient local) is true while the robot talks. `~/stop` (std_srvs/Trigger) cuts the current utterance and
drops the queue. With `force_closure`, the TTS's p/b/m times go to face_inference on `face/closures`
(std_msgs/Float64MultiArray [t_from, start0, end0, ...], seconds on the frames' clock): the lips close there.

Why a topic and not a service for the text: no service type in the ROS 2 wheels here carries a string request
(std_srvs has Empty, SetBool, Trigger); a custom `Say.srv` needs a rosidl interface package, which an
ament_python package cannot build. Completion is observable on `robot_speaking`.

The playback delay is `chain_latency_s + 0.02 * face_lookahead`: the measured publish -> face frame latency
at lookahead 0 plus the frames the face model waits for (bench/bench_speech_sync.py measures it)."""
from __future__ import annotations

import sys

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool, Float64MultiArray, Int16MultiArray, String
from std_srvs.srv import Trigger

from talkface_ros.audio.devices import AudioDeviceError
from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE
from talkface_ros.nodes.common import ParamSpec, StartupError, declare_parameters, run_node, sensor_qos
from talkface_ros.nodes.diagnostics import DiagnosticsPublisher
from talkface_ros.nodes.messages import pcm_to_msg
from talkface_ros.speech.closure import closure_intervals
from talkface_ros.speech.speaker import POLICIES, Speaker, SpeakerConfig
from talkface_ros.speech.tts import ENGINES, TtsConfig, TtsError, make_engine

FRAME_S = 0.02
# publish -> face/blendshapes frame out, lookahead 0, measured on this machine (docs/speech.md,
# bench/bench_speech_sync.py); a robot adds its retarget -> servo latency here
DEFAULT_CHAIN_LATENCY_S = 0.003

PARAMETERS = (
    ParamSpec("engine", "auto", "TTS engine: auto = piper when piper_model is set and usable, else espeak-ng",
              choices=ENGINES, read_only=True),
    ParamSpec("voice", "en-us", "espeak-ng voice, language[+variant] (an unknown one falls back to en-us with a "
              "warning)", read_only=True),
    ParamSpec("rate_wpm", 175, "espeak-ng speaking rate in words per minute", min=80, max=450, read_only=True),
    ParamSpec("pitch", 50, "espeak-ng pitch", min=0, max=100, read_only=True),
    ParamSpec("piper_model", "", "Piper voice: an .onnx file (its .onnx.json beside it) or an installed voice "
              "package name ('' = none; never downloaded)", read_only=True),
    ParamSpec("length_scale", 1.0, "Piper: duration scale (> 1 speaks slower)", min=0.3, max=3.0, read_only=True),
    ParamSpec("policy", "queue", "overlapping say requests: queue (in order, after the current one) | interrupt "
              "(cut the current one, speak the new one now)", choices=POLICIES, read_only=True),
    ParamSpec("max_queue", 5, "queue policy: requests waiting at most (more are refused with a warning)",
              min=0, max=100, read_only=True),
    ParamSpec("chunk_ms", 20.0, "length of each published audio chunk in ms (one face frame)", min=10.0, max=40.0,
              read_only=True),
    ParamSpec("playback", True, "play the speech through a speaker (false: publish only, e.g. another node plays it)",
              read_only=True),
    ParamSpec("playback_device", "", "output device index, name or unique name substring ('' = default)",
              read_only=True),
    ParamSpec("chain_latency_s", DEFAULT_CHAIN_LATENCY_S, "publish -> face frame out at lookahead 0 (measured "
              "default; add the robot's retarget -> actuator latency)", min=0.0, max=1.0, read_only=True),
    ParamSpec("face_lookahead", 2, "the lookahead face_inference runs with: the sound waits 20 ms more per frame",
              min=0, max=3, read_only=True),
    ParamSpec("tail_silence_s", 0.1, "silence published after each utterance, so the face model's lookahead "
              "frames come out and the mouth closes at once", min=0.0, max=2.0, read_only=True),
    ParamSpec("speaking_hold_s", 0.1, "robot_speaking stays true this long after the last sample sounded",
              min=0.0, max=5.0, read_only=True),
    ParamSpec("force_closure", True, "publish the TTS's p/b/m times on face/closures (face_inference closes the "
              "lips there); needs an engine with phone timings (espeak-ng, Piper voice packages)", read_only=True),
    ParamSpec("reliable", False, "publish audio with reliable QoS (default: best-effort sensor-data QoS)",
              read_only=True),
    ParamSpec("qos_depth", 50, "audio publisher queue depth", min=1, max=1000, read_only=True),
    ParamSpec("stats_period_s", 5.0, "how often speech statistics go to /diagnostics", min=0.5, max=3600.0),
)


class SpeechNode(Node):
    def __init__(self) -> None:
        super().__init__("speech")
        self.params = p = declare_parameters(self, PARAMETERS)
        try:
            engine, warnings = make_engine(TtsConfig(engine=p["engine"], voice=p["voice"], rate_wpm=p["rate_wpm"],
                                                     pitch=p["pitch"], piper_model=p["piper_model"],
                                                     length_scale=p["length_scale"]))
        except TtsError as error:
            raise StartupError(f"no TTS works: {error}") from None
        for warning in warnings:
            self.get_logger().warning(warning)
        self.playback_delay_s = p["chain_latency_s"] + FRAME_S * p["face_lookahead"]
        audio_qos = sensor_qos(p["qos_depth"])
        if p["reliable"]:
            audio_qos.reliability = ReliabilityPolicy.RELIABLE
        self.audio_publisher = self.create_publisher(Int16MultiArray, "audio/pcm", audio_qos)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.speaking_publisher = self.create_publisher(Bool, "robot_speaking", latched)
        self.closures_publisher = self.create_publisher(Float64MultiArray, "face/closures", 10) \
            if p["force_closure"] else None
        self.playback = self._open_playback() if p["playback"] else None
        self.speaker = Speaker(engine, SpeakerConfig(
            chunk_ms=p["chunk_ms"], policy=p["policy"], max_queue=p["max_queue"],
            playback_delay_s=self.playback_delay_s, tail_silence_s=p["tail_silence_s"],
            speaking_hold_s=p["speaking_hold_s"]), self._publish_pcm, self._publish_speaking, self.playback,
            on_utterance=self._on_utterance, on_start=self._on_start, on_cut=self._on_cut)
        self.create_subscription(String, "say", self._on_say, 10)
        self.create_service(Trigger, "~/stop", self._on_stop)
        self.diagnostics = DiagnosticsPublisher(self, "speech")
        self.create_timer(p["stats_period_s"], self._report)
        self.speaker.start()
        self.get_logger().info(
            f"speaking with {engine.name}" + (f" ({p['voice']})" if engine.name == "espeak" else "")
            + f", policy {p['policy']}; sound {self.playback_delay_s * 1000:.0f} ms after publishing "
            + (f"on {self.playback.device_name!r}" if self.playback else "(no speaker: publish only)"))

    def _open_playback(self):
        from talkface_ros.audio.playback import DelayedPlayback, PlaybackConfig

        try:
            playback = DelayedPlayback(PlaybackConfig(device=self.params["playback_device"] or None,
                                                      delay_s=self.playback_delay_s, sample_rate=MODEL_SAMPLE_RATE,
                                                      blocksize_ms=10.0))
            return playback.start()
        except (AudioDeviceError, ValueError) as error:
            self.get_logger().warning(f"no speaker: {error}; the face still speaks (audio/pcm is published), "
                                      "nothing is heard")
            return None

    # ---- callbacks
    def _publish_pcm(self, chunk) -> None:
        try:
            self.audio_publisher.publish(pcm_to_msg(chunk))
        except Exception as error:  # the context is going away at shutdown
            if self.context.ok():
                self.get_logger().error(f"publishing audio failed: {error}")

    def _publish_speaking(self, speaking: bool) -> None:
        try:
            self.speaking_publisher.publish(Bool(data=bool(speaking)))
        except Exception as error:
            if self.context.ok():
                self.get_logger().error(f"publishing robot_speaking failed: {error}")

    def _on_start(self, utterance) -> None:
        """Its first chunk is out: tell face_inference when the lips close, on its frames' clock (it stamps audio
        time from the first chunk's arrival minus the chunk's length)."""
        if self.closures_publisher is None or not utterance.phones:
            return
        t0 = self.get_clock().now().nanoseconds / 1e9 - self.params["chunk_ms"] / 1000.0
        times = [t0 + t for interval in closure_intervals(utterance.phones) for t in interval]
        self._publish_closures([t0, *times])

    def _on_cut(self) -> None:
        if self.closures_publisher is not None:
            self._publish_closures([self.get_clock().now().nanoseconds / 1e9])  # no closures from now on

    def _publish_closures(self, data: list[float]) -> None:
        try:
            self.closures_publisher.publish(Float64MultiArray(data=data))
        except Exception as error:
            if self.context.ok():
                self.get_logger().error(f"publishing face/closures failed: {error}")

    def _on_utterance(self, utterance, timing: dict) -> None:
        cut = timing.get("cut_at_chunk")
        self.get_logger().info(f"said {utterance.text[:60]!r}: {utterance.duration_s:.2f} s, synthesised in "
                               f"{timing['synth_s'] * 1000:.0f} ms" + (f", cut at {cut * self.params['chunk_ms'] / 1000:.2f} s"
                                                                        if cut is not None else ""))

    def _on_say(self, msg: String) -> None:
        if self.audio_publisher.get_subscription_count() == 0:
            self.get_logger().warning("nothing subscribes to audio/pcm (is face_inference still starting?): "
                                      f"{msg.data[:40]!r} will be heard but move no face")
        accepted, reason = self.speaker.say(msg.data)
        if not accepted:
            self.get_logger().warning(f"not saying {msg.data[:60]!r}: {reason}")
        elif reason != "speaking":
            self.get_logger().info(f"say {msg.data[:60]!r}: {reason}")

    def _on_stop(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        dropped = self.speaker.stop()
        if self.playback is not None:
            self.playback.clear()
        response.success, response.message = True, f"stopped ({dropped} request(s) cut or dropped)"
        return response

    def _report(self) -> None:
        s = self.speaker.stats
        values = {"requests": s.requests, "spoken": s.spoken, "interrupted": s.interrupted, "refused": s.refused,
                  "dropped": s.dropped, "synth_errors": s.synth_errors, "chunks": s.chunks,
                  "late_chunks": s.late_chunks, "queued": self.speaker.queued, "speaking": int(self.speaker.speaking),
                  "playback_delay_ms": round(self.playback_delay_s * 1000.0, 2),
                  "playback": int(self.playback is not None and self.playback.active)}
        if self.playback is not None:
            values.update(playback_late_chunks=self.playback.stats.late_chunks,
                          playback_underflows=self.playback.stats.underflows,
                          playback_output_latency_ms=round(self.playback.stats.output_latency_s * 1000.0, 2))
        problems = s.late_chunks + s.synth_errors + (1 if self.params["playback"] and not values["playback"] else 0)
        self.diagnostics.publish(values, warn=problems > 0, message="speaking" if self.speaker.speaking else "idle")

    def close(self) -> None:
        self.speaker.close()
        if self.playback is not None:
            self.playback.stop()


def main(args: list[str] | None = None) -> int:
    return run_node(SpeechNode, args)


if __name__ == "__main__":
    sys.exit(main())
