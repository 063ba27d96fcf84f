"""Kinase-specific analysis: Morrison (tight-binding) Ki_app with a 95 % CI given the layout's active [E], Ki by
Cheng–Prusoff for ATP-competitive inhibitors, the `tight_binding` flag on the LL.4 IC50, and % ATP conversion in
the vehicle wells from the total-counts wells (linear-range check, > 15 % flagged).

Added to an AnalysisResult by `augment(result, exp)` (labkit.analysis.pipeline calls the kind's `augment` when it
knows the experiment). Sources: Morrison 1969; Copeland 2013 ch. 7 (tight binding, IC50 = Ki_app + [E]/2);
Cheng & Prusoff 1973; NCBI Assay Guidance Manual, "Assay Development for Protein Kinase Enzymes" (initial-velocity
conditions, ≤ 10–15 % substrate conversion).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ENZYME_ERROR = 0.2  # log-scale SD of the active [E] (a kinase lot's active fraction is rarely known better than ±20 %)
KI_COLUMNS = ["enzyme_M", "ki_app_M", "ki_app_ci_low_M", "ki_app_ci_high_M", "ki_app_nM", "ki_app_ci_low_nM",
              "ki_app_ci_high_nM", "atp_M", "km_atp_M", "ki_M", "ki_ci_low_M", "ki_ci_high_M", "ki_nM", "ki_ci_low_nM",
              "ki_ci_high_nM", "tight_binding", "morrison_flags"]
CONVERSION_COLUMNS = ["plate", "target", "vehicle_mean", "total_counts_mean", "no_enzyme_mean", "spotted_fraction",
                      "atp_conversion_pct", "flags"]


def augment(result, exp) -> None:
    """Add Morrison / Cheng–Prusoff columns and the tight_binding flag to result.results, and the % ATP conversion
    table (result.conversion) with its notes."""
    from labkit.analysis.morrison import fit_morrison_table, tight_binding

    res = result.results
    if res.empty:
        return
    targets = {t.name: t for t in exp.targets}
    data = result.data
    ok = data["excluded"].eq("") & np.isfinite(data["response"].to_numpy(float))
    if "outlier" in data:
        ok &= ~data["outlier"].fillna(False).astype(bool)
    series = data[ok & data["role"].isin(["sample", "reference"]) & data["target"].isin(targets)]
    rows = [series[["compound", "target", "plate", "conc_M", "response", "value"]]]
    vehicle = data[ok & data["role"].eq("vehicle") & data["target"].isin(targets)]
    for (compound, target), sub in series.groupby(["compound", "target"], sort=False):
        veh = vehicle[(vehicle["target"] == target) & vehicle["plate"].isin(set(sub["plate"]))]
        rows.append(veh.assign(compound=compound, conc_M=0.0)[["compound", "target", "plate", "conc_M", "response",
                                                                "value"]])
    long = pd.concat(rows, ignore_index=True)
    long["enzyme"] = long["target"].map(lambda t: targets[t].enzyme)
    long["atp"] = long["target"].map(lambda t: targets[t].atp)
    km = long["target"].map(lambda t: targets[t].km_atp if targets[t].km_atp is not None else np.nan)
    long["km_atp"] = km.fillna(1.0)  # placeholder; Ki is blanked below where Km is not given
    weights = None
    if result.results["weights"].astype(str).str.contains("Poisson").any():
        long["_w"] = 1.0 / np.maximum(long["value"].to_numpy(float), 1.0)
        weights = "_w"
    fits = fit_morrison_table(long, curve=["compound", "target"], conc="conc_M", response="response",
                              enzyme="enzyme", weights=weights, atp="atp", km_atp="km_atp", fix_bottom=0.0,
                              enzyme_error=ENZYME_ERROR)
    by = {(f["compound"], f["target"]): f for f in fits.to_dict("records")}
    no_cp = set(exp.non_atp_competitive)
    extra: dict[str, list] = {c: [] for c in KI_COLUMNS}
    flags_out = []
    for r in res.to_dict("records"):
        f = by.get((r["compound"], r["target"]))
        t = targets.get(r["target"])
        e = t.enzyme if t else np.nan
        ki_ok = f is not None and t is not None and t.km_atp is not None and r["compound"] not in no_cp
        molar: dict[str, float] = {}
        for k in ("ki_app", "ki_app_ci_low", "ki_app_ci_high"):
            molar[k] = float(f[k]) if f is not None else np.nan
        for k in ("ki", "ki_ci_low", "ki_ci_high"):
            molar[k] = float(f[k]) if ki_ok and f is not None else np.nan
        vals: dict[str, object] = {"enzyme_M": e, "atp_M": t.atp if t else np.nan,
                                   "km_atp_M": t.km_atp if t and t.km_atp is not None else np.nan}
        vals.update({f"{k}_M": v for k, v in molar.items()})
        vals.update({f"{k}_nM": v * 1e9 for k, v in molar.items()})
        tb = bool(t is not None and np.isfinite(r["ic50_M"]) and tight_binding(r["ic50_M"], r["hill"], e))
        vals["tight_binding"] = tb
        vals["morrison_flags"] = str(f["flags"]) if f is not None else "not_fitted"
        for c in KI_COLUMNS:
            extra[c].append(vals[c])
        flags = [s for s in str(r["flags"] or "").split(";") if s]
        if tb:
            flags.append("tight_binding")
        flags_out.append(";".join(flags))
    for c in KI_COLUMNS:
        res[c] = extra[c]
    res["flags"] = flags_out
    result.results = res
    n_tb = int(res["tight_binding"].sum())
    if n_tb:
        worst = res[res["tight_binding"]].iloc[0]
        from labkit.analysis.morrison import tight_binding_reason

        result.notes.append(f"{n_tb} curve(s) flagged tight_binding, e.g. {worst['compound']} on {worst['target']}: "
                            + tight_binding_reason(worst["ic50_M"], worst["hill"], worst["enzyme_M"])
                            + " (the Ki_app and Ki columns are that Morrison fit)")
    unsourced = sorted({t for t in res["target"] if t in targets and targets[t].km_atp is not None
                        and not targets[t].km_sourced})
    if unsourced:
        result.notes.append(f"Ki by Cheng–Prusoff uses Km(ATP) that the layout marks as not sourced (assumed) for "
                            f"{', '.join(unsourced)}: treat those Ki as provisional")
    # what the layout itself warns about (potencies the enzyme cannot measure, the old control name)
    result.notes += [a for a in exp.advisories() if "expected potency" in a or "old name" in a]
    result.conversion = conversion_table(data, exp)
    over = {(r["plate"], r["target"]) for r in result.conversion.to_dict("records") if r["flags"]}
    if over:  # the curve's own flags say it too: a curve on a plate whose reaction left the linear range
        flags = []
        for r in result.results.to_dict("records"):
            f = [s for s in str(r["flags"] or "").split(";") if s]
            if any((p, r["target"]) in over for p in str(r["plates"]).split(";")):
                f.append("atp_conversion>15%")
            flags.append(";".join(f))
        result.results["flags"] = flags
    for r in result.conversion.to_dict("records"):
        if r["flags"]:
            result.notes.append(f"plate {r['plate']}, {r['target']}: {r['atp_conversion_pct']:.0f} % of the ATP was "
                                "converted in the vehicle wells (> 15 %): the reaction is outside its linear "
                                "(initial-velocity) range, which biases IC50s; shorten the reaction or lower the "
                                "enzyme")


def conversion_table(data: pd.DataFrame, exp) -> pd.DataFrame:
    """% ATP conversion per plate × target: (vehicle − no-enzyme) / spotted share vs the total-counts wells (one
    reaction's hot ATP spotted unwashed). Captures on P81 below 100 % make it an underestimate."""
    from labkit.analysis.morrison import LINEAR_MAX, atp_conversion

    ok = data["excluded"].eq("") & np.isfinite(data["value"].to_numpy(float))
    d = data[ok]
    rows = []
    frac = exp.volumes.spotted_fraction
    pairs = []  # (plate, target, total-counts wells): a target's own, else the plate's shared ones (no target)
    for plate, on_plate in d.groupby("plate", sort=True):
        tc = on_plate[on_plate["role"] == "total_counts"]
        if tc.empty:
            continue
        for target in sorted(set(on_plate.loc[on_plate["role"] == "vehicle", "target"])):
            own = tc[tc["target"] == target]
            pairs.append((plate, target, own if len(own) else tc[tc["target"] == ""]))
    for plate, target, tc in pairs:
        if tc.empty:
            continue
        here = d[(d["plate"] == plate) & (d["target"] == target)]
        veh = here.loc[here["role"] == "vehicle", "value"].to_numpy(float)
        bg = here.loc[here["role"] == "no_enzyme", "value"].to_numpy(float)
        if not veh.size:
            continue
        background = float(bg.mean()) if bg.size else 0.0
        conv = atp_conversion(veh.mean(), tc["value"].to_numpy(float), background_cpm=background,
                              vehicle_spotted=frac, total_spotted=1.0)
        pct = float(conv.fraction) * 100
        rows.append({"plate": plate, "target": target, "vehicle_mean": float(veh.mean()),
                     "total_counts_mean": float(tc["value"].mean()), "no_enzyme_mean": background,
                     "spotted_fraction": frac, "atp_conversion_pct": pct,
                     "flags": f"atp_conversion>{LINEAR_MAX:.0%}" if pct > LINEAR_MAX * 100 else ""})
    return pd.DataFrame(rows, columns=CONVERSION_COLUMNS)
