"""Synthetic joined tables (readout joined to layout) for the analysis tests: realistic plates, known truth.

Kinase: 33P filter-plate counts, CPM ~ Poisson(bg + (top - bg) * activity). Viability: CellTiter-Glo RLU with
5 % multiplicative (log-normal) noise. Controls sit in the outer columns, 10-point 3-fold series in duplicate
fill the inner columns row by row; wells the layout does not use are 'unassigned' (read, not analysed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from labkit.tables import PLATE_FORMATS, row_letters

KINASE = "kinase_radiometric"
VIABILITY = "cell_viability_ctg"


def joined_table(assay: str = KINASE, *, plates: dict[str, list[str]] | None = None,
                 compounds: dict[str, dict[str, float]] | None = None, fmt: int = 384, top_conc: float = 1e-6,
                 points: int = 10, dilution: float = 3.0, replicates: int = 2, n_vehicle: int = 8, n_low: int = 8,
                 shared_low: bool = False, hill: float = 1.0, bottom: float = 0.0, seed: int = 0,
                 edge: float = 1.0, flagged: dict[tuple[str, str], str] | None = None,
                 zero_dose: bool = False, noise: float = 0.05) -> pd.DataFrame:
    """A joined table; compounds maps name -> {group: IC50 in M}; plates maps plate id -> groups on it."""
    kinase = assay.startswith("kinase")
    gcol, low_role = ("target", "positive") if kinase else ("cell_line", "blank")
    plates = plates or ({"P1": ["TRKA", "ROS1"]} if kinase else {"P1": ["KM12"]})
    compounds = compounds or {"entrectinib": {g: 2e-9 for gs in plates.values() for g in gs}}
    flagged = flagged or {}
    rng = np.random.default_rng(seed)
    nr, nc = PLATE_FORMATS[fmt]
    ctl_cols = [1, nc] if nc <= 12 else [1, 2, nc - 1, nc]
    inner = [c for c in range(1, nc + 1) if c not in ctl_cols]
    top, bg = (20000.0, 400.0) if kinase else (250000.0, 800.0)
    rows = []
    for plate, groups in plates.items():
        ctl_wells = [f"{r}{c}" for c in ctl_cols for r in row_letters(nr)]
        wells: dict[str, dict] = {}
        k = 0
        for g in groups:
            for role, n in (("vehicle", n_vehicle), (low_role, 0 if shared_low else n_low)):
                for _ in range(n):
                    wells[ctl_wells[k]] = dict(role=role, compound="", conc_M=np.nan, point=-1, replicate=0,
                                               group=g, activity=1.0 if role == "vehicle" else 0.0)
                    k += 1
        if shared_low:
            for _ in range(n_low):
                wells[ctl_wells[k]] = dict(role=low_role, compound="", conc_M=np.nan, point=-1, replicate=0,
                                           group="", activity=0.0)
                k += 1
        per_row = len(inner) // points
        slot = 0
        for g in groups:
            for comp, ic50s in compounds.items():
                if g not in ic50s:
                    continue
                for rep in range(1, replicates + 1):
                    r, s = divmod(slot, per_row)
                    slot += 1
                    concs = [top_conc / dilution ** p for p in range(points)]
                    if zero_dose:
                        concs[-1] = 0.0
                    for p, conc in enumerate(concs):
                        col = inner[s * points + p]
                        act = bottom + (1 - bottom) / (1 + (conc / ic50s[g]) ** hill) if conc > 0 else 1.0
                        wells[f"{row_letters(nr)[r]}{col}"] = dict(
                            role="reference" if comp.startswith("ref") else "sample", compound=comp, conc_M=conc,
                            point=p, replicate=rep, group=g, activity=act)
        for r in row_letters(nr):
            for c in range(1, nc + 1):
                well = f"{r}{c}"
                w = wells.get(well) or dict(role="unassigned", compound="", conc_M=np.nan, point=-1, replicate=0,
                                            group="", activity=0.0)
                mean = bg + (top - bg) * w["activity"]
                is_edge = r in (row_letters(nr)[0], row_letters(nr)[-1]) or c in (1, nc)
                mean *= edge if is_edge else 1.0
                mean *= np.exp(rng.normal(0, noise))  # pipetting / cell seeding scatter
                value = float(rng.poisson(mean)) if kinase else float(mean)
                flag = flagged.get((plate, well), "ok")
                rows.append({"plate": plate, "well": well, "row": r, "column": c, "role": w["role"],
                             "compound": w["compound"], "conc_M": w["conc_M"], "point": w["point"],
                             "replicate": w["replicate"], "target": w["group"] if kinase else "",
                             "cell_line": "" if kinase else w["group"], "source": f"{plate}.csv",
                             "value": value if flag == "ok" else np.nan, "unit": "CPM" if kinase else "RLU",
                             "read": "", "flag": flag})
    return pd.DataFrame(rows)
