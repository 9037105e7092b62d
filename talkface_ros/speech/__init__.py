"""A speaking robot, without ROS: text -> TTS audio (+ phone timings) -> paced 20 ms chunks for the face model,
and the same audio on a speaker, delayed by the chain latency so mouth and sound line up.

- `tts`: the engines (espeak-ng through libespeak-ng, Piper when installed) behind one `synth(text)` call;
- `text`: sentence splitting (one sentence per synthesis call);
- `speaker`: the `Speaker` — requests, queue/interrupt policy, pacing, playback, the speaking flag;
- `closure`: forced lip closure on p/b/m frames from the TTS's own phone timings.
The rclpy node (`talkface_ros.nodes.speech`) only wires parameters and topics to these.
"""
