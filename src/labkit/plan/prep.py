"""Hand pre-dilution of a stock to a top solution: as many steps as needed, each >= 1 µL and at most 1:100."""

from __future__ import annotations

import math
from dataclasses import dataclass

from labkit.units import si_conc

MAX_FACTOR = 100.0     # the largest dilution one hand step makes (1 µL into 100 µL)
MIN_UL = 1.0           # the smallest volume pipetted by hand
NICE_FACTORS = (100.0, 50.0, 20.0, 10.0, 5.0, 2.0)  # factors tried for every step but the last
MIN_LAST = 2.0         # the last step dilutes at least 1:2 (so its solvent is not a sliver)
AS_IS = 1.001          # a target within 0.1 % of the stock: use the stock as it is (below hand-pipetting accuracy)
EPS = 1e-9


@dataclass(frozen=True)
class PrepStep:
    """One hand step: take µL of the previous solution (the stock first), add µL solvent, get conc (molar)."""

    take_ul: float
    solvent_ul: float
    conc: float

    @property
    def total_ul(self) -> float:
        """Volume made."""
        return self.take_ul + self.solvent_ul


def step_factors(ratio: float) -> list[float]:
    """Dilution factors of the hand steps for stock/target = ratio: [] for the stock as it is, else each <= 100."""
    if ratio < 1 - EPS:
        raise ValueError(f"the target is stronger than the stock (ratio 1:{ratio:g})")
    if ratio <= AS_IS:
        return []
    factors: list[float] = []
    rest = ratio
    while rest > MAX_FACTOR * (1 + EPS):
        left = math.ceil(math.log(rest) / math.log(MAX_FACTOR) - EPS)  # steps still needed, this one included
        for f in NICE_FACTORS:
            after = rest / f
            if after <= MAX_FACTOR ** (left - 1) * (1 + EPS) and after >= MIN_LAST - EPS:
                break
        factors.append(f)
        rest /= f
    factors.append(rest)
    return factors


def hand_predilution(stock: float, target: float, total_ul: float = 100.0) -> list[PrepStep]:
    """The hand steps from a stock (molar) to a target concentration, each making total_ul (scaled up when a
    volume would fall below 1 µL)."""
    factors = step_factors(stock / target)
    steps, conc = [], stock
    for i, f in enumerate(factors):
        last = i == len(factors) - 1
        conc = target if last else conc / f
        vol = total_ul
        while min(vol / f, vol - vol / f) < MIN_UL - EPS and vol < 1e6:
            vol *= 10.0
        steps.append(PrepStep(vol / f, vol - vol / f, conc))
    return steps


def _ul(x: float) -> str:
    return f"{x:.3g} µL" if x < 100 else f"{x:.4g} µL"


def describe_predilution(stock: float, target: float, solvent: str, total_ul: float = 100.0) -> str:
    """What the operator does, e.g. '1 µL of the 10 mM stock + 99 µL DMSO = 100 µM; then 10 µL of that + 90 µL
    DMSO = 10 µM'."""
    steps = hand_predilution(stock, target, total_ul)
    if not steps:
        return f"the {si_conc(stock)} stock as it is"
    parts = []
    for i, st in enumerate(steps):
        src = f"the {si_conc(stock)} stock" if i == 0 else "that"
        parts.append(f"{_ul(st.take_ul)} of {src} + {_ul(st.solvent_ul)} {solvent} = {si_conc(st.conc)}")
    return "; then ".join(parts)
