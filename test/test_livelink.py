"""Live Link Face CSV round trip, malformed files, and frame resampling."""
from __future__ import annotations

import numpy as np
import pytest

from talkface_ros.face.arkit import INDEX
from talkface_ros.face.frames import resample_frames
from talkface_ros.face.livelink import HEADER, LiveLinkError, format_timecode, parse_timecode, read_livelink_csv, write_livelink_csv


def _frames(T=130):
    rng = np.random.default_rng(0)
    f = rng.uniform(0, 1, (T, 55)).astype(np.float32)
    f[:, 52:] = rng.uniform(-0.3, 0.3, (T, 3))
    return f


@pytest.mark.parametrize("fps", [30.0, 60.0])
def test_roundtrip(tmp_path, fps):
    frames = _frames()
    path = tmp_path / "take.csv"
    write_livelink_csv(path, frames, fps)
    back, got_fps = read_livelink_csv(path)
    assert got_fps == fps and np.allclose(back, frames, atol=1e-5)
    header = path.read_text().splitlines()[0].split(",")
    assert header == list(HEADER) and header.index("JawRight") < header.index("JawLeft")


def test_rows_are_what_a_csv_writer_writes(tmp_path):
    """The fast row formatter writes the bytes csv.writer did: CRLF rows, six decimals, 0 for the app's
    columns the face has no channel for, the blendshape count 61 after the timecode."""
    import csv
    import io

    from talkface_ros.face.arkit import FRAME_NAMES, pascal_case

    frames = _frames(5)
    frames[0, INDEX["jawOpen"]] = 1.0
    path = tmp_path / "take.csv"
    write_livelink_csv(path, frames, 60.0)
    col_of = {pascal_case(n): i for i, n in enumerate(FRAME_NAMES)}
    expected = io.StringIO(newline="")
    writer = csv.writer(expected)
    writer.writerow(HEADER)
    for i, frame in enumerate(frames):
        writer.writerow([format_timecode(i, 60.0), 61,
                         *[f"{frame[col_of[c]]:.6f}" if c in col_of else "0.000000" for c in HEADER[2:]]])
    assert path.read_bytes() == expected.getvalue().encode("utf-8")


def test_columns_are_parsed_by_name(tmp_path):
    frames = np.zeros((3, 55), np.float32)
    frames[:, INDEX["jawLeft"]] = 0.7
    frames[:, INDEX["mouthRight"]] = 0.2
    path = tmp_path / "a.csv"
    write_livelink_csv(path, frames, 60)
    rows = [line.split(",") for line in path.read_text().splitlines()]
    assert float(rows[1][rows[0].index("JawLeft")]) == pytest.approx(0.7)
    back, _ = read_livelink_csv(path)
    assert back[0, INDEX["jawLeft"]] == pytest.approx(0.7) and back[0, INDEX["jawRight"]] == 0


def test_malformed_files(tmp_path):
    path = tmp_path / "a.csv"
    write_livelink_csv(path, _frames(5), 60)
    lines = path.read_text().splitlines()
    cases = {
        "missing columns": ",".join(h for h in lines[0].split(",") if h != "JawOpen") + "\n" + "\n".join(",".join(r.split(",")[:-1]) for r in lines[1:]),
        "not a number": lines[0] + "\n" + lines[1].replace(lines[1].split(",")[5], "abc", 1),
        "is nan": lines[0] + "\n" + ",".join(lines[1].split(",")[:5] + ["nan"] + lines[1].split(",")[6:]),
        "fields": lines[0] + "\n" + lines[1] + ",1.0",
        "no frames": lines[0],
    }
    for reason, text in cases.items():
        bad = tmp_path / "bad.csv"
        bad.write_text(text + "\n")
        with pytest.raises(LiveLinkError, match=reason):
            read_livelink_csv(bad)
    with pytest.raises(ValueError):
        write_livelink_csv(path, np.zeros((3, 52)), 60)


def test_timecode():
    assert format_timecode(61, 60) == "00:00:01:01.000"
    assert parse_timecode("00:01:02:15.500", 30) == pytest.approx(62 + 15.5 / 30)
    with pytest.raises(LiveLinkError):
        parse_timecode("1:2", 30)


def test_resample_frames():
    t50 = (np.arange(100) + 0.5) / 50
    ramp = np.stack([t50, np.sin(t50)], axis=1)
    r60 = resample_frames(ramp, 50, 60)
    t60 = (np.arange(120) + 0.5) / 60
    assert r60.shape == (120, 2)
    inner = (t60 > t50[0]) & (t60 < t50[-1])
    assert np.allclose(r60[inner, 0], t60[inner], atol=1e-5)
    back = resample_frames(r60, 60, 50)
    assert back.shape == (100, 2) and np.allclose(back[5:-5], ramp[5:-5], atol=2e-3)
    with pytest.raises(ValueError):
        resample_frames(ramp, 0, 60)


def test_capture_import_pairs_csv_with_wav(tmp_path):
    import soundfile as sf

    from talkface_ros.data.livelink_import import utterance_from_livelink

    t60 = (np.arange(120) + 0.5) / 60  # 2 s at 60 fps: jaw follows a 1 Hz wave
    frames = np.zeros((120, 55), np.float32)
    frames[:, INDEX["jawOpen"]] = 0.5 + 0.4 * np.sin(2 * np.pi * t60)
    write_livelink_csv(tmp_path / "take.csv", frames, 60)
    sf.write(tmp_path / "take.wav", np.zeros(48000 * 2, np.float32), 48000)
    utt = utterance_from_livelink(tmp_path / "take.csv", tmp_path / "take.wav")
    assert utt.audio.dtype == np.int16 and len(utt.audio) == 32000 and utt.frames.shape == (100, 55)
    t50 = (np.arange(100) + 0.5) / 50
    assert np.allclose(utt.frames[5:-5, INDEX["jawOpen"]], 0.5 + 0.4 * np.sin(2 * np.pi * t50[5:-5]), atol=0.01)
    later = utterance_from_livelink(tmp_path / "take.csv", tmp_path / "take.wav", offset_s=0.1)
    assert np.allclose(later.frames[20:60, INDEX["jawOpen"]], utt.frames[15:55, INDEX["jawOpen"]], atol=1e-6)
