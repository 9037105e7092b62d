"""face_inference: audio/pcm -> FaceStreamer (online model) -> face/blendshapes (sensor_msgs/JointState).

header.stamp of each frame is the audio time it reflects, from a sample clock anchored to ROS time
(talkface_ros.audio.sample_clock)."""
from __future__ import annotations

import statistics
import sys
import time
from collections import deque

import numpy as np
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile
from rclpy.time import Time
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, Int16MultiArray, String
from std_srvs.srv import SetBool, Trigger

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE, int16_to_float
from talkface_ros.audio.resample import StreamingResampler
from talkface_ros.audio.sample_clock import SampleClock, SampleClockConfig
from talkface_ros.face.arkit import FRAME_NAMES, FRAME_SIZE, sanitize_frames
from talkface_ros.face.emotion import EmotionRamp, parse_emotion
from talkface_ros.face.idle import IdleFace
from talkface_ros.nodes.common import ParamSpec, StartupError, declare_parameters, run_node, sensor_qos
from talkface_ros.nodes.diagnostics import DiagnosticsPublisher
from talkface_ros.nodes.messages import msg_to_pcm
from talkface_ros.speech.closure import ClosureSchedule, close_lips

# Bursts of small chunks (another stack flushing its buffer) must not overflow the best-effort queue.
AUDIO_QUEUE_DEPTH = 1000
# A long chunk yields many frames at once; keep them all for reliable subscribers.
FRAME_QUEUE_DEPTH = 500

PARAMETERS = (
    ParamSpec("model_path", "", "model folder or .onnx/.safetensors file ('' = the shipped model)"),
    ParamSpec("backend", "onnxruntime", "inference backend", choices=("onnxruntime", "torch")),
    ParamSpec("threads", 1, "intra-op threads of the backend", min=1, max=16),
    ParamSpec("lookahead", 0, "future audio frames (20 ms each) the model may see: latency for accuracy", min=0, max=3),
    ParamSpec("seed", 0, "noise seed of the one-step diffusion sampler", min=0, max=2**31 - 1),
    ParamSpec("sample_rate", 16000, "sample rate of the incoming PCM (resampled to 16 kHz if different)", min=8000, max=48000),
    ParamSpec("emotion", "neutral", "initial emotion, label[:intensity] (face/emotion or robot_face/expression changes it)"),
    ParamSpec("emotion_transition_s", 0.2, "time to move from one emotion to another", min=0.0, max=5.0),
    ParamSpec("idle_timeout_s", 0.5, "no audio for this long ends the stream: state reset, idle face", min=0.05, max=60.0),
    ParamSpec("idle_animation", True, "publish an idle face (blinks, small head motion) while no audio arrives"),
    ParamSpec("max_clock_lag_s", 0.2, "re-anchor the sample clock when audio falls this far behind ROS time", min=0.02, max=10.0),
    ParamSpec("max_chunk_s", 5.0, "chunks longer than this are processed in pieces (warning)", min=0.1, max=60.0),
    ParamSpec("frame_id", "face", "header.frame_id of the published frames"),
    ParamSpec("audio_msg_type", "int16_multi_array", "type on audio/pcm", choices=("int16_multi_array", "audio_common")),
    ParamSpec("stats_period_s", 2.0, "period of /diagnostics reports", min=0.2, max=3600.0),
)


def load_streamer(params: dict):
    from talkface_ros.model.streamer import FaceStreamer

    try:
        return FaceStreamer.from_pretrained(params["model_path"] or None, backend=params["backend"],
                                            threads=params["threads"], lookahead=params["lookahead"],
                                            seed=params["seed"])
    except (FileNotFoundError, ValueError, RuntimeError, ImportError) as error:
        raise StartupError(f"cannot load the model: {error}") from None


