"""Conversions between numpy arrays and the message types on our topics."""
from __future__ import annotations

import array

import numpy as np
from std_msgs.msg import Int16MultiArray, MultiArrayDimension


def pcm_to_msg(samples: np.ndarray) -> Int16MultiArray:
    msg = Int16MultiArray()
    samples = np.ascontiguousarray(samples, dtype=np.int16)
    msg.layout.dim = [MultiArrayDimension(label="samples", size=len(samples), stride=len(samples))]
    msg.data = array.array("h", samples.tobytes())
    return msg


def msg_to_pcm(msg: Int16MultiArray) -> np.ndarray:
    data = msg.data
    if isinstance(data, array.array):
        return np.frombuffer(data, dtype=np.int16).copy()
    return np.asarray(data, dtype=np.int16)
