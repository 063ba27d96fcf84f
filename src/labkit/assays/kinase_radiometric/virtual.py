"""The kinase assay's virtual reader: CPM of every well from Morrison kinetics at what the ledger says it held.

Per reaction well (from the simulated run's ledger and the time model): active [E], [ATP], substrate, compound
concentration, pre-incubation (kinase mix → ATP) and reaction time (ATP → stop); product by
labkit.analysis.kinetics.product_formed (ATP-competitive tight binding, Ki_app = Ki (1 + [ATP]/Km) at every step,
ATP and substrate depletion), then CPM on the filter (specific activity of the hot ATP, share transferred, P81
capture, background), a dispense CV on enzyme and compound, well-to-well capture noise and Poisson counting.
Total-counts wells: the µCi the ledger put straight onto the filter. Empty wells: counter background.

Truth: the seeds' entrectinib potencies are read as Ki_app at ATP = Km(ATP) (the usual profiling condition), so
Ki = potency / 2 and a layout at another ATP sees Ki (1 + [ATP]/Km). Binding is at equilibrium (kon=None); the
kinetic constants below are assumptions of the demo, not measurements.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from labkit.virtual import TRUE_IC50

KCAT_S = 5.0  # assumed turnover, s^-1
KM_SUBSTRATE = 50e-6  # assumed Km of the phospho-acceptor, M
KM_ATP_DEFAULT = 20e-6  # Km(ATP) the reader uses for a target without km_atp (assumed)
COUNT_EFFICIENCY = 0.5  # 33P on a filter with scintillant, counting efficiency
CAPTURE = 0.8  # share of phosphoproduct the washed P81 filter keeps
BACKGROUND_CPM = 150.0  # washed filter with no product
EMPTY_CPM = 25.0  # a well with nothing in it
CAPTURE_CV = 0.03  # well-to-well capture / wash variation
ENZYME_LOT_SD = 0.1  # the true active [E] of a target differs from the layout's by this log-scale SD
REFERENCE_KI_APP = 1e-9  # assumed Ki_app (at ATP = Km) of a compound the seeds say nothing about (e.g. staurosporine)
SEED_COMPOUND = "entrectinib"


def true_ki_app(compound: str, target: str) -> float:
    """The truth the reader uses: Ki_app at ATP = Km (seed potency for entrectinib, REFERENCE_KI_APP otherwise)."""
    if compound == SEED_COMPOUND and target in TRUE_IC50:
        return TRUE_IC50[target]
    return REFERENCE_KI_APP


def _first(state, species: str, timeline) -> float | None:
    """Seconds (time model) of the first dispense into a well carrying a species (prefix match), else None."""
    for a in state.additions:
        if any(s == species or s.startswith(species) for s in a.species):
            return timeline.at(a.index)
    return None


def readout(sim, exp, *, seed: int = 0, pipetting_cv: float = 0.02) -> pd.DataFrame:
    """plate, well, value (CPM) for every well of the experiment's plates, from the simulated run."""
    from labkit.analysis import kinetics
    from labkit.assays.kinase_radiometric.recipe import read_plate

    rng = np.random.default_rng(seed)
    v = exp.volumes
    targets = {t.name: t for t in exp.targets}
    lot = {t.name: float(rng.lognormal(0.0, ENZYME_LOT_SD)) for t in exp.targets}
    table = exp.wells_table()
    mean = np.full(len(table), EMPTY_CPM)
    cols = {k: np.zeros(len(table)) for k in ("e", "atp", "km", "sub", "t", "pre", "inh", "ki", "uci", "vol")}
    react = np.zeros(len(table), dtype=bool)
    for n, w in enumerate(table.itertuples(index=False)):
        if w.role == "total_counts":  # the spot on the filter: every µCi counts, nothing washed away
            state = sim.ledger.plate(read_plate(w.plate)).get(w.well)
            uci = state.amounts.get("atp33", 0.0) if state is not None else 0.0
            mean[n] = uci * kinetics.DPM_PER_UCI * COUNT_EFFICIENCY + BACKGROUND_CPM if uci > 0 else EMPTY_CPM
            continue
        state = sim.ledger.plate(w.plate).get(w.well)
        if state is None or state.volume <= 0 and not state.additions:
            continue
        comp = state.assay_composition
        mean[n] = BACKGROUND_CPM
        enz = [(s.split(":", 1)[1], c) for s, c in comp.items() if s.startswith("enzyme:") and c > 0]
        t_atp, t_stop = _first(state, "atp", sim.timeline), _first(state, "stop", sim.timeline)
        if not enz or t_atp is None or t_stop is None or comp.get("atp33", 0) <= 0:
            continue
        name, e = enz[0]
        t = targets.get(name)
        t_mix = _first(state, "enzyme:", sim.timeline)
        vol = state.assay_volume
        conc = state.assay_compounds.get(w.compound, 0.0) if w.compound else 0.0
        km = t.km_atp if t is not None and t.km_atp is not None else KM_ATP_DEFAULT
        ki = true_ki_app(w.compound, name) / 2.0 if w.compound else np.inf  # Ki_app at ATP = Km is 2 Ki
        sub = t.substrate_molar() if t is not None else 2e-5
        react[n] = True
        for k, val in (("e", e * lot.get(name, 1.0)), ("atp", comp.get("atp", 0.0)), ("km", km), ("sub", sub),
                       ("t", t_stop - t_atp), ("pre", max(t_atp - t_mix, 0.0) if t_mix is not None else 0.0),
                       ("inh", conc), ("ki", ki), ("uci", comp.get("atp33", 0.0) * vol), ("vol", vol)):
            cols[k][n] = val
    idx = np.flatnonzero(react)
    if len(idx):
        c = {k: a[idx] for k, a in cols.items()}
        e = c["e"] * kinetics.dispense_factor(rng, len(idx), pipetting_cv)
        inh = c["inh"] * kinetics.dispense_factor(rng, len(idx), pipetting_cv)
        p = kinetics.product_formed(enzyme=e, atp=c["atp"], km_atp=c["km"], substrate=c["sub"],
                                    km_substrate=KM_SUBSTRATE, kcat=KCAT_S, time_s=c["t"], inhibitor=inh,
                                    ki=c["ki"], preincubation_s=c["pre"])
        sa = kinetics.specific_activity(c["uci"], c["atp"] * c["vol"] * 1e6, efficiency=COUNT_EFFICIENCY)
        mean[idx] = kinetics.expected_cpm(p, volume_ul=c["vol"], cpm_per_pmol=sa,
                                          spotted_fraction=v.spotted_fraction, capture=CAPTURE,
                                          background_cpm=BACKGROUND_CPM)
    mean = mean * rng.lognormal(0.0, CAPTURE_CV, size=mean.shape)
    value = kinetics.counting_noise(rng, mean)
    return pd.DataFrame({"plate": table["plate"].to_numpy(), "well": table["well"].to_numpy(), "value": value})
