"""GraphOptions.speech / `talkface bringup --speech`: the speech node feeds the face instead of audio_capture,
and face_inference and the speech node agree on the lookahead (the sound waits for the same frames)."""
import argparse

import pytest

from talkface_ros.nodes.bringup import node_command
from talkface_ros.nodes.bringup_cli import add_arguments, options_from_args
from talkface_ros.nodes.graph import GraphOptions, build_graph
from talkface_ros.paths import config_path


def test_speech_replaces_audio_capture_and_sets_the_lookahead():
    specs = {spec.name: spec for spec in build_graph(GraphOptions(profile="sim", speech=True))}
    assert "audio_capture" not in specs and "speech" in specs
    assert specs["face_inference"].parameters["lookahead"] == 2
    assert specs["speech"].parameters["face_lookahead"] == 2
    assert specs["speech"].param_files == ["speech.yaml"] and config_path("speech.yaml").is_file()
    assert "/**/speech:" in config_path("speech.yaml").read_text()
    explicit = {s.name: s for s in build_graph(GraphOptions(profile="hardware", speech=True, lookahead=3))}
    assert explicit["face_inference"].parameters["lookahead"] == 3 == explicit["speech"].parameters["face_lookahead"]
    remapped = {s.name: s for s in build_graph(GraphOptions(speech=True, audio_topic="/robot/pcm"))}
    assert remapped["speech"].remappings == {"audio/pcm": "/robot/pcm"}
    assert "audio_capture" in {s.name for s in build_graph(GraphOptions(profile="sim"))}


@pytest.mark.parametrize("options", [
    GraphOptions(speech=True, audio_source="wav", wav_path="/tmp/a.wav"),
    GraphOptions(speech=True, profile="file", audio_source="wav", wav_path="/tmp/a.wav", record_dir="/tmp/r"),
])
def test_speech_with_another_audio_source_is_refused(options):
    with pytest.raises(ValueError, match="speech"):
        build_graph(options)


def test_bringup_speech_flag():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    options = options_from_args(parser.parse_args(["--speech"]))
    assert options.speech is True
    commands = {spec.name: " ".join(node_command(spec)) for spec in build_graph(options)}
    assert "talkface_ros.nodes.speech" in commands["speech"] and "face_lookahead:=2" in commands["speech"]
    assert "lookahead:=2" in commands["face_inference"]
    assert options_from_args(parser.parse_args([])).speech is False
