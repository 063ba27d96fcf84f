"""Real readout files for store tests without the simulator: the virtual reader on a layout's ideal wells.

The wells hold what the layout says (the simulator's ledger agrees for the seed layouts; tests/test_demo.py
proves that chain); the virtual reader writes a real EnVision CSV / MicroBeta2 export, which `analyze_files`
reads, joins, normalizes and fits like any instrument file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
VIABILITY = ROOT / "layouts" / "viability_km12.yaml"
KINASE = ROOT / "tests" / "data" / "kinase" / "kinase_one_plate_2nM.yaml"


def ideal_wells(exp) -> pd.DataFrame:
    """The final-wells frame the virtual reader takes, from the layout alone."""
    w = exp.wells_table()
    kinase = exp.assay == "kinase_radiometric"
    low = "no_enzyme" if kinase else "blank"
    active = w["role"].isin(["sample", "reference", "vehicle"]) | (w["role"].eq("minimum") if kinase else False)
    group = w["target"] if kinase else w["cell_line"]
    return pd.DataFrame({"plate": w["plate"], "well": w["well"], "group": group,
                         "conc_M": w["conc_M"].fillna(0.0), "active": active & ~w["role"].eq(low),
                         "filled": ~w["role"].eq("empty")})


def write_readout(layout: Path, out: Path, seed: int, *, shift: float = 1.0) -> Path:
    """A real instrument file for layout with the virtual reader's noise seed (shift scales the true IC50s)."""
    from labkit.layout.io import load_experiment
    from labkit.readout.writers import write_luminescence, write_microbeta
    from labkit.virtual import TRUE_IC50, simulate_readout

    exp = load_experiment(layout)
    truth = {k: v * shift for k, v in TRUE_IC50.items()}
    values = simulate_readout(ideal_wells(exp), exp.assay, seed=seed, pipetting_cv=0.02, truth=truth)
    out.parent.mkdir(parents=True, exist_ok=True)
    fmt = exp.plates[0].format
    if exp.assay == "kinase_radiometric":
        return write_microbeta(values, out.with_suffix(".txt"), plate_format=fmt)
    return write_luminescence(values, out.with_suffix(".csv"), plate_format=fmt)


def analysis(layout: Path, out: Path, seed: int, *, shift: float = 1.0, experiment: bool = False):
    """(AnalysisResult, readout path) of one virtual run: the file read, joined to the layout and analyzed
    (experiment=True: with the layout, so the kind adds what it knows, e.g. the kinase Morrison Ki_app)."""
    from labkit.analysis.pipeline import analyze_joined
    from labkit.layout.io import load_experiment
    from labkit.readout import read
    from labkit.readout.join import join_layout

    readout = write_readout(layout, out / f"{layout.stem}_seed{seed}_x{shift:g}", seed, shift=shift)
    exp = load_experiment(layout)
    return analyze_joined(join_layout(read(readout), exp.wells_table(), source=str(readout)), exp.assay,
                          experiment=exp if experiment else None), readout