class FaceInferenceNode(Node):
    def __init__(self) -> None:
        super().__init__("face_inference")
        self.params = p = declare_parameters(self, PARAMETERS)
        try:
            initial_emotion = parse_emotion(p["emotion"])
        except ValueError as error:
            raise StartupError(f"invalid parameter emotion: {error}") from None
        self.streamer = load_streamer(p)
        warm_up_s = self.streamer.warm_up()
        self.frame_rate = float(self.streamer.frame_rate)
        self.emotion = EmotionRamp(p["emotion_transition_s"], self.frame_rate, initial_emotion)
        self._apply_emotion(self.emotion.step())
        self.idle = IdleFace(self.frame_rate, seed=p["seed"])
        self.resampler = StreamingResampler(p["sample_rate"], MODEL_SAMPLE_RATE) if p["sample_rate"] != MODEL_SAMPLE_RATE else None

        # Transient local: a recorder that matches a moment after the stream started still gets its first
        # frames (volatile subscribers, like face_retarget, are unaffected).
        frames_qos = QoSProfile(depth=FRAME_QUEUE_DEPTH, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.publisher = self.create_publisher(JointState, "face/blendshapes", frames_qos)
        self._subscribe_audio(p["audio_msg_type"])
        # robot_face/expression: the ROS4HRI / PAL name for the same input (label[:intensity])
        for topic in ("face/emotion", "robot_face/expression"):
            self.create_subscription(String, topic, lambda msg, topic=topic: self._on_emotion(msg, topic), 10)
        # face/closures: a TTS's p/b/m times on the frames' clock (the speech node); the lips close there
        self.closures = ClosureSchedule()
        self.create_subscription(Float64MultiArray, "face/closures", self._on_closures, 10)
        self.create_service(SetBool, "~/set_enabled", self._on_set_enabled)
        self.create_service(Trigger, "~/go_neutral", self._on_go_neutral)
        self.create_timer(1.0 / self.frame_rate, self._on_tick)
        self.diagnostics = DiagnosticsPublisher(self, "inference")
        self.create_timer(p["stats_period_s"], self._report)

        self.enabled = True
        self.clock = SampleClock(SampleClockConfig(MODEL_SAMPLE_RATE, p["max_clock_lag_s"], p["idle_timeout_s"]))
        self.last_frame = np.zeros(FRAME_SIZE, dtype=np.float32)
        self.compute_us: deque[float] = deque(maxlen=500)
        self.counters = {"frames": 0, "idle_frames": 0, "chunks": 0, "bad_chunks": 0, "resets": 0, "closed_frames": 0}
        self.get_logger().info(f"model loaded ({p['backend']}, {p['threads']} thread(s), lookahead {p['lookahead']}; "
                               f"first step {warm_up_s * 1e3:.0f} ms, paid at start-up); emotion {initial_emotion.label}:{initial_emotion.intensity:g}")

    # ---- inputs
    def _subscribe_audio(self, msg_type: str) -> None:
        if msg_type == "int16_multi_array":
            self.create_subscription(Int16MultiArray, "audio/pcm", lambda m: self._on_pcm(msg_to_pcm(m)), sensor_qos(AUDIO_QUEUE_DEPTH))
            return
        try:
            from audio_common_msgs.msg import AudioData
        except ImportError:
            raise StartupError("audio_msg_type is audio_common but audio_common_msgs is not installed") from None
        self.create_subscription(AudioData, "audio/pcm",
                                 lambda m: self._on_pcm(np.frombuffer(bytes(m.data), dtype="<i2")), sensor_qos(AUDIO_QUEUE_DEPTH))

    def _on_emotion(self, msg: String, topic: str = "face/emotion") -> None:
        try:
            self.emotion.set_target(parse_emotion(msg.data))
        except ValueError as error:
            self.get_logger().warning(f"ignoring {topic} {msg.data!r}: {error}")

    def _on_set_enabled(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        self.enabled = bool(request.data)
        if not self.enabled:
            self._end_stream(flush=False)
        response.success, response.message = True, "enabled" if self.enabled else "disabled"
        return response

    def _on_go_neutral(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        self._end_stream(flush=False)
        self.last_frame = np.zeros(FRAME_SIZE, dtype=np.float32)
        self._publish(self.last_frame, self.get_clock().now())
        response.success, response.message = True, "neutral"
        return response

    # ---- the stream
    def _on_pcm(self, pcm: np.ndarray) -> None:
        if not self.enabled:
            return
        now_wall = time.monotonic()
        if pcm.size == 0:
            self.counters["bad_chunks"] += 1
            return
        self.counters["chunks"] += 1
        samples = int16_to_float(pcm)
        if self.resampler is not None:
            samples = self.resampler.process(samples)
        chunk_s = len(samples) / MODEL_SAMPLE_RATE
        self.clock.on_chunk(self.get_clock().now().nanoseconds, len(samples), now_wall)
        max_piece = int(self.params["max_chunk_s"] * MODEL_SAMPLE_RATE)
        if len(samples) > max_piece:
            self.get_logger().warning(f"audio chunk of {chunk_s:.2f} s; processing it in pieces", throttle_duration_sec=5.0)
        for start in range(0, len(samples), max_piece):
            piece = samples[start:start + max_piece]
            started = time.perf_counter()
            frames = self.streamer.push(piece)
            if frames:
                self.compute_us.append((time.perf_counter() - started) * 1e6 / len(frames))
            self._publish_frames(frames)

    def _publish_frames(self, frames) -> None:
        for frame in frames:
            self._apply_emotion(self.emotion.step())
            values = sanitize_frames(frame.values, fallback=self.last_frame)
            self.last_frame = values
            stamp = Time(nanoseconds=self.clock.stamp_ns(float(frame.time_s)), clock_type=self.get_clock().clock_type)
            if self.closures.covers(stamp.nanoseconds / 1e9):
                values = close_lips(values)
                self.counters["closed_frames"] += 1
            self._publish(values, stamp)
            self.counters["frames"] += 1

    def _on_closures(self, msg: Float64MultiArray) -> None:
        try:
            self.closures.update(msg.data)
        except ValueError as error:
            self.get_logger().warning(f"ignoring face/closures: {error}", throttle_duration_sec=5.0)

    def _apply_emotion(self, emotion) -> None:
        self.streamer.set_emotion(emotion.label, emotion.intensity)

    def _end_stream(self, flush: bool = True) -> None:
        """The stream stopped: publish the frames of its last partial 20 ms (and the look-ahead held back),
        then reset the model state and hand over to the idle face."""
        if self.clock.streaming:
            if flush:
                self._publish_frames(self.streamer.flush())
            self.clock.end()
            self.streamer.reset()
            if self.resampler is not None:
                self.resampler.reset()
            self.idle.blend_from(self.last_frame)
            self.counters["resets"] += 1

    def _on_tick(self) -> None:
        if self.clock.stalled(time.monotonic()):
            self._end_stream()
        if not self.clock.streaming and self.enabled and self.params["idle_animation"]:
            self._apply_emotion(self.emotion.step())
            values = sanitize_frames(self.idle.step())
            self.last_frame = values
            self._publish(values, self.get_clock().now())
            self.counters["idle_frames"] += 1

    def _publish(self, values: np.ndarray, stamp: Time) -> None:
        msg = JointState()
        msg.header.stamp = stamp.to_msg()
        msg.header.frame_id = self.params["frame_id"]
        msg.name = list(FRAME_NAMES)
        msg.position = values.astype(float).tolist()
        self.publisher.publish(msg)

    def _report(self) -> None:
        values: dict[str, float] = dict(self.counters)
        if self.compute_us:
            ordered = sorted(self.compute_us)
            values["compute_us_per_frame_median"] = statistics.median(ordered)
            values["compute_us_per_frame_p99"] = ordered[int(0.99 * (len(ordered) - 1))]
        values.update(vars(self.clock.counters))
        ahead = self.clock.audio_ahead_s(self.get_clock().now().nanoseconds)
        if ahead is not None:
            values["audio_ahead_of_clock_s"] = ahead
        values["streaming"] = int(self.clock.streaming)
        self.diagnostics.publish(values, warn=self.counters["bad_chunks"] > 0,
                                 message="streaming" if self.clock.streaming else "idle")


def main(args: list[str] | None = None) -> int:
    return run_node(FaceInferenceNode, args)


if __name__ == "__main__":
    sys.exit(main())
