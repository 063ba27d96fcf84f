"""Nothing is lost: outputs never overwrite the inputs they were made from."""

from __future__ import annotations

from pathlib import Path

from labkit.errors import LabkitError

# files `labkit analyze` writes into its output folder (pictures go to sub-folders)
ANALYSIS_OUTPUTS = ("data.csv", "results.csv", "results.parquet", "qc.csv", "plates.csv", "controls.csv",
                    "report.html", "curves_grid.png")


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:  # pragma: no cover - unresolvable paths cannot be the same file
        return False


def guard_output(output: str | Path, inputs: list[str | Path] | tuple[str | Path, ...]) -> Path:
    """Refuse an output path that is one of the input files (raw data is never overwritten)."""
    out = Path(output)
    for inp in inputs:
        if _same(out, Path(inp)):
            raise LabkitError(f"refusing to write the output over the input {inp}: raw data is never "
                              "overwritten; choose another -o path", file=out)
    return out


def guard_output_dir(out_dir: str | Path, inputs: list[str | Path] | tuple[str | Path, ...],
                     names: tuple[str, ...] = ANALYSIS_OUTPUTS) -> Path:
    """Refuse an output folder where writing `names` would replace one of the input files."""
    out = Path(out_dir)
    for inp in inputs:
        p = Path(inp)
        if any(_same(out / name, p) for name in names):
            raise LabkitError(f"the output folder {out} would overwrite the input {p} (labkit writes "
                              f"{', '.join(names)} there); choose another -o folder", file=p)
    return out
