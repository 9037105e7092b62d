"""`talkface servo-scan --port PORT`: list the servo controllers and servos that answer on a port."""
from __future__ import annotations

import argparse
import json
import os
import sys

from talkface_ros.hardware.scan import as_dict, describe, scan


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyACM0 or /dev/serial/by-id/...")
    parser.add_argument("--bus", choices=("auto", "maestro", "dynamixel"), default="auto",
                        help="what to look for (auto: Maestro first, then Dynamixel at common baud rates)")
    parser.add_argument("--baud", type=int, default=0, help="only this baud rate (0: try the usual ones)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    if not os.path.exists(args.port):
        print(f"servo-scan: {args.port} does not exist (is the controller plugged in? see docs/hardware.md)",
              file=sys.stderr)
        return 2
    if not os.access(args.port, os.R_OK | os.W_OK):
        print(f"servo-scan: no permission for {args.port}: add yourself to the 'dialout' group "
              "(sudo usermod -aG dialout $USER, then log in again)", file=sys.stderr)
        return 2
    try:
        found = scan(args.port, args.bus, args.baud)
    except (OSError, ImportError) as error:
        print(f"servo-scan: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([as_dict(result) for result in found], indent=2))
    else:
        for result in found:
            print(describe(result))
        if not found:
            print(f"nothing answered on {args.port}")
    return 0 if found else 1
