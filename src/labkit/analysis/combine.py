"""Combining independent runs of the same compound x target: geometric-mean IC50, its CI, and the MSR.

NCBI Assay Guidance Manual, "Assay Operations for SAR Support" (Haas et al.): potencies are log-normal, so runs are
combined on log10 IC50. With k runs of a compound, mean m and SD s of log10 IC50:
- geometric-mean IC50 = 10^m, 95 % CI 10^(m +- t(0.975, k - 1) s / sqrt(k)) (k >= 2);
- minimum significant ratio MSR = 10^(2 sqrt(2) s): two single-run IC50s of the same compound differ by more than
  this factor less than 5 % of the time. s is the pooled within-compound SD of log10 IC50 over every compound
  with >= 2 runs (the AGM estimates it from a replicate-experiment study), so the MSR describes the assay; a
  per-compound MSR is reported too, from that compound's own runs (needs >= 3 runs to be worth anything).
Runs whose IC50 is not finite or positive (flagged curves left n.d.) are not combined and are counted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["runs", "runs_not_determined", "log10_ic50_mean", "log10_ic50_sd", "geomean_ic50", "ci_low", "ci_high",
           "msr_compound"]


def msr(sd_log10: float) -> float:
    """Minimum significant ratio 10^(2 sqrt(2) s) from the SD of log10 potency (AGM)."""
    return float(10.0 ** (2.0 * np.sqrt(2.0) * sd_log10))


def combine_runs(df: pd.DataFrame, *, keys: list[str], ic50: str = "ic50",
                 level: float = 0.95) -> tuple[pd.DataFrame, dict]:
    """One row per key combination (COLUMNS) and a summary {pooled_sd_log10, pooled_df, msr} over all of them."""
    from scipy import special  # not scipy.stats: its import costs ~1 s of CLI start-up

    from labkit.errors import LabkitError

    missing = [c for c in [*keys, ic50] if c not in df.columns]
    if missing:
        raise LabkitError(f"column {missing[0]!r} not found; the table has columns {list(map(str, df.columns))}",
                          field=missing[0])
    x = pd.to_numeric(df[ic50], errors="coerce").to_numpy(float)
    ok = np.isfinite(x) & (x > 0)
    work = df[keys].copy()
    work["_l"] = np.where(ok, np.log10(np.where(ok, x, 1.0)), np.nan)
    rows = []
    ss, dof = 0.0, 0
    for key, g in work.groupby(keys, sort=True, dropna=False):
        v = g["_l"].dropna().to_numpy()
        k = len(v)
        m = float(v.mean()) if k else np.nan
        s = float(v.std(ddof=1)) if k >= 2 else np.nan
        if k >= 2:
            half = special.stdtrit(k - 1, 0.5 + level / 2) * s / np.sqrt(k)
            ss += float(((v - m) ** 2).sum())
            dof += k - 1
        else:
            half = np.nan
        key = key if isinstance(key, tuple) else (key,)
        rows.append(dict(zip(keys, key), runs=k, runs_not_determined=int(len(g) - k), log10_ic50_mean=m,
                         log10_ic50_sd=s, geomean_ic50=10.0 ** m if k else np.nan, ci_low=10.0 ** (m - half),
                         ci_high=10.0 ** (m + half), msr_compound=msr(s) if k >= 3 else np.nan))
    pooled = float(np.sqrt(ss / dof)) if dof else float("nan")
    summary = {"pooled_sd_log10": pooled, "pooled_df": dof, "msr": msr(pooled) if dof else float("nan")}
    return pd.DataFrame(rows, columns=[*keys, *COLUMNS]), summary
