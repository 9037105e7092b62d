"""The package's layers, as a test: a module imports only from its own package or from lower layers (lazy
imports inside functions count too). Command-line front ends (cli.py, *_cli.py, <package>/cli.py) sit on top
and may import anything.

    paths, process                      the checkout and process plumbing
    audio, hardware                     PCM, WAV, resampling; serial servo buses and their emulators
    face                                ARKit frames, the face description, visemes, emotions
    model, sim, selfmodel               the online model at run time; the MuJoCo face; the self-model
    data                                corpus synthesis and alignment (uses the model's front end)
    training                            model.train, model.data, model.adapt: training reads the corpus
    eval, speech                        metrics and eval sets; the speaking robot's core
    nodes                               ROS 2 nodes (the only rclpy users) and the graph they form
    demo, cli                           the demo (runs the node graph); `talkface`
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "talkface_ros"

LAYERS: list[set[str]] = [
    {"paths", "process", "__init__"},
    {"audio", "hardware"},
    {"face"},
    {"model", "sim", "selfmodel"},
    {"data"},
    {"training"},
    {"eval", "speech"},
    {"nodes"},
    {"demo", "cli"},
]
TRAINING_MODULES = {"model.train", "model.data", "model.adapt"}
# sim and selfmodel share a layer: the self-model is calibrated in the sim, the sim is driven through the
# self-model; the only imports between them are in the self-model's calibration, which drives a sim it is given
SAME_LAYER_ALLOWED = {("selfmodel", "sim")}


def unit_of(module: str) -> str:
    """talkface_ros-relative dotted name -> its layer unit (the subpackage, or 'training')."""
    if module in TRAINING_MODULES or any(module.startswith(m + ".") for m in TRAINING_MODULES):
        return "training"
    return module.split(".")[0]


def layer_of(unit: str) -> int:
    return next(i for i, units in enumerate(LAYERS) if unit in units)


def is_front_end(path: Path) -> bool:
    return path.name == "cli.py" or path.name.endswith("_cli.py")


def imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("talkface_ros."):
            found.append((node.lineno, node.module.removeprefix("talkface_ros.")))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name.removeprefix("talkface_ros.")) for a in node.names
                      if a.name.startswith("talkface_ros.")]
    return found


def test_every_module_has_a_layer():
    units = {unit_of(".".join(p.relative_to(PACKAGE).with_suffix("").parts)) for p in PACKAGE.rglob("*.py")}
    unknown = {u for u in units if not any(u in layer for layer in LAYERS)}
    assert not unknown, f"add these to LAYERS: {unknown}"


def test_no_module_imports_from_a_higher_layer():
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if is_front_end(path):
            continue
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        unit = unit_of(module)
        for line, target in imports(path):
            other = unit_of(target)
            if other == unit or (unit, other) in SAME_LAYER_ALLOWED:
                continue
            if layer_of(other) >= layer_of(unit):
                violations.append(f"{path.relative_to(PACKAGE)}:{line} ({unit}) imports {target} ({other})")
    assert not violations, "\n".join(violations)


def test_rclpy_only_under_nodes():
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] == "nodes":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] in ("rclpy", "launch", "launch_ros") for n in names), path
