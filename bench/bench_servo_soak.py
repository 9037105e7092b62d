"""Soak: N minutes of 100 Hz servo commands through an emulated Maestro (or Dynamixel) on a pty.

Reports RSS growth of the driver process (after a warm-up), missed control ticks, tick cost, bus counters,
and whether every target the emulator received was inside the calibrated limits. The emulator runs as a
separate process (`talkface emulate`), so the RSS measured is the driver's alone.

  python bench/bench_servo_soak.py                  # 10 minutes, through the servo_driver node (rclpy)
  python bench/bench_servo_soak.py --minutes 2 --mode loop --out out/soak.json

Modes: node = the servo_driver node's own timer, fed by a 100 Hz publisher on face_controller/commands
(in-process, one executor); loop = the ROS-free ServoLoop ticked by a deadline scheduler.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from talkface_ros.hardware.calibration import JointCalibration
from talkface_ros.hardware.factory import make_bus
from talkface_ros.hardware.servo_loop import LoopConfig, ServoLoop


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def face(joints: int, bus: str) -> list[JointCalibration]:
    if bus == "maestro":
        return [JointCalibration(f"joint_{i}", "maestro", i, "rigid", -0.6, 0.6, 0.0, 6.0, 1100.0 + 10 * i,
                                 1900.0 - 10 * i) for i in range(joints)]
    return [JointCalibration(f"joint_{i}", "dynamixel", i + 1, "rigid", -0.6, 0.6, 0.0, 6.0, 1500.0, 2600.0)
            for i in range(joints)]


def command(t: float, joints: int) -> list[float]:
    """A talking-face-like sweep that also overshoots the limits (they must hold)."""
    return [0.8 * math.sin(2 * math.pi * (1.0 + 0.1 * i) * t + i) for i in range(joints)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def start_emulator(bus: str, joints: int, link: str, faults: list[str]) -> subprocess.Popen:
    args = [sys.executable, "-m", "talkface_ros.cli", "emulate", bus, "--link", link, *faults]
    args += ["--model", "mini24" if joints > 18 else "mini18" if joints > 12 else "mini12"] if bus == "maestro" \
        else ["--ids", ",".join(str(i + 1) for i in range(joints))]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if link not in line:
        raise RuntimeError(f"emulator did not start: {line!r}")
    return process


def stop_emulator(process: subprocess.Popen) -> dict:
    process.terminate()
    try:
        output = process.communicate(timeout=20)[0]
        return json.loads(output.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, ValueError, IndexError) as error:
        process.kill()
        process.communicate()
        print(f"emulator did not report: {error!r}", file=sys.stderr)
        return {}


def run_loop_mode(args, calibrations, names, port) -> dict:
    bus = make_bus(args.bus, port, calibrations, timeout=0.02)
    feedback_every = 0 if args.feedback_rate <= 0 else max(1, round(args.rate / args.feedback_rate))
    loop = ServoLoop(bus, calibrations, names, LoopConfig(feedback_every=feedback_every, faults_every=100))
    period = 1.0 / args.rate
    ticks = missed = 0
    costs: list[float] = []
    start = time.monotonic()
    next_tick = start
    warm_rss = None
    end = start + args.seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if warm_rss is None and now - start >= args.warmup:
            warm_rss = rss_mb()
        lateness = now - next_tick
        if lateness > period:
            missed += int(lateness / period)
            next_tick += int(lateness / period) * period
        loop.set_command(command(now, len(names)))
        loop.tick()
        done = time.monotonic()
        costs.append(done - now)
        ticks += 1
        next_tick += period
        delay = next_tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    status = loop.status()
    loop.shutdown()
    return {"ticks": ticks, "missed_ticks": missed, "tick_cost_us": costs, "warm_rss": warm_rss,
            "bus_stats": status.bus, "connected_at_end": status.connected, "tick_errors": 0}


def run_node_mode(args, calibrations, names, port) -> dict:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter
    from std_msgs.msg import Float64MultiArray

    from talkface_ros.nodes.common import sensor_qos
    from talkface_ros.nodes.servo_driver import ServoDriverNode

    context = rclpy.Context()
    rclpy.init(context=context)
    overrides = [Parameter("port", value=port), Parameter("bus", value=args.bus),
                 Parameter("control_rate", value=float(args.rate)),
                 Parameter("feedback_rate", value=float(args.feedback_rate)),
                 Parameter("sched_priority", value=args.sched_priority)]
    driver = ServoDriverNode(calibrations, names, context=context, parameter_overrides=overrides)
    helper = rclpy.create_node("soak_commander", context=context)
    publisher = helper.create_publisher(Float64MultiArray, "face_controller/commands", sensor_qos(10))
    published = [0]

    def publish() -> None:
        publisher.publish(Float64MultiArray(data=command(time.monotonic(), len(names))))
        published[0] += 1

    helper.create_timer(1.0 / args.rate, publish)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(driver)
    executor.add_node(helper)
    start = time.monotonic()
    warm_rss = None
    warm_ticks = warm_missed = 0
    while time.monotonic() - start < args.seconds:
        executor.spin_once(timeout_sec=0.01)
        if warm_rss is None and time.monotonic() - start >= args.warmup:
            warm_rss = rss_mb()
            warm_ticks, warm_missed = driver.ticks, driver.missed_ticks
    status = driver.loop.status()
    result = {"ticks": driver.ticks - warm_ticks, "missed_ticks": driver.missed_ticks - warm_missed,
              "tick_cost_us": [], "warm_rss": warm_rss, "bus_stats": status.bus, "connected_at_end": status.connected,
              "tick_errors": driver.tick_errors, "commands_published": published[0],
              "commands_accepted": status.commands_accepted}
    driver.close()
    executor.shutdown()
    driver.destroy_node()
    helper.destroy_node()
    rclpy.shutdown(context=context)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=0.0, help="overrides --minutes")
    parser.add_argument("--rate", type=float, default=100.0, help="command and control rate (Hz)")
    parser.add_argument("--joints", type=int, default=12)
    parser.add_argument("--sched-priority", type=int, default=0,
                        help="node mode: the servo_driver's sched_priority parameter (SCHED_FIFO, 0 = off)")
    parser.add_argument("--feedback-rate", type=float, default=20.0, help="position reads per second (0: none)")
    parser.add_argument("--bus", choices=("maestro", "dynamixel"), default="maestro")
    parser.add_argument("--mode", choices=("node", "loop"), default="node")
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds before the RSS baseline "
                        "(default: 10%% of the run, at most 30 s)")
    parser.add_argument("--unplug-every", type=float, default=0.0, metavar="S",
                        help="fault soak: the emulator unplugs for 0.5 s every S seconds")
    parser.add_argument("--garbage-every", type=float, default=0.0, metavar="S",
                        help="fault soak: the emulator sends 16 garbage bytes every S seconds")
    parser.add_argument("--out", default="", help="also write the JSON here")
    args = parser.parse_args()
    args.seconds = args.seconds or args.minutes * 60.0
    args.warmup = args.warmup or min(30.0, 0.1 * args.seconds)
    if args.mode == "node":
        os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
        if os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE") != "LOCALHOST":
            raise SystemExit("ROS_AUTOMATIC_DISCOVERY_RANGE must be LOCALHOST (source env.sh)")

    calibrations = face(args.joints, args.bus)
    names = [c.joint for c in calibrations]
    link = os.path.join(tempfile.mkdtemp(prefix="talkface-soak-"), f"tty{args.bus}")
    faults = []
    if args.unplug_every:
        faults += ["--unplug-every", str(args.unplug_every)]
    if args.garbage_every:
        faults += ["--garbage-every", str(args.garbage_every)]
    emulator = start_emulator(args.bus, args.joints, link, faults)
    rss_start = rss_mb()
    try:
        run = run_node_mode if args.mode == "node" else run_loop_mode
        result = run(args, calibrations, names, link)
    finally:
        emulator_summary = stop_emulator(emulator)
    rss_end = rss_mb()
    costs = result.pop("tick_cost_us")
    warm_rss = result.pop("warm_rss") or rss_start
    limits_ok = None
    if not emulator_summary:
        pass  # unknown: the emulator did not report
    elif args.bus == "maestro":
        ranges = {int(ch): r for ch, r in emulator_summary["target_range_quarter_us"].items()}
        limits_ok = all(round(c.raw_min * 4) <= ranges[c.channel][0] and ranges[c.channel][1] <= round(c.raw_max * 4)
                        for c in calibrations if c.channel in ranges) and len(ranges) == len(calibrations)
    else:
        ranges = {int(i): r for i, r in emulator_summary["goal_range_ticks"].items()}
        limits_ok = all(1500 <= ranges[c.channel][0] and ranges[c.channel][1] <= 2600
                        for c in calibrations if c.channel in ranges) and len(ranges) == len(calibrations)
    ticks = result["ticks"]
    report = {
        "bench": "servo_soak", "mode": args.mode, "bus": args.bus, "joints": args.joints, "rate_hz": args.rate, "feedback_hz": args.feedback_rate,
        "sched_priority": args.sched_priority if args.mode == "node" else 0,
        "seconds": args.seconds, "warmup_s": args.warmup,
        "faults": {"unplug_every_s": args.unplug_every, "garbage_every_s": args.garbage_every},
        "ticks": ticks, "missed_ticks": result["missed_ticks"],
        "missed_tick_fraction": result["missed_ticks"] / max(1, ticks + result["missed_ticks"]),
        "rss_start_mb": round(rss_start, 2), "rss_after_warmup_mb": round(warm_rss, 2),
        "rss_end_mb": round(rss_end, 2), "rss_growth_after_warmup_mb": round(rss_end - warm_rss, 3),
        "tick_cost_us_p50": round(percentile(costs, 0.5) * 1e6, 1) if costs else None,
        "tick_cost_us_p99": round(percentile(costs, 0.99) * 1e6, 1) if costs else None,
        "tick_cost_us_max": round(max(costs) * 1e6, 1) if costs else None,
        "all_targets_within_limits": limits_ok,
        "emulator": {k: emulator_summary.get(k) for k in ("bytes_in", "replies", "garbage_sent", "unplugs")
                     if emulator_summary},
        **{k: v for k, v in result.items() if k not in ("ticks", "missed_ticks")},
        "pass": bool(limits_ok and (rss_end - warm_rss) < 5.0
                     and result["missed_ticks"] / max(1, ticks + result["missed_ticks"]) <= 0.001),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
