"""Pictures of a plate: a text map for the terminal and a PNG (coloured by role, concentration as shading)."""

from __future__ import annotations

import math
from pathlib import Path

from labkit.layout.experiment import Experiment
from labkit.layout.plate import Well
from labkit.tables import PLATE_FORMATS, row_letters
from labkit.units import si_conc

ROLE_COLOURS = {
    "sample": "#1f77b4", "reference": "#9467bd", "vehicle": "#2ca02c", "positive": "#d62728", "no_enzyme": "#d62728",
    "total_counts": "#ff7f0e", "blank": "#7f7f7f", "kill": "#8c564b", "time_zero": "#e377c2", "buffer": "#c7e9f1",
    "empty": "#ffffff",
}
_ABBREV = {"vehicle": "V", "positive": "P", "no_enzyme": "N", "total_counts": "C", "blank": "B", "kill": "K",
           "time_zero": "T", "buffer": "~", "empty": "."}


TIME_ZERO_NOTE = "time zero: cells read with CellTiter-Glo at dosing, for GR metrics"


def map_plates(exp: Experiment) -> list[str]:
    """The plates a map is drawn for: the assay plates, then a viability layout's time-zero plate (if any)."""
    tz = getattr(exp, "time_zero", None)
    return [p.id for p in exp.plates] + ([tz.plate] if tz is not None else [])


def _plate(exp: Experiment, plate_id: str) -> tuple[int, list[Well], bool]:
    """(format, wells, is the time-zero plate) of an assay plate or of the layout's time-zero plate."""
    from labkit.wells import parse_well

    for p in exp.plates:
        if p.id == plate_id:
            return p.format, exp.wells[p.id], False
    tz = getattr(exp, "time_zero", None)
    if tz is None or tz.plate != plate_id:
        raise KeyError(f"no plate {plate_id!r}; expected one of {map_plates(exp)}")
    fmt = tz.format or exp.plates[0].format
    cells = {}
    for name, line in exp.time_zero_wells():  # type: ignore[attr-defined]  # a viability layout (time_zero set)
        r, c = parse_well(name, fmt)
        cells[(r, c - 1)] = line
    n_rows, n_cols = PLATE_FORMATS[fmt]
    wells = [Well(tz.plate, r, c, "time_zero", cell_line=cells[(r, c)]) if (r, c) in cells else
             Well(tz.plate, r, c, "empty") for r in range(n_rows) for c in range(n_cols)]
    return fmt, wells, True


def text_map(exp: Experiment, plate_id: str) -> str:
    """A plate map for the terminal: series points as numbers (1 = top), controls as letters (the time-zero plate's
    wells as T)."""
    fmt, wells, time_zero = _plate(exp, plate_id)
    n_rows, n_cols = PLATE_FORMATS[fmt]
    grid = [["." for _ in range(n_cols)] for _ in range(n_rows)]
    codes: dict[str, str] = {}
    for w in wells:
        if w.role in ("sample", "reference"):
            code = codes.setdefault(w.compound, "abcdefghijklmnopqrstuvwxyz"[len(codes) % 26])
            grid[w.row][w.col] = f"{code}{w.point + 1}"
        else:
            grid[w.row][w.col] = _ABBREV[w.role]
    width = 3
    what = TIME_ZERO_NOTE if time_zero else exp.assay
    lines = [f"{plate_id} ({fmt}-well, {what})",
             "   " + "".join(f"{c + 1:>{width + 1}}" for c in range(n_cols))]
    for r, letter in enumerate(row_letters(n_rows)):
        groups = sorted({getattr(w, exp.group_kind) for w in wells
                         if w.row == r and exp.group_kind and getattr(w, exp.group_kind)})
        lines.append(f"{letter:>2} " + "".join(f"{cell:>{width + 1}}" for cell in grid[r])
                     + (f"   {', '.join(groups)}" if groups else ""))
    legend = "  ".join(f"{code}N = {name} point N" for name, code in codes.items())
    lines.append(f"legend: {legend}  V vehicle  N no-enzyme  P positive  C total counts  B blank/no cells  K kill  "
                 "T time zero  ~ buffer  . empty")
    return "\n".join(lines)


def plate_png(exp: Experiment, plate_id: str, out: str | Path) -> Path:
    """Write a PNG plate map: colour = role, shade = log concentration, label = target / cell line (plate_id may be
    the layout's time-zero plate: its wells drawn as time zero, titled as such)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Patch

    fmt, wells, time_zero = _plate(exp, plate_id)
    n_rows, n_cols = PLATE_FORMATS[fmt]
    concs = [w.conc for w in wells if w.conc == w.conc and w.conc > 0]
    lo, hi = (math.log10(min(concs)), math.log10(max(concs))) if concs else (0.0, 1.0)
    size = 0.42 if fmt == 96 else 0.26
    fig, ax = plt.subplots(figsize=(1.1 + n_cols * size * 1.0, 1.0 + n_rows * size * 1.0), dpi=110)
    for w in wells:
        base = to_rgb(ROLE_COLOURS[w.role])
        if w.role in ("sample", "reference") and hi > lo:
            t = (math.log10(w.conc) - lo) / (hi - lo)  # 1 = top concentration
            shade = 0.25 + 0.75 * t
            colour = tuple(1 - shade * (1 - ch) for ch in base)
        else:
            colour = base
        ax.add_patch(plt.Circle((w.col, w.row), 0.42, facecolor=colour, edgecolor="#555555", linewidth=0.5))
        if fmt == 96 and w.role in ("vehicle", "positive", "no_enzyme", "blank", "kill", "total_counts",
                                         "time_zero"):
            ax.text(w.col, w.row, _ABBREV[w.role], ha="center", va="center", fontsize=7, color="white")
    # group labels at the right edge of each row
    if exp.group_kind:
        for r in range(n_rows):
            groups = sorted({getattr(w, exp.group_kind) for w in wells if w.row == r and getattr(w, exp.group_kind)})
            if groups:
                ax.text(n_cols - 0.3, r, " " + ", ".join(groups), va="center", fontsize=7 if fmt == 96 else 5)
    ax.set_xlim(-0.6, n_cols + (2.2 if exp.group_kind else -0.4))
    ax.set_ylim(n_rows - 0.4, -0.6)
    ax.set_aspect("equal")
    fs = 7 if fmt == 96 else 5
    ax.set_xticks(range(n_cols), [str(c + 1) for c in range(n_cols)], fontsize=fs)
    ax.set_yticks(range(n_rows), row_letters(n_rows), fontsize=fs)
    ax.tick_params(length=0, labeltop=True, labelbottom=False)
    for s in ax.spines.values():
        s.set_visible(False)
    present = [r for r in ROLE_COLOURS if any(w.role == r for w in wells)]
    handles = [Patch(facecolor=ROLE_COLOURS[r], edgecolor="#555555", label=r) for r in present]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=len(handles), fontsize=7,
              frameon=False)
    top = si_conc(10**hi) if concs else ""
    bottom = si_conc(10**lo) if concs else ""
    title = f"{exp.name} — plate {plate_id}"
    if time_zero:
        title = f"{exp.name} — time-zero plate {plate_id}\n({TIME_ZERO_NOTE})"
    if concs:
        title += f"  (darker = higher conc., {bottom} … {top})"
    ax.set_title(title, fontsize=9, pad=14)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from labkit.safety import atomic_path

    with atomic_path(out) as tmp:  # a failed or interrupted save leaves no half-written PNG
        fig.savefig(tmp, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return out
