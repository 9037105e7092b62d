"""audio_capture: publishes mono int16 PCM chunks (std_msgs/Int16MultiArray) on `audio/pcm` from a
microphone (sounddevice/PortAudio) or a WAV file. With `playback` (WAV only) it also plays each chunk through a
speaker `playback_delay_s` after publishing it (TTS sync: the sound waits for the face)."""
from __future__ import annotations

import sys
import threading
import time

from rclpy.node import Node
from rclpy.qos import ReliabilityPolicy
from std_msgs.msg import Int16MultiArray

from talkface_ros.audio.microphone import AudioDeviceError, MicrophoneConfig, MicrophoneSource
from talkface_ros.audio.playback import DelayedPlayback, PlaybackConfig
from talkface_ros.audio.wav import AudioFileError, WavSource, WavSourceConfig
from talkface_ros.nodes.common import ParamSpec, StartupError, declare_parameters, run_node, sensor_qos
from talkface_ros.nodes.diagnostics import DiagnosticsPublisher
from talkface_ros.nodes.messages import pcm_to_msg

SUBSCRIBER_SETTLE_S = 0.3

PARAMETERS = (
    ParamSpec("source", "microphone", "where audio comes from", choices=("microphone", "wav")),
    ParamSpec("wav_path", "", "WAV (or any libsndfile format) to play when source=wav"),
    ParamSpec("realtime", True, "wav: pace chunks at the audio rate (false: as fast as possible)"),
    ParamSpec("loop", False, "wav: start again at the end"),
    ParamSpec("exit_at_end", True, "wav without loop: shut the node down after the last chunk"),
    ParamSpec("wait_for_subscriber_s", 5.0, "wav: wait up to this long for a subscriber before the first chunk, "
              "so nothing is lost at start-up", min=0.0, max=120.0),
    ParamSpec("wait_for_nodes", "", "wav: comma-separated names of nodes (in this namespace) to wait for too, "
              "within wait_for_subscriber_s, so the whole graph hears the first chunk ('' = none)"),
    ParamSpec("device", "", "microphone: input device index, name or unique name substring ('' = default)"),
    ParamSpec("native_rate", 0, "microphone: capture rate in Hz (0 = the device's default)", min=0, max=384000),
    ParamSpec("channels", 1, "microphone: channels captured and averaged to mono", min=1, max=32),
    ParamSpec("blocksize_ms", 10.0, "microphone: PortAudio callback period in ms", min=2.0, max=100.0),
    ParamSpec("chunk_ms", 10.0, "length of each published chunk in ms", min=5.0, max=40.0),
    ParamSpec("sample_rate", 16000, "sample rate of the published PCM in Hz", min=8000, max=48000),
    ParamSpec("qos_depth", 50, "publisher queue depth", min=1, max=1000),
    ParamSpec("reliable", False, "publish with reliable QoS (default: best-effort sensor-data QoS, which "
              "subscribers of either kind accept)"),
    ParamSpec("playback", False, "wav: also play the audio through a speaker, playback_delay_s after publishing "
              "it (TTS sync); refused with the microphone source (it would echo)"),
    ParamSpec("playback_device", "", "playback: output device index, name or unique name substring ('' = default)"),
    ParamSpec("playback_delay_s", 0.03, "playback: publish -> sound out of the speaker, the device's own output "
              "latency included (set it to the measured chain latency)", min=0.0, max=2.0),
    ParamSpec("stats_period_s", 5.0, "how often capture statistics go to /diagnostics and the log", min=0.5, max=3600.0),
)


