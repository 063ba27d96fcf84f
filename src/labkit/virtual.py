"""A virtual plate reader: the true response of every well from its simulated final contents, plus noise.

Truth is the seeds' entrectinib potencies; each assay kind gives its signal window (labkit.assays, `signal`).
Kinase plates read as CPM with well-to-well log-normal noise and Poisson counting noise; viability plates read as
RLU with multiplicative (log-normal) noise. Optional pipetting error perturbs each well's concentration. A fixed seed makes a readout reproducible.

Cells grow: a cell line doubles every TRUE_DOUBLING_H hours, so the vehicle wells at the end of the assay hold
2^(hours / doubling) times the cells there were at dosing, and a time-zero well (read at dosing, `time_zero` in
`final`) reads that much less. The compound lowers the net growth rate: the cell number at concentration c is
x0 2^(k(c) t) with k(c) chosen so that x(c) / x_ctrl follows the seeds' IC50 curve (the `floor` of the signal window
below x0 means net killing at the top doses), so GR values (labkit.analysis.gr) are meaningful and their truth is
`true_gr50`. A well that holds a viability layout's kill control (`killed` in `final`) has no living cells: it
reads as the medium's background, like a blank.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from labkit.assays.base import Signal

# Seeds: biochemical IC50s (Table 1, first column) and antiproliferative IC50s (Table 2), molar.
TRUE_IC50: dict[str, float] = {
    "TRKA": 1.7e-9, "TRKB": 0.1e-9, "TRKC": 0.1e-9, "ROS1": 0.2e-9, "ALK": 1.6e-9,
    "KM12": 17e-9, "IMS-M2": 0.47e-9, "M0-91": 0.65e-9,
}


# Doubling times (h) of the virtual cell lines: KM12 ~20 h (fast colorectal line); the AML lines ~30-36 h.
TRUE_DOUBLING_H: dict[str, float] = {"KM12": 20.0, "IMS-M2": 30.0, "M0-91": 36.0}


def true_fraction(conc: np.ndarray, ic50: float, signal: Signal) -> np.ndarray:
    """Cells at concentration conc relative to the vehicle wells at the end of the assay (the seeds' curve)."""
    conc = np.nan_to_num(np.asarray(conc, dtype=float), nan=0.0)
    frac = 1.0 / (1.0 + (conc / ic50) ** signal.hill)
    return signal.floor + (1.0 - signal.floor) * frac


def true_gr50(ic50: float, signal: Signal, doublings: float) -> float:
    """The true GR50 of the virtual reader: GR = 2^(1 + log2(f)/n) - 1 = 0.5 where f = 0.75^n (n doublings of the
    vehicle over the assay), solved on the seeds' curve f(c); NaN when the curve never gets that low."""
    f = 0.75 ** doublings
    if not f > signal.floor:
        return float("nan")
    return float(ic50 * ((1.0 - signal.floor) / (f - signal.floor) - 1.0) ** (1.0 / signal.hill))


def true_response(conc: np.ndarray, ic50: float, signal: Signal) -> np.ndarray:
    """Noise-free signal of wells holding the active enzyme / living cells at concentration conc (M)."""
    conc = np.nan_to_num(np.asarray(conc, dtype=float), nan=0.0)
    frac = 1.0 / (1.0 + (conc / ic50) ** signal.hill)
    frac = signal.floor + (1.0 - signal.floor) * frac
    return signal.bottom + (signal.top - signal.bottom) * frac


def simulate_readout(final: pd.DataFrame, assay: str | Signal, *, seed: int = 0, pipetting_cv: float = 0.0,
                     truth: dict[str, float] | None = None, noise_cv: float = 0.06,
                     hours: float = 72.0) -> pd.DataFrame:
    """Readout values for every well of `final`.

    `final` has one row per well: plate, well, group (target or cell line, '' for none), conc_M (final compound
    concentration the ledger found, NaN/0 for none), active (bool: enzyme or cells present), filled (bool: the
    well holds liquid); optional: time_zero (bool: read at dosing), killed (bool: holds a kill control). `assay` is an
    assay kind's name (its `signal`) or a Signal. Returns plate, well, value.
    """
    truth = TRUE_IC50 if truth is None else truth
    rng = np.random.default_rng(seed)
    if isinstance(assay, Signal):
        signal = assay
    else:
        from labkit.assays import get

        kind_signal = get(assay).signal
        if kind_signal is None:
            raise ValueError(f"assay kind {assay!r} has no virtual reader (no signal window)")
        signal = kind_signal
    conc = final["conc_M"].to_numpy(dtype=float, na_value=np.nan)
    if pipetting_cv > 0:
        conc = conc * rng.normal(1.0, pipetting_cv, size=conc.shape).clip(0.5, 1.5)
    mean = np.full(len(final), signal.empty)
    filled = final["filled"].to_numpy(dtype=bool)
    active = final["active"].to_numpy(dtype=bool)
    mean[filled] = signal.bottom
    groups = final["group"].to_numpy(dtype=object)
    for group in pd.unique(groups[active]):
        if group not in truth:
            raise KeyError(f"no true IC50 for {group!r}; known: {sorted(truth)}")
        sel = active & (groups == group)
        mean[sel] = true_response(conc[sel], truth[group], signal)
    if "killed" in final.columns:  # a kill control (staurosporine 10 uM ...): no living cells, the medium's background
        mean[final["killed"].to_numpy(dtype=bool) & filled] = signal.bottom
    if "time_zero" in final.columns:  # cells read at dosing: fewer by the vehicle's growth over the assay
        t0 = final["time_zero"].to_numpy(dtype=bool) & active
        for group in pd.unique(groups[t0]):
            sel = t0 & (groups == group)
            grown = 2.0 ** (hours / TRUE_DOUBLING_H.get(group, 24.0))
            mean[sel] = signal.bottom + (signal.top - signal.bottom) / grown
    # well-to-well process noise (capture, lysis, reader), then counting noise for CPM
    mean = mean * rng.lognormal(0.0, noise_cv, size=mean.shape)
    if signal.counting:
        value = rng.poisson(mean).astype(float)
    else:
        value = np.round(mean)
    return pd.DataFrame({"plate": final["plate"].to_numpy(), "well": final["well"].to_numpy(), "value": value})
