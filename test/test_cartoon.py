import numpy as np

from talkface_ros.face.arkit import FRAME_SIZE, INDEX
from talkface_ros.face.cartoon import MOUTH_INSIDE, draw_face


def frame(**weights):
    values = np.zeros(FRAME_SIZE, dtype=np.float32)
    for name, weight in weights.items():
        values[INDEX[name]] = weight
    return values


def dark_mouth_pixels(image) -> int:
    pixels = np.asarray(image).astype(int)
    return int((np.abs(pixels - np.array(MOUTH_INSIDE)).sum(axis=2) < 40).sum())


def test_open_jaw_shows_the_inside_of_the_mouth_and_closed_lips_do_not():
    closed = dark_mouth_pixels(draw_face(frame(jawOpen=0.0, mouthClose=0.0), 200))
    opened = dark_mouth_pixels(draw_face(frame(jawOpen=0.8), 200))
    assert opened > 3 * max(closed, 1)


def test_blink_hides_the_eyes_and_nan_does_not_crash():
    def eye_white(image) -> int:  # white pixels in the band of the eyes (the background is (245, 245, 250))
        band = np.asarray(image)[70:100]
        return int((band.min(axis=2) >= 252).sum())

    assert eye_white(draw_face(frame(), 200)) > 2 * max(1, eye_white(draw_face(frame(eyeBlinkLeft=1.0, eyeBlinkRight=1.0), 200)))
    garbage = np.full(FRAME_SIZE, np.nan, dtype=np.float32)
    assert draw_face(garbage, 100).size == (100, 100)
