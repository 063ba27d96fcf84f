"""The ADP-Glo virtual reader: luminescence from the ADP each well's kinase made, with tight binding and noise.

Per well: fractional kinase activity by Morrison's quadratic at the layout's kinase concentration [E]
(labkit.analysis.morrison.fractional_activity), with Ki_app = IC50 − [E]/2 so that the curve's IC50 is the true one
(labkit.virtual.TRUE_IC50; Morrison's IC50 is Ki_app + [E]/2, Copeland ch. 7). A true IC50 below [E]/2 cannot be
measured at that kinase concentration: Ki_app is then ~0 and the curve titrates the enzyme (IC50 ≈ [E]/2). ADP made = VEHICLE_CONVERSION × [ATP] × activity (initial-rate conditions: the kinase is titrated for
10–30 % ATP conversion, TM313); the no-enzyme background is the ADP in the ATP plus the ATP the ADP-Glo Reagent
leaves, BACKGROUND_FRACTION of [ATP] as ADP; light = RLU_PER_UM_ADP × ADP (linear in ADP, TM313). Noise:
well-to-well log-normal (dispense, reagent, reader gain) and photon-counting (Poisson) noise; pipetting error moves
each well's compound concentration.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

VEHICLE_CONVERSION = 0.10      # ATP turned into ADP in the vehicle wells (TM313: titrate kinase to 10–30 %)
BACKGROUND_FRACTION = 0.0025   # no-enzyme signal as ADP-equivalent fraction of the ATP (ultrapure ATP; S/B ≈ 40)
RLU_PER_UM_ADP = 1.2e5         # luminescence per µM ADP in the well (a typical luminometer, 0.5 s integration)
DARK_RLU = 40.0                # an empty well
NOISE_CV = 0.05                # well-to-well log-normal CV


def luminescence(final: pd.DataFrame, exp: Any, *, seed: int = 0, pipetting_cv: float = 0.0,
                 truth: dict[str, float] | None = None, noise_cv: float = NOISE_CV) -> pd.DataFrame:
    """RLU of every well of `final` (plate, well, group, conc_M, active, filled; labkit.demo.final_wells).

    Args:
        final: the simulated run's wells.
        exp: the ADP-Glo experiment (its targets' kinase and ATP concentrations).
        seed: noise seed.
        pipetting_cv: CV of each well's compound concentration.
        truth: group -> true IC50 (molar); default labkit.virtual.TRUE_IC50.
        noise_cv: well-to-well log-normal CV.

    Returns:
        plate, well, value (RLU).

    Raises:
        KeyError: an active well's target has no true IC50.
    """
    from labkit.analysis.morrison import fractional_activity
    from labkit.virtual import TRUE_IC50

    truth = TRUE_IC50 if truth is None else truth
    targets = {t.name: t for t in exp.targets}
    atp_default = exp.targets[0].atp
    rng = np.random.default_rng(seed)
    conc = np.nan_to_num(final["conc_M"].to_numpy(dtype=float, na_value=np.nan), nan=0.0)
    if pipetting_cv > 0:
        conc = conc * rng.normal(1.0, pipetting_cv, size=conc.shape).clip(0.5, 1.5)
    groups = final["group"].to_numpy(dtype=object)
    active = final["active"].to_numpy(dtype=bool)
    filled = final["filled"].to_numpy(dtype=bool)
    atp_um = np.array([(targets[g].atp if g in targets else atp_default) * 1e6 for g in groups])
    adp_um = BACKGROUND_FRACTION * atp_um
    for group in pd.unique(groups[active]):
        if group not in truth:
            raise KeyError(f"no true IC50 for {group!r}; known: {sorted(truth)}")
        sel = active & (groups == group)
        enzyme = targets[group].enzyme
        ki_app = max(truth[group] - enzyme / 2, truth[group] * 1e-3)
        activity = fractional_activity(conc[sel], enzyme, ki_app)
        adp_um[sel] += VEHICLE_CONVERSION * atp_um[sel] * activity
    mean = np.where(filled, RLU_PER_UM_ADP * adp_um, 0.0) + DARK_RLU
    mean = mean * rng.lognormal(0.0, noise_cv, size=mean.shape)
    value = rng.poisson(mean).astype(float)
    return pd.DataFrame({"plate": final["plate"].to_numpy(), "well": final["well"].to_numpy(), "value": value})
