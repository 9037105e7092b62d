"""Prints the parameter table of every node as Markdown, from the nodes' own declarations
(talkface_ros/nodes/*.py PARAMETERS), for the README. test_readme checks the README lists them all.

  python tools/param_tables.py
"""
from __future__ import annotations

import importlib

NODES = ("audio_capture", "face_inference", "face_retarget", "face_sim", "servo_driver", "face_recorder", "speech")


def table(node: str) -> str:
    module = importlib.import_module(f"talkface_ros.nodes.{node}")
    rows = ["| parameter | default | range / choices | meaning |", "|---|---|---|---|"]
    for spec in module.PARAMETERS:
        default = f"`{spec.default!r}`" if isinstance(spec.default, str) else f"`{spec.default}`"
        if spec.choices:
            limits = " \\| ".join(spec.choices)
        elif spec.min is not None or spec.max is not None:
            limits = f"{spec.min} – {spec.max}"
        else:
            limits = ""
        description = spec.description.replace("|", "\\|") + (" (read-only)" if spec.read_only else "")
        rows.append(f"| `{spec.name}` | {default} | {limits} | {description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    for node in NODES:
        print(f"#### {node}\n\n{table(node)}\n")
