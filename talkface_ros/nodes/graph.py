"""The node graph, described once: the launch files and `talkface bringup` both build from it, so a robot
running `ros2 launch` and this machine running `talkface bringup` start the same nodes with the same
parameters and remappings. Pure Python (no rclpy, no launch), so it is importable everywhere."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROFILES = ("sim", "hardware", "file", "capture")
HARDWARE_TYPES = ("maestro", "dynamixel", "emulated-maestro", "emulated-dynamixel")
AUDIO_SOURCES = ("microphone", "wav", "topic")
AUDIO_MSG_TYPES = ("int16_multi_array", "audio_common")


@dataclass
class NodeSpec:
    """One node: `executable` is both the console script (ros2 run) and the module under talkface_ros.nodes."""

    name: str
    executable: str
    param_files: list[str] = field(default_factory=list)   # files under share/talkface_ros/config
    parameters: dict[str, Any] = field(default_factory=dict)
    remappings: dict[str, str] = field(default_factory=dict)


@dataclass
class GraphOptions:
    profile: str = "sim"
    namespace: str = ""
    audio_source: str = "microphone"        # microphone | wav | topic (another stack publishes audio_topic)
    wav_path: str = ""
    loop: bool = False
    device: str = ""
    audio_topic: str = "audio/pcm"           # remap to take audio from another stack
    audio_msg_type: str = "int16_multi_array"  # type on audio_topic; audio_common only from another stack
    sample_rate: int = 16000                 # PCM rate on audio_topic
    emotion: str = "neutral"
    model_path: str = ""
    backend: str = "onnxruntime"
    lookahead: int = 0
    hardware: str = "maestro"
    port: str = "/dev/ttyACM0"
    neck_port: str = ""                      # a second servo_driver for the Dynamixel neck ('' = none)
    calibration: str = ""                    # self-model calibration ('' = the shipped one)
    record_dir: str = ""                     # when set, a face_recorder node writes CSV + logs there
    stop_at_end: bool = False                # audio_capture exits at the end of the WAV (file profile: always)
    use_ros2_control: bool = False           # hardware: commands go to a ros2_control controller, no servo_driver
    control_rate: float = 100.0
    speech: bool = False                     # a speaking robot: the speech node (TTS) feeds the face, no audio_capture

    def validate(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}, got {self.profile!r}")
        if self.audio_source not in AUDIO_SOURCES:
            raise ValueError(f"audio_source must be one of {AUDIO_SOURCES}, got {self.audio_source!r}")
        if self.audio_msg_type not in AUDIO_MSG_TYPES:
            raise ValueError(f"audio_msg_type must be one of {AUDIO_MSG_TYPES}, got {self.audio_msg_type!r}")
        if self.audio_msg_type != "int16_multi_array" and self.audio_source != "topic":
            raise ValueError("audio_msg_type audio_common is for audio from another stack (audio_source topic); "
                             "audio_capture publishes std_msgs/Int16MultiArray")
        if not 8000 <= int(self.sample_rate) <= 48000:
            raise ValueError(f"sample_rate must be 8000-48000 Hz, got {self.sample_rate!r}")
        if self.profile == "capture" and self.audio_source == "topic":
            raise ValueError("the capture profile is audio_capture alone: audio_source microphone or wav")
        if self.stop_at_end and (self.audio_source != "wav" or self.loop):
            raise ValueError("stop_at_end needs a WAV played once (audio_source wav, not loop)")
        if self.audio_source == "wav" and not self.wav_path:
            raise ValueError("audio_source is wav but no wav_path was given")
        if self.profile == "file" and self.audio_source != "wav":
            raise ValueError("the file profile needs a WAV file (audio_source wav)")
        if self.profile == "file" and not self.record_dir:
            raise ValueError("the file profile needs record_dir for its outputs")
        if self.hardware not in HARDWARE_TYPES:
            raise ValueError(f"hardware must be one of {HARDWARE_TYPES}, got {self.hardware!r}")
        if self.speech and (self.audio_source != "microphone" or self.profile not in ("sim", "hardware")):
            raise ValueError("speech: the speech node is the audio source (no WAV, no other stack's topic) and "
                             "needs the sim or hardware profile")


def build_graph(options: GraphOptions) -> list[NodeSpec]:
    options.validate()
    audio_remap = {"audio/pcm": options.audio_topic} if options.audio_topic != "audio/pcm" else {}
    nodes = []
    if options.audio_source != "topic":
        nodes.append(NodeSpec("audio_capture", "audio_capture", ["audio_capture.yaml"], {
            "source": options.audio_source, "wav_path": options.wav_path, "loop": options.loop,
            "device": options.device, "sample_rate": int(options.sample_rate),
            # in a graph, the stream must not end the node: the rest keeps running on the idle face
            "exit_at_end": options.profile == "file" or options.stop_at_end,
        }, audio_remap))
    if options.profile == "capture":
        return nodes
    nodes.append(NodeSpec("face_inference", "face_inference", ["face_inference.yaml"], {
        "model_path": options.model_path, "backend": options.backend, "lookahead": options.lookahead,
        "emotion": options.emotion, "sample_rate": int(options.sample_rate), "audio_msg_type": options.audio_msg_type,
        # a file is speech from start to end: no idle face before or after it in the recording
        "idle_animation": options.profile != "file",
    }, audio_remap))
    if options.profile in ("sim", "hardware"):
        nodes.append(NodeSpec("face_retarget", "face_retarget", ["face_retarget.yaml"], {
            "calibration_path": options.calibration, "control_rate": options.control_rate,
        }, {"joint_states": "face/commanded_joint_states"}))
    if options.profile == "sim":
        nodes.append(NodeSpec("face_sim", "face_sim", ["face_sim.yaml"], {}))
    if options.profile == "hardware" and not options.use_ros2_control:
        bus = hardware_bus(options.hardware)
        nodes.append(NodeSpec("servo_driver", "servo_driver", ["servo_driver.yaml"], {
            "bus": bus, "port": options.port, "control_rate": options.control_rate,
        }))
        if options.neck_port and bus != "dynamixel":
            # one driver per bus: the shipped face has its neck on Dynamixels
            nodes.append(NodeSpec("servo_driver_neck", "servo_driver", ["servo_driver.yaml"], {
                "bus": "dynamixel", "port": options.neck_port, "control_rate": options.control_rate,
            }))
    if options.record_dir:
        nodes.append(NodeSpec("face_recorder", "face_recorder", [], {"output_dir": options.record_dir}))
    if options.audio_source == "wav":
        # a file has a first word: start it only when every node of the graph is there to hear it
        nodes[0].parameters["wait_for_nodes"] = ",".join(node.name for node in nodes[1:])
    if options.speech:
        nodes = _with_speech(nodes, options)
    return nodes


SPEECH_LOOKAHEAD = 2  # face_inference's lookahead when the robot speaks its own TTS (docs/speech.md)


def _with_speech(nodes: list[NodeSpec], options: GraphOptions) -> list[NodeSpec]:
    """The speech node feeds audio/pcm instead of audio_capture; the face looks ahead (the TTS knows its future
    audio, and the speech node delays the sound by the same frames, so sync is kept)."""
    lookahead = options.lookahead or SPEECH_LOOKAHEAD
    remap = {"audio/pcm": options.audio_topic} if options.audio_topic != "audio/pcm" else {}
    speech = NodeSpec("speech", "speech", ["speech.yaml"], {"face_lookahead": lookahead}, remap)
    for node in nodes:
        if node.name == "face_inference":
            node.parameters["lookahead"] = lookahead
    return [speech, *[node for node in nodes if node.name != "audio_capture"]]


def hardware_bus(hardware: str) -> str:
    """maestro | dynamixel, emulated or not."""
    return hardware.removeprefix("emulated-")


def uses_emulators(options: GraphOptions) -> bool:
    return (options.profile == "hardware" and options.hardware.startswith("emulated-")
            and not options.use_ros2_control)


EMULATED_PREFIX = "talkface-emulated-"  # the temporary folder of an emulated profile's pseudo-terminals


def emulated_ports(options: GraphOptions, folder: str, buses_of_face: set[str] | None = None) -> dict[str, str]:
    """bus -> pseudo-terminal link in `folder` for an emulated-* profile; sets options.port (and
    options.neck_port where a Maestro face has Dynamixel servos: its neck). `buses_of_face`: the buses the face
    description has joints on (default: read from the shipped face description)."""
    if buses_of_face is None:
        from talkface_ros.face.description import load_face_description

        buses_of_face = {c.bus for c in load_face_description().calibrations()}
    bus = hardware_bus(options.hardware)
    ports = {bus: f"{folder}/tty{bus}"}
    options.port = ports[bus]
    if bus != "dynamixel" and "dynamixel" in buses_of_face:
        ports["dynamixel"] = options.neck_port = f"{folder}/ttydynamixel"
    return ports


def emulator_command(bus: str, port: str) -> list[str]:
    """The command line (after the Python interpreter) of an emulator sized for the face, for launch files."""
    return ["-m", "talkface_ros.cli", "emulate", bus, "--for-face", "--link", port]
