"""Benchmark: labkit's DEFAULT fit on real curves, the CTRP v2 40 uM viability subset, against CurveCurator.

1,246 CellTiter-Glo curves (17 points: vehicle + 16 doses, 1.2 nM .. 40 uM) with CurveCurator 0.6's published
4-parameter fits (../shared/data/ctrp40 beside the repository; see its README). Viabilities are fractions of vehicle,
fitted here as % (x 100) with labkit's defaults for normalised data (labkit.analysis.models.fit_model: bounds,
model selection). Curve names that occur twice in the input are left out of the comparison (CurveCurator's table
has one row per name, so which curve it describes is ambiguous).
Goals (issue 11): >= 90 % of CurveCurator's regulated curves within 0.1 pIC50, < 1 % not converged, no unflagged
curve with an asymptote outside [-50 %, 150 %]. Also printed: drc-style unbounded LL.4, and defaults + ROUT.
Run: .venv/bin/python benchmarks/bench_ctrp.py
"""

from __future__ import annotations

import collections
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

CTRP = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ctrp40"
DOSES_UM = np.array([0, 0.0012, 0.0024, 0.0049, 0.0097, 0.019, 0.039, 0.078, 0.16, 0.31, 0.62, 1.2, 2.5, 5.0, 10.0,
                     20.0, 40.0])
GOAL_WITHIN = 0.90
GOAL_NOT_CONVERGED = 0.01


def load(path: Path = CTRP) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, np.ndarray]:
    """(conc M, % viability, CurveCurator's row per curve, comparable-and-regulated mask)."""
    curves = pd.read_csv(path / "dose_responses_40.0.tsv", sep="\t")
    published = pd.read_csv(path / "curvecurator_published_curves.tsv", sep="\t").set_index("Name")
    y = curves[[f"Raw {i}" for i in range(17)]].to_numpy(float) * 100.0
    x = np.tile(DOSES_UM * 1e-6, (len(y), 1))
    cc = published.reindex(curves["Name"])
    regulated = cc["Curve Regulation"].isin(["down", "up"]).to_numpy() & ~curves["Name"].duplicated(keep=False).to_numpy()
    return x, y, cc, regulated


def figures(res, cc: pd.DataFrame, regulated: np.ndarray) -> dict:
    """The issue's three figures for one FitResults."""
    dp = np.abs(res.pic50 - cc["pEC50"].to_numpy())[regulated]
    flags = np.asarray(res.flags)
    asym = res.params[:, 1:3]
    outside = (((asym < -50) | (asym > 150)) & np.isfinite(asym)).any(axis=1)
    return {"within": float(np.mean(dp < 0.1)), "median": float(np.nanmedian(dp)),
            "not_converged": float(np.mean(["not_converged" in f for f in flags])),
            "unflagged_outside": int((outside & (flags == "")).sum()), "n_regulated": int(regulated.sum())}


def main() -> int:
    """Print the figures per setting; 1 when the defaults miss a goal (0 when the data are absent)."""
    from labkit.analysis.models import fit_model

    if not CTRP.is_dir():
        print(f"CTRP data not found at {CTRP.resolve()}; skipped")
        return 0
    x, y, cc, regulated = load()
    print(f"CTRP v2 40 uM subset: {len(y)} curves, {regulated.sum()} regulated by CurveCurator (unique names)")
    ok = True
    for label, kw in (("labkit defaults (auto model, bounded)", {}),
                      ("defaults + ROUT outliers (Q = 1 %)", {"outlier_q": 0.01}),
                      ("drc LL.4 unbounded (--model ll4 --unbounded)", {"model": "ll4", "unbounded": True})):
        t = time.perf_counter()
        res = fit_model(x, y, **kw)
        t = time.perf_counter() - t
        f = figures(res, cc, regulated)
        print(f"  {label}: within 0.1 pIC50 {f['within']:.1%} (median |d| {f['median']:.3f}), not converged "
              f"{f['not_converged']:.1%}, unflagged asymptote outside [-50, 150] %: {f['unflagged_outside']}; "
              f"{len(y) / t:,.0f} curves/s")
        if res.models is not None and kw == {}:
            print("    models: " + ", ".join(f"{k} {v}" for k, v in collections.Counter(res.models).most_common()))
            ok = (f["within"] >= GOAL_WITHIN and f["not_converged"] < GOAL_NOT_CONVERGED
                  and f["unflagged_outside"] == 0)
    print(f"goals (defaults: >= {GOAL_WITHIN:.0%} within 0.1, < {GOAL_NOT_CONVERGED:.0%} not converged, no unflagged "
          f"asymptote outside): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