class AudioCaptureNode(Node):
    def __init__(self) -> None:
        super().__init__("audio_capture")
        self.params = declare_parameters(self, PARAMETERS)
        p = self.params
        self.chunk_samples = int(round(p["sample_rate"] * p["chunk_ms"] / 1000.0))
        qos = sensor_qos(p["qos_depth"])
        if p["reliable"]:
            qos.reliability = ReliabilityPolicy.RELIABLE
        self.publisher = self.create_publisher(Int16MultiArray, "audio/pcm", qos)
        self.finished = False
        self._stop = threading.Event()
        self.published_chunks = 0
        self.wav: WavSource | None = None
        self.mic: MicrophoneSource | None = None
        self.playback: DelayedPlayback | None = None
        if p["playback"] and p["source"] != "wav":
            raise StartupError("playback needs source=wav: playing the microphone back through a speaker would echo")
        if p["playback"] and not p["realtime"]:
            raise StartupError("playback needs realtime=true (chunks published faster than real time cannot be "
                               "played at publish time + playback_delay_s)")
        try:
            if p["source"] == "wav":
                if not p["wav_path"]:
                    raise StartupError("source is 'wav' but wav_path is empty")
                self.wav = WavSource(WavSourceConfig(p["wav_path"], self.chunk_samples, p["sample_rate"],
                                                     p["realtime"], p["loop"]))
                self.get_logger().info(f"playing {p['wav_path']} ({self.wav.duration_s:.2f} s) in "
                                       f"{p['chunk_ms']:g} ms chunks, realtime={p['realtime']} loop={p['loop']}")
            else:
                self.mic = MicrophoneSource(MicrophoneConfig(
                    device=p["device"] or None, native_rate=p["native_rate"], channels=p["channels"],
                    blocksize_ms=p["blocksize_ms"], chunk_samples=self.chunk_samples, sample_rate=p["sample_rate"]))
            if p["playback"]:
                self.playback = DelayedPlayback(PlaybackConfig(
                    device=p["playback_device"] or None, delay_s=p["playback_delay_s"], sample_rate=p["sample_rate"],
                    blocksize_ms=min(10.0, p["chunk_ms"])))
                self.playback.start()  # waits until the output runs at the audio rate
                self.get_logger().info(
                    f"playback on {self.playback.device_name!r} at {self.playback.output_rate} Hz, "
                    f"{p['playback_delay_s']:.3f} s after publishing (device output latency "
                    f"{self.playback.stats.output_latency_s * 1000:.1f} ms, included)")
        except (AudioFileError, AudioDeviceError) as error:
            if self.playback:
                self.playback.stop()
            raise StartupError(str(error)) from None
        self.diagnostics = DiagnosticsPublisher(self, "audio_capture")
        self.create_timer(p["stats_period_s"], self._report)
        self._worker = threading.Thread(target=self._run_wav if self.wav else self._run_microphone, daemon=True)
        if self.mic:
            try:
                self.mic.start()
            except AudioDeviceError as error:
                raise StartupError(str(error)) from None
        self._worker.start()

    def _publish(self, chunk) -> None:
        publish_time = time.monotonic()
        try:
            self.publisher.publish(pcm_to_msg(chunk))
        except Exception as error:  # the context went away under us during shutdown
            if self.context.ok():
                self.get_logger().error(f"publishing audio failed: {error}")
            self._stop.set()
            return
        self.published_chunks += 1
        if self.playback:
            self.playback.push(chunk, publish_time)

    def _missing_nodes(self) -> list[str]:
        wanted = [name.strip() for name in self.params["wait_for_nodes"].split(",") if name.strip()]
        if not wanted:
            return []
        present = {name for name, namespace in self.get_node_names_and_namespaces()
                   if namespace == self.get_namespace()}
        return [name for name in wanted if name not in present]

    def _ready(self) -> bool:
        return self.publisher.get_subscription_count() > 0 and not self._missing_nodes()

    def _run_wav(self) -> None:
        deadline = time.monotonic() + self.params["wait_for_subscriber_s"]
        while not self._ready() and time.monotonic() < deadline and not self._stop.is_set():
            time.sleep(0.01)
        if self.params["wait_for_subscriber_s"] > 0 and not self._ready():
            missing = self._missing_nodes()
            self.get_logger().warning(
                "publishing anyway; still waiting for: "
                + ", ".join((["a subscriber on audio/pcm"] if self.publisher.get_subscription_count() == 0 else [])
                            + [f"node {name}" for name in missing]))
        elif self.params["wait_for_subscriber_s"] > 0:
            # We see the subscriber; its side of the match can lag by a moment, and best-effort samples
            # sent before it completes are dropped there.
            self._stop.wait(SUBSCRIBER_SETTLE_S)
        for chunk in self.wav.chunks():
            self._publish(chunk)
            if self._stop.is_set():
                return
        self.get_logger().info(f"end of {self.params['wav_path']}: {self.published_chunks} chunks published")
        if self.playback and not self.playback.drain(timeout=self.params["playback_delay_s"] + 2.0):
            self.get_logger().warning(f"playback did not finish: {self.playback.pending_s:.2f} s left")
        if self.params["exit_at_end"]:
            time.sleep(0.2)  # let the last best-effort samples leave before the process exits
            self.finished = True

    def _run_microphone(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                chunk = self.mic.read(timeout=0.2)
                backoff = 0.5
            except AudioDeviceError as error:
                self.get_logger().error(f"{error}; reopening in {backoff:.1f} s")
                self.mic.stop()
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, 5.0)
                try:
                    self.mic.start()
                except AudioDeviceError as reopen_error:
                    self.get_logger().error(str(reopen_error))
                continue
            if chunk is not None and not self._stop.is_set():
                self._publish(chunk)

    def stats(self) -> dict[str, float]:
        values = {"published_chunks": self.published_chunks}
        if self.mic:
            s = self.mic.stats
            values.update(xruns=s.xruns, dropped_blocks=s.dropped_blocks, device_errors=s.device_errors)
        if self.wav:
            values.update(late_chunks=self.wav.late_chunks)
        if self.playback:
            s = self.playback.stats
            values.update(playback_active=int(self.playback.active), playback_late_chunks=s.late_chunks,
                          playback_underflows=s.underflows, playback_resyncs=s.resyncs,
                          playback_dropped_chunks=s.dropped_chunks, playback_clamped_segments=s.clamped_segments,
                          playback_output_latency_ms=round(s.output_latency_s * 1000.0, 2),
                          playback_delay_ms=round(self.playback.effective_delay_s * 1000.0, 2))
        return values

    def _report(self) -> None:
        values = self.stats()
        problems = values.get("xruns", 0) + values.get("dropped_blocks", 0) + values.get("device_errors", 0) \
            + values.get("late_chunks", 0) + values.get("playback_late_chunks", 0) \
            + values.get("playback_dropped_chunks", 0) + (1 - values.get("playback_active", 1))
        self.diagnostics.publish(values, warn=problems > 0, message="xruns/dropped/late chunks" if problems else "ok")
        if problems:
            self.get_logger().warning(f"capture problems: {values}")

    def close(self) -> None:
        self._stop.set()
        if self.wav:
            self.wav.stop()
        if self.mic:
            self.mic.stop()
        if self._worker.is_alive():
            self._worker.join(timeout=2.0)
        if self.playback:
            self.playback.stop()


def main(args: list[str] | None = None) -> int:
    return run_node(AudioCaptureNode, args)


if __name__ == "__main__":
    sys.exit(main())
