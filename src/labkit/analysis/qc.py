"""Plate QC from the on-plate controls: Z' (Zhang et al. 1999), signal/background, CV of each control group.

Z' = 1 - 3 (sd_vehicle + sd_low) / |mean_vehicle - mean_low|, where the low control is the no-enzyme
(positive) well of a kinase assay or the no-cell blank of a viability assay. One row per plate and target /
cell line, computed from exactly the control wells that normalization used; a plate is flagged when Z' < 0.5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from labkit.analysis.normalize import Normalized

Z_PRIME_MIN = 0.5
MIN_CONTROLS = 3


def z_prime(mean_high: float, sd_high: float, mean_low: float, sd_low: float) -> float:
    """Zhang's Z' factor from the means and SDs of the two control groups (NaN when undefined)."""
    window = abs(mean_high - mean_low)
    if not np.isfinite(window) or window == 0 or not np.isfinite(sd_high) or not np.isfinite(sd_low):
        return float("nan")
    return float(1.0 - 3.0 * (sd_high + sd_low) / window)


def _cv(mean: float, sd: float) -> float:
    return float(100.0 * sd / abs(mean)) if np.isfinite(sd) and mean else float("nan")


def control_qc(norm: Normalized) -> pd.DataFrame:
    """One QC row per plate x target / cell line: n, mean, CV % of each control, S/B, Z', scope and flags."""
    gcol, low = norm.spec.group_col, norm.spec.low_role
    ctl = norm.controls
    name = low or "low"  # no 0 % control (a fitted bottom): the low columns stay empty and Z' is not defined
    cols = ["plate", gcol, "controls", "vehicle_n", "vehicle_mean", "vehicle_cv_pct", f"{name}_n", f"{name}_mean",
            f"{name}_cv_pct", "controls_excluded", "signal_background", "z_prime", "flags"]
    rows = []
    for (plate, group), sub in ctl.groupby(["plate", gcol], sort=True):
        by = {r["role"]: r for r in sub.to_dict("records")}
        if "vehicle" not in by or (low and low not in by):
            continue
        if not low:
            hi = by["vehicle"]
            rows.append({"plate": plate, gcol: group, "controls": "own" if hi["scope"] == "group" else
                         "plate-shared vehicle", "vehicle_n": int(hi["n"]), "vehicle_mean": hi["mean"],
                         "vehicle_cv_pct": _cv(hi["mean"], hi["sd"]), f"{name}_n": 0, f"{name}_mean": float("nan"),
                         f"{name}_cv_pct": float("nan"), "controls_excluded": int(hi["n_excluded"]),
                         "signal_background": float("nan"), "z_prime": float("nan"),
                         "flags": "no_0%_control(Z'_not_defined)"})
            continue
        hi, lo = by["vehicle"], by[low]
        zp = z_prime(hi["mean"], hi["sd"], lo["mean"], lo["sd"])
        sb = float(hi["mean"] / lo["mean"]) if lo["mean"] > 0 else float("nan")
        flags = []
        if not np.isfinite(zp) or zp < Z_PRIME_MIN:
            flags.append(f"z_prime<{Z_PRIME_MIN:g}")
        if min(hi["n"], lo["n"]) < MIN_CONTROLS:
            flags.append("too_few_controls")
        if hi["mean"] <= lo["mean"]:
            flags.append("inverted_window")
        n_exc = int(hi["n_excluded"] + lo["n_excluded"])
        if n_exc:
            flags.append(f"controls_excluded:{n_exc}")
        scope = "own" if hi["scope"] == lo["scope"] == "group" else "plate-shared " + "+".join(
            r for r, st in (("vehicle", hi), (low, lo)) if st["scope"] == "plate")
        rows.append({"plate": plate, gcol: group, "controls": scope,
                     "vehicle_n": int(hi["n"]), "vehicle_mean": hi["mean"], "vehicle_cv_pct": _cv(hi["mean"], hi["sd"]),
                     f"{low}_n": int(lo["n"]), f"{low}_mean": lo["mean"], f"{low}_cv_pct": _cv(lo["mean"], lo["sd"]),
                     "controls_excluded": n_exc, "signal_background": sb, "z_prime": zp, "flags": ";".join(flags)})
    return pd.DataFrame(rows, columns=cols)


def plate_summary(data: pd.DataFrame, qc: pd.DataFrame) -> pd.DataFrame:
    """One row per plate: wells read, wells excluded by flag, unassigned wells, worst Z' and whether it passes."""
    rows = []
    for plate, sub in data.groupby("plate", sort=True):
        exc = sub["excluded"]
        zq = qc.loc[qc["plate"] == plate, "z_prime"].to_numpy(float)
        zmin = float(np.nanmin(zq)) if zq.size and np.isfinite(zq).any() else float("nan")
        rows.append({"plate": plate, "wells": int(len(sub)), "ok": int((exc == "").sum()),
                     "overflow": int((exc == "overflow").sum()), "missing": int((exc == "missing").sum()),
                     "invalid": int((exc == "invalid").sum()),
                     "excluded_other": int((~exc.isin(["", "overflow", "missing", "invalid"])).sum()),
                     "unassigned": int((sub["role"] == "unassigned").sum()),
                     "groups": int(zq.size), "z_prime_min": zmin,
                     # a time-zero plate (GR metrics) holds cells only: no controls, nothing to pass or fail
                     "qc_pass": bool((zq.size and np.isfinite(zq).all() and (zq >= Z_PRIME_MIN).all())
                                     or (sub["role"] == "time_zero").all())})
    return pd.DataFrame(rows, columns=["plate", "wells", "ok", "overflow", "missing", "invalid", "excluded_other",
                                       "unassigned", "groups", "z_prime_min", "qc_pass"])
