"""`talkface emulate maestro|dynamixel`: a servo controller on a pseudo-terminal, to try the driver, the
node or `talkface servo-scan` without hardware. Prints the port path, serves until Ctrl-C, then prints
what it received as JSON."""
from __future__ import annotations

import argparse
import json
import signal
import time

from talkface_ros.hardware.emulator import DynamixelEmulator, MaestroEmulator
from talkface_ros.hardware.maestro import MODELS
from talkface_ros.process import exit_with_parent_if_asked


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("device", choices=("maestro", "dynamixel"))
    parser.add_argument("--link", default=None, help="path of the port symlink (default: a fresh /tmp path)")
    parser.add_argument("--model", choices=sorted(MODELS), default="mini12", help="Maestro model")
    parser.add_argument("--device-number", type=int, default=12, help="Maestro Pololu-protocol device number")
    parser.add_argument("--ids", default="1,2,3", help="Dynamixel IDs, comma-separated")
    parser.add_argument("--unplug-every", type=float, default=0.0, metavar="S",
                        help="fault injection: unplug for 0.5 s every S seconds")
    parser.add_argument("--garbage-every", type=float, default=0.0, metavar="S",
                        help="fault injection: 16 garbage bytes every S seconds")
    parser.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0: Ctrl-C)")
    parser.add_argument("--for-face", action="store_true",
                        help="size it for the face description's joints on this bus (Maestro model, Dynamixel IDs); "
                             "what `ros2 launch ... hardware:=emulated-*` runs")


def run(args: argparse.Namespace) -> int:
    if args.for_face:
        from talkface_ros.face.description import load_face_description
        from talkface_ros.hardware.emulator.for_face import emulator_for_face

        try:
            emulator = emulator_for_face(args.device, load_face_description().calibrations(), link_path=args.link)
        except ValueError as error:
            print(f"error: {error}")
            return 2
    elif args.device == "maestro":
        emulator = MaestroEmulator(args.link, model=args.model, device_number=args.device_number, record_limit=0)
    else:
        ids = tuple(int(i) for i in args.ids.split(",") if i.strip())
        emulator = DynamixelEmulator(args.link, ids=ids, record_limit=0)
    # A plain flag: setting a threading.Event from a signal handler can deadlock with the main thread's wait.
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    exit_with_parent_if_asked(signal.SIGTERM)
    start = time.monotonic()
    next_unplug = start + args.unplug_every if args.unplug_every > 0 else float("inf")
    next_garbage = start + args.garbage_every if args.garbage_every > 0 else float("inf")
    with emulator:
        print(f"{args.device} emulator on {emulator.path} (-> {emulator.device_path}); Ctrl-C to stop", flush=True)
        try:
            while not stopping:
                now = time.monotonic()
                if args.duration and now - start >= args.duration:
                    break
                if now >= next_unplug:
                    emulator.unplug()
                    time.sleep(0.5)
                    emulator.replug()
                    next_unplug = time.monotonic() + args.unplug_every
                if now >= next_garbage:
                    emulator.inject_garbage(bytes((0x13, 0x37, 0xFF, 0x00)) * 4)
                    next_garbage = now + args.garbage_every
                time.sleep(0.05)
        except KeyboardInterrupt:
            pass
        summary = {"device": args.device, "path": emulator.path, **emulator.stats.as_dict()}
        if isinstance(emulator, MaestroEmulator):
            summary["targets_received"] = emulator.targets_received
            summary["target_range_quarter_us"] = {ch: emulator.target_range(ch) for ch in range(emulator.channel_count)
                                                  if emulator.target_range(ch)[0] is not None}
        else:
            summary["goal_range_ticks"] = emulator.goal_range
            summary["crc_errors"] = emulator.crc_errors
    print(json.dumps(summary), flush=True)
    return 0
