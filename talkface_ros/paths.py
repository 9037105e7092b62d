"""Where the package's data lives, for a source checkout, `pip install .` and `colcon build` alike."""
from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

PACKAGE = "talkface_ros"
PACKAGE_DIR = Path(__file__).resolve().parent


def _is_share_dir(path: Path) -> bool:
    return (path / "package.xml").is_file() and (path / "config").is_dir()


@lru_cache(maxsize=1)
def share_dir() -> Path:
    """The folder holding package.xml, config/, launch/ and urdf/.

    Looked up in this order: $TALKFACE_SHARE_DIR; the source checkout this module was imported from
    (editable installs); the ament index (colcon / ROS installs); <prefix>/share/talkface_ros (pip).
    """
    candidates: list[Path] = []
    if os.environ.get("TALKFACE_SHARE_DIR"):
        candidates.append(Path(os.environ["TALKFACE_SHARE_DIR"]))
    candidates.append(PACKAGE_DIR.parent)
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

        try:
            candidates.append(Path(get_package_share_directory(PACKAGE)))
        except PackageNotFoundError:
            pass
    except ImportError:
        pass
    candidates.append(Path(sys.prefix) / "share" / PACKAGE)
    for candidate in candidates:
        if _is_share_dir(candidate):
            return candidate
    raise FileNotFoundError(
        f"cannot find the {PACKAGE} share directory (package.xml + config/); looked in: "
        + ", ".join(str(c) for c in candidates)
        + ". Set TALKFACE_SHARE_DIR to the package's share folder."
    )


def config_path(name: str) -> Path:
    return share_dir() / "config" / name


def models_dir() -> Path:
    """The shipped trained models (package data inside the Python package)."""
    return PACKAGE_DIR / "models"


def assets_dir() -> Path:
    """Small bundled inputs (the demo speech clip)."""
    return PACKAGE_DIR / "assets"


class OutputPathError(OSError):
    """An output path a command cannot write; the message is one line for the user."""


def prepare_output_file(path: str | os.PathLike) -> Path:
    """Check, before any work, that a command can write the file `path`: missing parent folders are created
    (like `mkdir -p`), an existing folder or an unwritable location raises OutputPathError with the reason."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise OutputPathError(f"{target} is a directory; give a file name, e.g. {target / 'out'}")
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a component of the parent path is a file
        raise OutputPathError(f"cannot create {parent}: a file is in the way") from None
    except OSError as error:
        raise OutputPathError(f"cannot create {parent}: {error.strerror or error}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputPathError(f"cannot write into {parent}: permission denied")
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputPathError(f"cannot overwrite {target}: permission denied")
    return target
