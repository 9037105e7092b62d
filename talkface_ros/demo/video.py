"""Writing an MP4 with its audio through ffmpeg (a pipe of raw RGB frames)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np


class VideoWriterError(RuntimeError):
    pass


class VideoWriter:
    """`with VideoWriter(path, width, height, fps, audio_wav) as video: video.write(rgb_uint8)`."""

    def __init__(self, path: str | Path, width: int, height: int, fps: float, audio_wav: str | Path | None = None) -> None:
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            raise VideoWriterError("ffmpeg is not installed (apt-get install ffmpeg)")
        self.path, self.width, self.height = Path(path), width, height
        self.path.parent.mkdir(parents=True, exist_ok=True)
        command = [ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                   "-s", f"{width}x{height}", "-r", f"{fps}", "-i", "-"]
        if audio_wav is not None:
            command += ["-i", str(audio_wav), "-c:a", "aac", "-b:a", "96k", "-shortest"]
        command += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(self.path)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, rgb: np.ndarray) -> None:
        rgb = np.asarray(rgb, dtype=np.uint8)
        if rgb.shape != (self.height, self.width, 3):
            raise ValueError(f"frame shape {rgb.shape} != {(self.height, self.width, 3)}")
        self._process.stdin.write(rgb.tobytes())

    def close(self) -> None:
        self._process.stdin.close()
        if self._process.wait() != 0:
            raise VideoWriterError(f"ffmpeg failed: {self._process.stderr.read().decode()[-500:]}")

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        else:
            self._process.kill()
