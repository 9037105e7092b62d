"""Speaker vs face sync of the speech node, measured: the speech node plays into a private PulseAudio null
sink, whose monitor is captured in another process (PortAudio ADC timestamps on the monotonic clock), while
face_inference (a separate process) turns the same published PCM into face/blendshapes frames. Prints JSON.

For each sentence (a `say` request):
- sound0: when the utterance's first sample left the sink (cross-correlation of the capture with the PCM the
  node published, which is the TTS audio sample for sample);
- frame n of the utterance's stream reflects audio [20n, 20n + 20) ms, so it should show while that audio
  sounds: offset_n = (sound0 + 0.02 n) - (time frame n arrived here). Positive: the sound is late, negative:
  the face is late. The sentence's offset is the median over its speech frames;
- live lip sync: the face stream's open-vs-bilabial and rounded-vs-spread AUC, with the phones of the TTS;
- onset (model-dependent, for information): the first capture sample above -35 dB of the sentence's peak vs
  the arrival of the first frame whose jawOpen rises 0.1 over the sentence's first frame.
Target (issue 19): |sentence offset| p95 <= 20 ms over 20 sentences.

  python bench/bench_speech_sync.py [--sentences 20] [--lookahead 2] [--chain-latency-s 0.003] [--no-force-closure]
  python bench/bench_speech_sync.py --capture OUT.npz     (the capture process; started by the bench)
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from talkface_ros.audio.timed_capture import CAPTURE_RATE

SINK = "talkface_bench_sink"
SENTENCES = (
    "Hello, my name is Bob and I am a robot.",
    "Please pass me the big blue box.",
    "Maybe we can meet at the park on Monday.",
    "The quick brown fox jumps over the lazy dog.",
    "I can open my mouth wide, and then close my lips.",
    "My favourite food is warm apple pie.",
    "Bring me a map of the embassy, please.",
    "People move around the room when music plays.",
    "Thank you very much for coming today.",
    "What time does the museum open in the morning?",
    "Baby birds sometimes fall from the maple tree.",
    "Put the paper plates back in the cupboard.",
    "Remember to buy bread, milk and butter.",
    "A small boat moves slowly past the bridge.",
    "Would you like to play a game with me?",
    "Our bus stops by the post office at noon.",
    "Big problems need simple plans.",
    "I am happy to help you with your homework.",
    "Mom made popcorn before the movie began.",
    "Please be patient, I am thinking about it.",
)


# ---- a private PulseAudio server with a null sink
@dataclass
class Pulse:
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()


def start_pulse(runtime_dir: Path) -> Pulse:
    """Raises RuntimeError when PulseAudio is missing or does not start."""
    for tool in ("pulseaudio", "pacat", "pactl"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed (make setup installs pulseaudio as root)")
    runtime_dir.mkdir(parents=True, exist_ok=True)
    socket = runtime_dir / "native"
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime_dir), HOME=str(runtime_dir), PULSE_SERVER=f"unix:{socket}",
               PULSE_SINK=SINK, PULSE_SOURCE=f"{SINK}.monitor")
    server = subprocess.Popen(
        ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit", "-n", "--use-pid-file=no",
         f"--load=module-native-protocol-unix socket={socket} auth-anonymous=1",
         f"--load=module-null-sink sink_name={SINK} rate=16000 channels=1", "--log-target=stderr"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pulse = Pulse(env, [server])
    deadline = time.monotonic() + 10
    while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
        if server.poll() is not None or time.monotonic() > deadline:
            pulse.stop()
            raise RuntimeError("pulseaudio did not start")
        time.sleep(0.1)
    # keep the sink busy so it never suspends and its monitor always produces samples
    pulse.processes.append(subprocess.Popen(["pacat", "--playback", f"--device={SINK}", "--raw", "--rate=16000",
                                             "--channels=1", "--format=s16le", "/dev/zero"], env=env))
    return pulse


# ---- the run
def node_process(module: str, params: dict, env: dict[str, str]) -> subprocess.Popen:
    args = [sys.executable, "-m", f"talkface_ros.nodes.{module}", "--ros-args"]
    for name, value in params.items():
        value = ("true" if value else "false") if isinstance(value, bool) else ("''" if value == "" else value)
        args += ["-p", f"{name}:={value}"]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop_node(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(2)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.stdout.read() if process.stdout else ""


class Driver:
    """The bench's own rclpy node: says the sentences, records audio/pcm, face/blendshapes, robot_speaking."""

    def __init__(self) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import DurabilityPolicy, QoSProfile
        from sensor_msgs.msg import JointState
        from std_msgs.msg import Bool, Int16MultiArray, String

        from talkface_ros.face.arkit import INDEX

        self.jaw = INDEX["jawOpen"]
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("speech_sync_bench", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.pcm: list[tuple[float, np.ndarray]] = []
        self.frames: list[tuple[float, int, float]] = []  # receive time, stamp ns, jawOpen
        self.flags: list[tuple[float, bool]] = []
        self.node.create_subscription(Int16MultiArray, "audio/pcm", lambda m: self.pcm.append(
            (time.monotonic(), np.asarray(m.data, np.int16))), 1000)
        self.frame_values: list[np.ndarray] = []  # the whole frame [55], for the live lip-sync AUC
        self.node.create_subscription(JointState, "face/blendshapes", self._on_frame, 1000)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.node.create_subscription(Bool, "robot_speaking", lambda m: self.flags.append((time.monotonic(), m.data)),
                                      latched)
        self.say_publisher = self.node.create_publisher(String, "say", 10)
        self._string = String
        self.speech_diagnostics: dict[str, str] = {}
        try:
            from diagnostic_msgs.msg import DiagnosticArray

            self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 50)
        except ImportError:
            pass

    def _on_diagnostics(self, msg) -> None:
        for status in msg.status:
            if status.name.startswith("speech"):
                self.speech_diagnostics = {kv.key: kv.value for kv in status.values}

    def _on_frame(self, msg) -> None:
        self.frames.append((time.monotonic(), msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec,
                            float(msg.position[self.jaw])))
        self.frame_values.append(np.asarray(msg.position, np.float32))

    def spin_until(self, predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.01)
            if predicate():
                return True
        return predicate()

    def say(self, text: str) -> None:
        self.say_publisher.publish(self._string(data=text))

    def close(self) -> None:
        import rclpy

        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def run(sentences: list[str], lookahead: int, chain_latency_s: float | None, workdir: Path,
        log=print, force_closure: bool = True) -> dict:
    """Start PulseAudio, the capture, face_inference and speech; say each sentence; -> raw recordings."""
    pulse = start_pulse(workdir / "pulse")
    env = dict(pulse.env, PYTHONUNBUFFERED="1")
    capture_file = workdir / "capture.npz"
    processes: dict[str, subprocess.Popen] = {}
    driver = None
    outputs: dict[str, str] = {}
    try:
        capture = subprocess.Popen([sys.executable, "-m", "talkface_ros.audio.timed_capture", str(capture_file)], env=env,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        processes["capture"] = capture
        speech_params = {"playback_device": "pulse", "face_lookahead": lookahead, "reliable": True,
                         "stats_period_s": 1.0, "force_closure": force_closure}
        if chain_latency_s is not None:
            speech_params["chain_latency_s"] = chain_latency_s
        processes["face_inference"] = node_process("face_inference", {"lookahead": lookahead,
                                                                     "idle_animation": False}, env)
        processes["speech"] = node_process("speech", speech_params, env)
        if capture.stdout.readline().strip() != "ready":
            raise RuntimeError("the capture process did not start")
        driver = Driver()
        ready = driver.spin_until(lambda: driver.say_publisher.get_subscription_count() > 0
                                  and driver.node.count_publishers("face/blendshapes") > 0
                                  and driver.flags[-1:] == [(driver.flags[-1][0], False)] if driver.flags else False, 60)
        if not ready:
            raise RuntimeError("the speech and face_inference nodes did not come up")
        driver.spin_until(lambda: False, 1.0)  # let every match settle
        said = []
        for k, text in enumerate(sentences):
            flags_before = len(driver.flags)
            pcm_before, frames_before = len(driver.pcm), len(driver.frames)
            said_at = time.monotonic()
            driver.say(text)
            spoke = driver.spin_until(lambda: any(f for _, f in driver.flags[flags_before:])
                                      and driver.flags[-1][1] is False, 30)
            # the face model's idle timeout (0.5 s) ends its stream: the next sentence is a new stream
            driver.spin_until(lambda: False, 0.8)
            said.append({"text": text, "said_at": said_at, "spoke": spoke, "pcm": (pcm_before, len(driver.pcm)),
                         "frames": (frames_before, len(driver.frames))})
            log(f"{k + 1}/{len(sentences)} {text!r}: {len(driver.pcm) - pcm_before} chunks, "
                f"{len(driver.frames) - frames_before} frames")
        time.sleep(0.3)
        capture.communicate("stop\n", timeout=30)
        driver.spin_until(lambda: False, 1.2)  # one more diagnostics report of the speech node
        return {"said": said, "pcm": driver.pcm, "frames": driver.frames, "flags": driver.flags,
                "frame_values": driver.frame_values,
                "speech_diagnostics": driver.speech_diagnostics,
                "capture": dict(np.load(capture_file, allow_pickle=False)), "outputs": outputs}
    finally:
        if driver is not None:
            driver.close()
        for name, process in processes.items():
            if name != "capture":
                outputs[name] = stop_node(process)
            elif process.poll() is None:
                process.kill()
                process.wait()
        pulse.stop()


# ---- the analysis
def heard_time(capture: dict, source: np.ndarray, start: float, stop: float) -> tuple[float, float]:
    """When source[0] left the sink, searching the capture between monotonic times start and stop; and the
    Pearson correlation there."""
    times, lengths, samples = capture["block_times"], capture["block_lengths"], capture["samples"]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    first = int(np.searchsorted(times, start))
    last = min(int(np.searchsorted(times, stop)), len(times) - 1)
    window = samples[offsets[first]: offsets[last] + len(source)]
    if len(window) < len(source):
        return float("nan"), 0.0
    size = 1 << (len(window) + len(source)).bit_length()
    xcorr = np.fft.irfft(np.fft.rfft(window, size) * np.conj(np.fft.rfft(source, size)), size)
    lag = int(np.argmax(xcorr[: len(window) - len(source) + 1]))
    correlation = float(np.corrcoef(window[lag: lag + len(source)], source)[0, 1])
    index = offsets[first] + lag
    block = int(np.searchsorted(offsets, index, side="right")) - 1
    return float(times[block] + (index - offsets[block]) / CAPTURE_RATE), correlation


def locate(capture: dict, speech: np.ndarray, first_received: float, piece_s: float = 0.25) -> tuple:
    """When speech[0] left the sink: each voiced 0.25 s piece is found on its own (a piece whose correlation is
    under 0.9 was distorted on the way: playback dropped late samples or the capture lost blocks, on a loaded
    machine) and sound0 is the median over the pieces found. -> (sound0, median correlation, found, pieces)."""
    n = int(piece_s * CAPTURE_RATE)
    estimates, correlations, pieces = [], [], 0
    for start in range(0, len(speech) - n + 1, n):
        part = speech[start:start + n]
        if np.sqrt(np.mean(part ** 2)) < 0.01:
            continue  # silence cannot be located
        pieces += 1
        offset = start / CAPTURE_RATE
        heard, correlation = heard_time(capture, part, first_received + offset - 0.05, first_received + offset + 0.8)
        correlations.append(correlation)
        if correlation >= 0.9:
            estimates.append(heard - offset)
    sound0 = float(np.median(estimates)) if estimates else float("nan")
    return sound0, float(np.median(correlations)) if correlations else 0.0, len(estimates), pieces


def capture_time_of(capture: dict, index: int) -> float:
    offsets = np.concatenate([[0], np.cumsum(capture["block_lengths"])])
    block = int(np.searchsorted(offsets, index, side="right")) - 1
    return float(capture["block_times"][block] + (index - offsets[block]) / CAPTURE_RATE)


def sound_onset(capture: dict, start: float, stop: float, peak: float) -> float:
    """First 5 ms window between monotonic start and stop whose RMS is above -35 dB of `peak`."""
    times, lengths, samples = capture["block_times"], capture["block_lengths"], capture["samples"]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    first, last = int(np.searchsorted(times, start)), min(int(np.searchsorted(times, stop)), len(times) - 1)
    window = samples[offsets[first]: offsets[last]]
    hop = 80
    rms = np.sqrt(np.mean(window[: len(window) // hop * hop].reshape(-1, hop) ** 2, axis=1))
    loud = np.nonzero(rms > peak * 10 ** (-35 / 20))[0]
    return capture_time_of(capture, offsets[first] + int(loud[0]) * hop) if len(loud) else float("nan")


def analyse(raw: dict) -> dict:
    capture = raw["capture"]
    sentences = []
    for entry in raw["said"]:
        pcm = raw["pcm"][entry["pcm"][0]: entry["pcm"][1]]
        frames = raw["frames"][entry["frames"][0]: entry["frames"][1]]
        if not pcm or not frames:
            sentences.append({"text": entry["text"], "error": "no audio or no frames"})
            continue
        audio = np.concatenate([c for _, c in pcm]).astype(np.float32) / 32768.0
        loud = np.nonzero(np.abs(audio) > 0.01)[0]
        speech_end = int(loud[-1]) + 1 if len(loud) else len(audio)
        first_received = pcm[0][0]
        source = audio[: min(speech_end, 2 * CAPTURE_RATE)]
        sound0, correlation, pieces_found, pieces = locate(capture, audio[:speech_end], first_received)
        speech_frames = -(-speech_end // 320)
        received = np.array([t for t, _, _ in frames])
        stamps = np.array([s for _, s, _ in frames], np.float64) / 1e9
        n = np.arange(len(frames))
        offsets = (sound0 + 0.02 * n - received)[:speech_frames]
        jaw = np.array([j for _, _, j in frames])
        rising = np.nonzero(jaw[:speech_frames] > jaw[:3].min() + 0.1)[0]
        peak = float(np.max(np.abs(source))) if len(source) else 0.0
        onset_sound = sound_onset(capture, sound0 - 0.05, sound0 + 1.0, peak)
        onset_mouth = float(received[rising[0]]) if len(rising) else float("nan")
        sentences.append({
            "text": entry["text"], "correlation": round(correlation, 4), "pieces_found": f"{pieces_found}/{pieces}",
            "frames": len(frames),
            "chunks": len(pcm), "speech_frames": speech_frames,
            "offset_ms": round(float(np.median(offsets)) * 1000, 2),
            "frame_offset_p5_p95_ms": [round(float(np.percentile(offsets, q)) * 1000, 2) for q in (5, 95)],
            "sound_after_publish_ms": round((sound0 - first_received) * 1000, 2),
            "stamp_step_error_ms": round(float(np.max(np.abs(np.diff(stamps) - 0.02))) * 1000, 2)
            if len(stamps) > 1 else None,
            "onset_sound_minus_mouth_ms": round((onset_sound - onset_mouth) * 1000, 2),
        })
    # located: at least two of the sentence's pieces are found in the speaker's output
    good = [s for s in sentences if "offset_ms" in s and np.isfinite(s["offset_ms"])
            and int(s["pieces_found"].split("/")[0]) >= 2]
    offsets = np.array([s["offset_ms"] for s in good])
    onsets = np.array([s["onset_sound_minus_mouth_ms"] for s in good if np.isfinite(s["onset_sound_minus_mouth_ms"])])
    summary = {
        "sentences": len(sentences), "located": len(good),
        "distorted": sum(1 for s in good if s["pieces_found"].split("/")[0] != s["pieces_found"].split("/")[1]),
        "offset_median_ms": round(float(np.median(offsets)), 2) if len(good) else None,
        "abs_offset_p95_ms": round(float(np.percentile(np.abs(offsets), 95)), 2) if len(good) else None,
        "abs_offset_max_ms": round(float(np.max(np.abs(offsets))), 2) if len(good) else None,
        "onset_sound_minus_mouth_median_ms": round(float(np.median(onsets)), 2) if len(onsets) else None,
        "target_abs_offset_p95_ms": 20.0,
    }
    summary["pass"] = bool(len(good) == len(sentences) and summary["abs_offset_p95_ms"] is not None
                           and summary["abs_offset_p95_ms"] <= 20.0)
    flags = [f for _, f in raw["flags"]]
    summary["live_lipsync"] = live_lipsync(raw, sentences) if raw.get("frame_values") else None
    summary["robot_speaking_transitions"] = sum(1 for a, b in zip(flags, flags[1:]) if a != b)
    summary["speech_node"] = {k: v for k, v in raw.get("speech_diagnostics", {}).items()
                              if k.startswith("playback") or k in ("late_chunks", "spoken")}
    return {"summary": summary, "sentences": sentences}


def live_lipsync(raw: dict, sentences: list[dict]) -> dict:
    """The live face stream scored like `talkface eval`: each sentence is synthesised again here (espeak-ng en-us,
    the node's default: the same samples it published) for its phone timings; frame n is labelled by the phone
    at its centre. -> open-vs-bilabial and rounded-vs-spread AUC over the speech frames of all sentences."""
    from talkface_ros.eval.metrics import lip_sync_aucs
    from talkface_ros.face.visemes import ipa_phone_class
    from talkface_ros.speech.tts import TtsConfig, make_engine, synthesize

    engine, _ = make_engine(TtsConfig(engine="espeak"))
    preds, classes = [], []
    for entry, sentence in zip(raw["said"], sentences):
        if "speech_frames" not in sentence:
            continue
        utterance = synthesize(engine, entry["text"])
        values = raw["frame_values"][entry["frames"][0]: entry["frames"][1]]
        count = min(len(values), -(-len(utterance.audio) // 320))
        centres = (np.arange(count) + 0.5) * 0.02
        labels = np.zeros(count, np.uint8)
        for phone in utterance.phones or []:
            labels[(centres >= phone.start) & (centres < phone.end)] = ipa_phone_class(phone.symbol)
        preds.append(np.stack(values[:count]))
        classes.append(labels)
    if not preds:
        return {}
    aucs = lip_sync_aucs(np.concatenate(preds), np.concatenate(classes))
    return {key.replace("_auc", ""): round(value, 3) for key, value in aucs.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=20, help="how many of the 20 sentences (default: all)")
    parser.add_argument("--lookahead", type=int, default=2, help="face_inference lookahead (default 2)")
    parser.add_argument("--chain-latency-s", type=float, default=None,
                        help="the speech node's chain_latency_s (default: the node's default)")
    parser.add_argument("--no-force-closure", action="store_true",
                        help="the speech node's force_closure off (lip-sync comparison)")
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args()
    # a DDS domain of its own (env.sh's shared default would mix in other graphs' audio and frames)
    os.environ["ROS_DOMAIN_ID"] = os.environ.get("TALKFACE_BENCH_DOMAIN_ID", str(150 + os.getpid() % 50))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import ros_harness  # noqa: F401  (loopback discovery)

    with tempfile.TemporaryDirectory(prefix="speech-sync-") as folder:
        raw = run(list(SENTENCES[: args.sentences]), args.lookahead, args.chain_latency_s, Path(folder),
                  log=lambda line: print(line, file=sys.stderr), force_closure=not args.no_force_closure)
    result = analyse(raw)
    result["config"] = {"lookahead": args.lookahead, "chain_latency_s": args.chain_latency_s,
                        "force_closure": not args.no_force_closure,
                        "date": time.strftime("%Y-%m-%d"), "engine": "espeak-ng en-us"}
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0 if result["summary"]["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
