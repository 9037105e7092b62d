"""`talkface bringup`: the command line of talkface_ros.nodes.bringup (the node graph as separate processes,
for machines without `ros2 launch`)."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from talkface_ros.nodes.bringup import (Graph, bringup_environment, clip_finished, dry_run_emulated_ports, node_command,
                                        start_emulators)
from talkface_ros.nodes.graph import AUDIO_MSG_TYPES, HARDWARE_TYPES, PROFILES, GraphOptions, build_graph


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = GraphOptions()
    parser.add_argument("--profile", choices=PROFILES, default="sim",
                        help="sim: the MuJoCo face (face_sim); hardware: servos through servo_driver on --port "
                             "(or an emulated controller, see --hardware); file: --wav through the model into "
                             "--record-dir, ending with the clip; capture: audio_capture alone (default: sim)")
    parser.add_argument("--audio-source", choices=("microphone", "wav", "topic"), default=None,
                        help="microphone, wav (--wav) or topic: no audio_capture, another stack publishes "
                             "--audio-topic (default: wav with --wav, else microphone)")
    parser.add_argument("--wav", "--wav-path", dest="wav", help="play this file instead of the microphone")
    parser.add_argument("--loop", action="store_true", help="loop the WAV")
    parser.add_argument("--stop-at-end", action=argparse.BooleanOptionalAction, default=None,
                        help="with --wav: stop the whole graph once the clip has been played (default: on; "
                             "--no-stop-at-end keeps the face running idle until Ctrl-C)")
    parser.add_argument("--device", default="", help="microphone: index, name or unique substring")
    parser.add_argument("--audio-topic", default=defaults.audio_topic, help="take audio from this topic")
    parser.add_argument("--audio-msg-type", choices=AUDIO_MSG_TYPES, default=defaults.audio_msg_type,
                        help="message type on --audio-topic; audio_common needs --audio-source topic "
                             f"(default: {defaults.audio_msg_type})")
    parser.add_argument("--sample-rate", type=int, default=defaults.sample_rate,
                        help=f"PCM rate on the audio topic, Hz (default: {defaults.sample_rate})")
    parser.add_argument("--emotion", default=defaults.emotion, help="label[:intensity]")
    parser.add_argument("--model", default="", help="model path ('' = the shipped model)")
    parser.add_argument("--backend", choices=("onnxruntime", "torch"), default=defaults.backend,
                        help=f"model runtime (default: {defaults.backend}; torch needs the train extra)")
    parser.add_argument("--lookahead", type=int, default=0, choices=range(4),
                        help="future 20 ms frames the model may see: more context, more latency (default: 0)")
    parser.add_argument("--hardware", choices=HARDWARE_TYPES, default=defaults.hardware,
                        help="hardware profile: the servo controller; emulated-*: one emulated on a pseudo-terminal "
                             "here, no servos needed (its port replaces --port)")
    parser.add_argument("--port", default=defaults.port, help="serial port of the servo controller")
    parser.add_argument("--neck-port", default="", help="serial port of the Dynamixel neck ('' = no neck driver)")
    parser.add_argument("--calibration", default="", help="self-model folder ('' = the shipped one)")
    parser.add_argument("--namespace", default="", help="ROS namespace of every node, e.g. robot1 (default: none)")
    parser.add_argument("--record-dir", default="", help="record blendshapes, commands and latency here")
    parser.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0 = until Ctrl-C)")
    parser.add_argument("--dry-run", action="store_true", help="print the node commands and exit")
    parser.add_argument("--speech", action="store_true",
                        help="a speaking robot: the speech node (text on `say`, TTS, speaker) feeds the face instead "
                             "of audio_capture; face_inference gets lookahead 2 unless --lookahead says otherwise")


def options_from_args(args: argparse.Namespace) -> GraphOptions:
    return GraphOptions(
        profile=args.profile, namespace=args.namespace,
        audio_source=args.audio_source or ("wav" if args.wav else "microphone"),
        audio_msg_type=args.audio_msg_type, sample_rate=args.sample_rate, calibration=args.calibration,
        wav_path=str(Path(args.wav).resolve()) if args.wav else "", loop=args.loop, device=args.device,
        audio_topic=args.audio_topic, emotion=args.emotion, model_path=args.model, backend=args.backend,
        lookahead=args.lookahead, hardware=args.hardware, port=args.port, neck_port=args.neck_port,
        record_dir=str(Path(args.record_dir).resolve()) if args.record_dir else "",
        stop_at_end=stops_at_end(args),
        speech=args.speech,
    )


def stops_at_end(args: argparse.Namespace) -> bool:
    """--stop-at-end defaults to on for a WAV played once; a looped WAV or the microphone never ends."""
    if args.stop_at_end is None:
        return bool(args.wav) and not args.loop
    return args.stop_at_end


def run(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    emulators = []
    if options.profile == "hardware" and options.hardware.startswith("emulated-") and not args.dry_run:
        try:
            emulators = start_emulators(options)
        except (ValueError, OSError) as error:
            print(f"error: cannot start the emulator: {error}")
            return 1
    try:
        return _run_graph(args, options)
    finally:
        for emulator in emulators:
            emulator.stop()


def _run_graph(args: argparse.Namespace, options: GraphOptions) -> int:
    if options.stop_at_end and options.loop:
        print("error: --stop-at-end needs a WAV played once (not --loop)")
        return 2
    if options.stop_at_end and options.audio_source != "wav":
        print("error: --stop-at-end needs --wav (the microphone has no end)")
        return 2
    note = ""
    if args.dry_run and options.profile == "hardware" and options.hardware.startswith("emulated-"):
        note = dry_run_emulated_ports(options)
    try:
        specs = build_graph(options)
    except ValueError as error:
        print(f"error: {error}")
        return 2
    if args.dry_run:
        if note:
            print(note)
        for spec in specs:
            print(" ".join(node_command(spec, options.namespace)))
        return 0
    ends_with_clip = options.profile == "file" or options.stop_at_end
    print(f"starting the {options.profile} graph: " + ", ".join(s.name for s in specs)
          + f" (ROS_DOMAIN_ID={bringup_environment()['ROS_DOMAIN_ID']}); "
          + ("it stops when the clip has been played, or on Ctrl-C" if ends_with_clip else "Ctrl-C stops it"))
    started = time.monotonic()
    clip_end_reported = False
    with Graph(specs, options.namespace) as graph:
        try:
            while True:
                time.sleep(0.2)
                if graph.failed():
                    print(f"error: node(s) exited with an error: {graph.failed()}")
                    return 1
                if ends_with_clip and graph.processes["audio_capture"].poll() == 0:
                    time.sleep(1.0)  # let the last frames through
                    print(f"bringup: {options.wav_path} has been played; stopping the graph")
                    break
                if (options.audio_source == "wav" and not ends_with_clip and not clip_end_reported
                        and clip_finished(graph.logs.get("audio_capture", []))):
                    clip_end_reported = True
                    print(f"bringup: {options.wav_path} has been played; the graph keeps running on the idle face "
                          "until Ctrl-C (--stop-at-end ends it with the clip)")
                if args.duration and time.monotonic() - started > args.duration:
                    break
        except KeyboardInterrupt:
            pass
    return 0
