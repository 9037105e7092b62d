"""A 2-D face drawn straight from an ARKit frame: what the blendshape stream says, before any robot.
Used by `talkface render` beside the simulated robot face."""
from __future__ import annotations

import math

import numpy as np

from talkface_ros.face.arkit import INDEX

SKIN = (236, 200, 170)
LINE = (60, 40, 30)
LIP = (170, 70, 70)
MOUTH_INSIDE = (70, 20, 25)
TEETH = (245, 245, 235)


def _w(frame: np.ndarray, *names: str) -> float:
    return float(np.mean([frame[INDEX[n]] for n in names]))


def _mouth_outline(frame: np.ndarray, cx: float, cy: float, s: float) -> tuple[list, list]:
    """Upper and lower lip lines (left to right) in pixels."""
    smile = _w(frame, "mouthSmileLeft", "mouthSmileRight")
    frown = _w(frame, "mouthFrownLeft", "mouthFrownRight")
    stretch = _w(frame, "mouthStretchLeft", "mouthStretchRight")
    round_ = max(_w(frame, "mouthFunnel"), _w(frame, "mouthPucker"))
    jaw = _w(frame, "jawOpen")
    close = _w(frame, "mouthClose")
    press = _w(frame, "mouthPressLeft", "mouthPressRight")
    upper_up = _w(frame, "mouthUpperUpLeft", "mouthUpperUpRight")
    lower_down = _w(frame, "mouthLowerDownLeft", "mouthLowerDownRight")
    shift = (_w(frame, "mouthRight") - _w(frame, "mouthLeft")) * 0.15 * s
    half_width = s * (0.17 + 0.06 * smile + 0.05 * stretch - 0.08 * round_ - 0.02 * press)
    opening = max(0.0, jaw - close) * 0.28 * s + lower_down * 0.06 * s + upper_up * 0.04 * s
    opening *= 1.0 - 0.5 * press
    opening = max(opening, round_ * 0.10 * s * (1.0 - close))
    corner_lift = (smile - frown) * 0.10 * s
    upper, lower = [], []
    for i in range(21):
        u = -1.0 + i / 10.0
        x = cx + shift + u * half_width
        bulge = (1.0 - u * u)
        roundness = (1.0 - u * u) ** (1.0 - 0.5 * round_)
        top = cy - corner_lift * u * u - upper_up * 0.03 * s * bulge - 0.015 * s * bulge
        bottom = cy - corner_lift * u * u + opening * roundness + 0.015 * s * bulge
        upper.append((x, top))
        lower.append((x, bottom))
    return upper, lower


def draw_face(frame: np.ndarray, size: int = 360):
    """A PIL image of the face for one 55-value frame."""
    from PIL import Image, ImageDraw

    frame = np.nan_to_num(np.asarray(frame, dtype=np.float32))
    scale = 4  # draw big, then downsample: cheap anti-aliasing
    big = size * scale
    image = Image.new("RGB", (big, big), (245, 245, 250))
    draw = ImageDraw.Draw(image)
    s = big * 0.8
    cx, cy = big / 2, big / 2
    cx += frame[INDEX["headYaw"]] * 0.35 * s
    cy += frame[INDEX["headPitch"]] * 0.35 * s
    jaw = _w(frame, "jawOpen")
    jaw_drop = jaw * 0.10 * s
    draw.ellipse([cx - 0.36 * s, cy - 0.46 * s, cx + 0.36 * s, cy + 0.44 * s + jaw_drop], fill=SKIN, outline=LINE, width=scale * 2)
    for side, sign in (("Left", -1), ("Right", 1)):
        ex, ey = cx + sign * 0.14 * s, cy - 0.10 * s
        blink = _w(frame, f"eyeBlink{side}")
        wide = _w(frame, f"eyeWide{side}")
        squint = _w(frame, f"eyeSquint{side}")
        half_h = 0.05 * s * (1.0 + 0.5 * wide - 0.4 * squint) * (1.0 - 0.95 * blink)
        if half_h < 0.006 * s:  # shut: just the lid line
            draw.line([(ex - 0.07 * s, ey), (ex + 0.07 * s, ey)], fill=LINE, width=scale * 2)
        else:
            draw.ellipse([ex - 0.07 * s, ey - half_h, ex + 0.07 * s, ey + half_h],
                         fill=(255, 255, 255), outline=LINE, width=scale * 2)
        if half_h > 0.01 * s:
            look_x = (_w(frame, f"eyeLookOut{side}") - _w(frame, f"eyeLookIn{side}")) * sign * 0.03 * s
            look_y = (_w(frame, f"eyeLookDown{side}") - _w(frame, f"eyeLookUp{side}")) * 0.02 * s
            r = min(0.03 * s, half_h)
            draw.ellipse([ex + look_x - r, ey + look_y - r, ex + look_x + r, ey + look_y + r], fill=(60, 90, 120))
        brow_up = _w(frame, "browInnerUp") * 0.5 + _w(frame, f"browOuterUp{side}") * 0.5
        brow_down = _w(frame, f"browDown{side}")
        inner_y = ey - 0.10 * s - (_w(frame, "browInnerUp") - brow_down) * 0.10 * s
        outer_y = ey - 0.10 * s - (_w(frame, f"browOuterUp{side}") - 0.3 * brow_down) * 0.10 * s - 0.01 * s * brow_up
        draw.line([(ex - sign * 0.06 * s, inner_y), (ex + sign * 0.08 * s, outer_y)], fill=LINE, width=scale * 5)
    sneer = _w(frame, "noseSneerLeft", "noseSneerRight")
    nose_y = cy + 0.08 * s - sneer * 0.02 * s
    draw.line([(cx, cy - 0.02 * s), (cx - 0.03 * s, nose_y), (cx + 0.03 * s, nose_y)], fill=LINE, width=scale * 2)
    cheek = _w(frame, "cheekSquintLeft", "cheekSquintRight") + 0.5 * _w(frame, "mouthSmileLeft", "mouthSmileRight")
    if cheek > 0.05:
        for sign in (-1, 1):
            x0 = cx + sign * 0.22 * s
            draw.ellipse([x0 - 0.05 * s, cy + 0.08 * s - 0.03 * s, x0 + 0.05 * s, cy + 0.08 * s + 0.03 * s],
                         fill=(230, 160, 150) if cheek > 0.3 else (234, 180, 160))
    upper, lower = _mouth_outline(frame, cx, cy + 0.20 * s + jaw_drop * 0.5, s)
    draw.polygon(upper + lower[::-1], fill=MOUTH_INSIDE)
    gap = np.mean([b[1] - a[1] for a, b in zip(upper, lower)])
    if gap > 0.06 * s:
        teeth_bottom = [(x, min(y + 0.035 * s, by)) for (x, y), (_, by) in zip(upper[5:16], lower[5:16])]
        draw.polygon(upper[5:16] + teeth_bottom[::-1], fill=TEETH)
    draw.line(upper, fill=LIP, width=scale * 6, joint="curve")
    draw.line(lower, fill=LIP, width=scale * 7, joint="curve")
    roll = math.degrees(float(frame[INDEX["headRoll"]]))
    if abs(roll) > 0.1:
        image = image.rotate(roll, resample=Image.BICUBIC, fillcolor=(245, 245, 250))
    return image.resize((size, size), Image.LANCZOS)
