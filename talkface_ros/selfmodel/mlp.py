"""A small MLP for the runtime (numpy only) and its weights in safetensors: layers `{prefix}.{i}.weight`
[out, in] and `{prefix}.{i}.bias`, SiLU between layers, an optional sigmoid at the end."""
from __future__ import annotations

import numpy as np


class NumpyMLP:
    def __init__(self, weights: list[tuple[np.ndarray, np.ndarray]], sigmoid_output: bool = False) -> None:
        self.weights = [(np.ascontiguousarray(w.T, dtype=np.float32), b.astype(np.float32)) for w, b in weights]
        self.sigmoid_output = sigmoid_output

    @classmethod
    def from_tensors(cls, tensors: dict[str, np.ndarray], prefix: str, sigmoid_output: bool = False) -> "NumpyMLP":
        layers = []
        i = 0
        while f"{prefix}.{i}.weight" in tensors:
            layers.append((tensors[f"{prefix}.{i}.weight"], tensors[f"{prefix}.{i}.bias"]))
            i += 1
        if not layers:
            raise ValueError(f"no layers named {prefix}.N.weight in the calibration file")
        return cls(layers, sigmoid_output)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        h = np.asarray(x, dtype=np.float32)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(self.weights):
            h = h @ w + b
            if i < last:
                h = h / (1.0 + np.exp(-h))
        if self.sigmoid_output:
            h = 1.0 / (1.0 + np.exp(-h))
        return h
