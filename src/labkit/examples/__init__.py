"""The example layouts, shipped inside the package (copies of the repository's layouts/, kept equal by a test).

`labkit init DIR` writes them into DIR/layouts; `labkit demo` uses them when there is no checkout's layouts/.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def examples_dir() -> Path:
    """The folder of the installed example layouts (*.yaml)."""
    return Path(str(files(__name__)))


def example_layouts() -> list[Path]:
    """The example layout files, sorted by name."""
    return sorted(examples_dir().glob("*.yaml"))


def write_examples(folder: str | Path, *, force: bool = False) -> list[Path]:
    """Copy the example layouts into folder/layouts; returns the files written.

    Args:
        folder: the project folder (created if needed).
        force: replace layouts that already exist there.

    Returns:
        The paths written.

    Raises:
        LabkitError: a layout of the same name exists and force is False (nothing is written then).
    """
    from labkit.api import write_atomic
    from labkit.errors import LabkitError

    out = Path(folder) / "layouts"
    sources = example_layouts()
    clash = [out / p.name for p in sources if (out / p.name).exists()]
    if clash and not force:
        raise LabkitError(f"{', '.join(str(c) for c in clash)} already exist(s); nothing written (use --force to "
                          "replace them)", file=clash[0])
    return [write_atomic(out / p.name, p.read_text(encoding="utf-8")) for p in sources]
