"""ARKit-52 blendshape names and the face frame layout used on every topic and file."""
from __future__ import annotations

# Apple ARFaceAnchor.BlendShapeLocation, in the canonical order of Unreal's EARFaceBlendShape and the
# Live Link UDP stream. Values are 0 (neutral) .. 1 (max).
ARKIT_NAMES: tuple[str, ...] = (
    "eyeBlinkLeft",
    "eyeLookDownLeft",
    "eyeLookInLeft",
    "eyeLookOutLeft",
    "eyeLookUpLeft",
    "eyeSquintLeft",
    "eyeWideLeft",
    "eyeBlinkRight",
    "eyeLookDownRight",
    "eyeLookInRight",
    "eyeLookOutRight",
    "eyeLookUpRight",
    "eyeSquintRight",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawRight",
    "jawOpen",
    "mouthClose",
    "mouthFunnel",
    "mouthPucker",
    "mouthLeft",
    "mouthRight",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "noseSneerLeft",
    "noseSneerRight",
    "tongueOut",
)
HEAD_POSE_NAMES: tuple[str, ...] = ("headYaw", "headPitch", "headRoll")
# One face frame: 52 blendshape weights in [0, 1], then head yaw/pitch/roll in radians.
FRAME_NAMES: tuple[str, ...] = ARKIT_NAMES + HEAD_POSE_NAMES
NUM_BLENDSHAPES = len(ARKIT_NAMES)
FRAME_SIZE = len(FRAME_NAMES)
INDEX: dict[str, int] = {name: i for i, name in enumerate(FRAME_NAMES)}
# Head rotations are clamped to this range (radians) wherever a frame is published.
HEAD_POSE_LIMIT_RAD = 0.6

assert NUM_BLENDSHAPES == 52 and len(set(FRAME_NAMES)) == FRAME_SIZE


def pascal_case(name: str) -> str:
    """eyeBlinkLeft -> EyeBlinkLeft (Live Link Face CSV column names)."""
    return name[:1].upper() + name[1:]


def sanitize_frames(frames, fallback=None):
    """Clamp face frames ([..., 55]) to their valid ranges; NaN/Inf entries take `fallback` (or 0).
    Everything that publishes or writes a frame goes through this."""
    import numpy as np

    frames = np.array(frames, dtype=np.float32, copy=True)
    bad = ~np.isfinite(frames)
    if bad.any():
        replacement = np.zeros_like(frames) if fallback is None else np.broadcast_to(np.asarray(fallback, np.float32), frames.shape)
        frames[bad] = replacement[bad]
    frames[..., :NUM_BLENDSHAPES] = np.clip(frames[..., :NUM_BLENDSHAPES], 0.0, 1.0)
    frames[..., NUM_BLENDSHAPES:] = np.clip(frames[..., NUM_BLENDSHAPES:], -HEAD_POSE_LIMIT_RAD, HEAD_POSE_LIMIT_RAD)
    return frames
