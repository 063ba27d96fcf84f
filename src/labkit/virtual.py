"""A virtual plate reader: the true response of every well from its simulated final contents, plus noise.

Truth is the seeds' entrectinib potencies; each assay kind gives its signal window (labkit.assays, `signal`).
Kinase plates read as CPM with well-to-well log-normal noise and Poisson counting noise; viability plates read as
RLU with multiplicative (log-normal) noise. Optional pipetting error perturbs each well's concentration. A fixed seed makes a readout reproducible.
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


def true_response(conc: np.ndarray, ic50: float, signal: Signal) -> np.ndarray:
    """Noise-free signal of wells holding the active enzyme / living cells at concentration conc (M)."""
    conc = np.nan_to_num(np.asarray(conc, dtype=float), nan=0.0)
    frac = 1.0 / (1.0 + (conc / ic50) ** signal.hill)
    frac = signal.floor + (1.0 - signal.floor) * frac
    return signal.bottom + (signal.top - signal.bottom) * frac


def simulate_readout(final: pd.DataFrame, assay: str | Signal, *, seed: int = 0, pipetting_cv: float = 0.0,
                     truth: dict[str, float] | None = None, noise_cv: float = 0.06) -> pd.DataFrame:
    """Readout values for every well of `final`.

    `final` has one row per well: plate, well, group (target or cell line, '' for none), conc_M (final compound
    concentration the ledger found, NaN/0 for none), active (bool: enzyme or cells present), filled (bool: the
    well holds liquid). `assay` is an assay kind's name (its `signal`) or a Signal. Returns plate, well, value.
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
    # well-to-well process noise (capture, lysis, reader), then counting noise for CPM
    mean = mean * rng.lognormal(0.0, noise_cv, size=mean.shape)
    if signal.counting:
        value = rng.poisson(mean).astype(float)
    else:
        value = np.round(mean)
    return pd.DataFrame({"plate": final["plate"].to_numpy(), "well": final["well"].to_numpy(), "value": value})
