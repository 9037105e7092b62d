#!/usr/bin/env python3
"""Drive the talking face from YOUR stack's TTS: the recipe of docs/speech.md in one small script.

Your TTS makes the audio (here: the espeak-ng command line, or a WAV you give); this script
1. publishes robot_speaking=true (std_msgs/Bool, transient local) so an ASR ignores the robot,
2. publishes the audio on audio/pcm (std_msgs/Int16MultiArray, mono int16 16 kHz) in 20 ms chunks paced at
   the audio rate, so face_inference animates it as it would a microphone,
3. starts the speaker DELAY seconds after the first chunk (the chain latency + 20 ms per lookahead frame of
   face_inference), so the sound comes out when the mouth moves,
4. publishes robot_speaking=false when the sound has ended.

  python tools/tts_publisher_example.py --text "Hello from my own TTS."
  python tools/tts_publisher_example.py --wav reply.wav --delay 0.043 --no-playback
Needs rclpy and the std_msgs messages; numpy, scipy, soundfile; sounddevice for the speaker.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

RATE = 16000
CHUNK = 320  # 20 ms


def tts_audio(text: str | None, wav: str | None) -> np.ndarray:
    """Your TTS goes here: -> mono int16 at 16 kHz."""
    import soundfile
    from scipy.signal import resample_poly

    if wav is None:
        with tempfile.TemporaryDirectory() as folder:
            wav_path = os.path.join(folder, "tts.wav")
            subprocess.run(["espeak-ng", "-w", wav_path, text], check=True)
            samples, rate = soundfile.read(wav_path, dtype="float32", always_2d=True)
    else:
        samples, rate = soundfile.read(wav, dtype="float32", always_2d=True)
    mono = samples.mean(axis=1)
    if rate != RATE:
        mono = resample_poly(mono, RATE, rate)
    return np.round(np.clip(mono, -1.0, 1.0) * 32767).astype(np.int16)


def main() -> int:
    parser = argparse.ArgumentParser(description="publish your own TTS audio for the talking face")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="say this with espeak-ng (stands in for your TTS)")
    source.add_argument("--wav", help="or play this file (any rate, mono or stereo)")
    parser.add_argument("--delay", type=float, default=0.043,
                        help="speaker delay after the first chunk, s: chain latency (0.003 measured here) + 0.02 x "
                             "face_inference lookahead (2) (default 0.043)")
    parser.add_argument("--no-playback", action="store_true", help="publish only (no speaker)")
    parser.add_argument("--topic", default="audio/pcm")
    args = parser.parse_args()
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

    import rclpy
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    from std_msgs.msg import Bool, Int16MultiArray

    audio = tts_audio(args.text, args.wav)
    audio = np.pad(audio, (0, -len(audio) % CHUNK + 5 * CHUNK))  # whole chunks + 100 ms of silence: the face's
    # lookahead frames come out at once and the mouth closes
    rclpy.init()
    node = rclpy.create_node("my_tts")
    pcm_qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.BEST_EFFORT)
    pcm = node.create_publisher(Int16MultiArray, args.topic, pcm_qos)
    speaking = node.create_publisher(Bool, "robot_speaking",
                                     QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL))
    deadline = time.monotonic() + 5.0  # wait for face_inference, so the first word is not lost
    while pcm.get_subscription_count() == 0 and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
    time.sleep(0.3)  # the subscriber's side of the match may lag a moment
    speaking.publish(Bool(data=True))
    started = time.monotonic()
    player_started = args.no_playback
    for k in range(len(audio) // CHUNK):
        while time.monotonic() < started + k * CHUNK / RATE:
            if not player_started and time.monotonic() >= started + args.delay:
                player_started = start_playback(audio)
            time.sleep(0.001)
        msg = Int16MultiArray()
        msg.data = audio[k * CHUNK:(k + 1) * CHUNK].tolist()
        pcm.publish(msg)
    if not player_started:
        time.sleep(max(0.0, started + args.delay - time.monotonic()))
        start_playback(audio)
    # the sound ends `delay` after the last chunk's time
    time.sleep(max(0.0, started + args.delay + len(audio) / RATE - time.monotonic()))
    speaking.publish(Bool(data=False))
    time.sleep(0.3)  # let the latched false reach late subscribers before the node goes
    node.destroy_node()
    rclpy.shutdown()
    return 0


def start_playback(audio: np.ndarray) -> bool:
    """Start the speaker (non-blocking). PortAudio adds the device's output latency on top: subtract it from
    --delay (talkface_ros.audio.playback.DelayedPlayback schedules by the DAC time and needs no correction)."""
    try:
        import sounddevice

        sounddevice.play(audio, RATE)
    except Exception as error:  # no speaker: the face still speaks
        print(f"no playback: {error}", file=sys.stderr)
    return True


if __name__ == "__main__":
    sys.exit(main())
