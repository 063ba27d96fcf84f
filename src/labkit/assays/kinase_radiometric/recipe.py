"""What every well of the radiometric kinase assay must end with, and when (checked against the ledger).

Per kinase: compound (checked by the core), kinase + substrate mix (no-enzyme wells: substrate only), hot ATP
start at the final ATP concentration and activity, then the phosphoric acid stop; each stopped reaction onto the
same well of its P81 filter plate (the plate that is counted, joined by well); total-counts wells: one reaction's
hot ATP spotted straight onto the filter plate. Timing from the simulator's time
model: pre-incubation (kinase mix → ATP) and reaction (ATP → stop) each within ±5 % of the layout's nominal in
every well (the plan orders the start like the mixes and centres its waits on every well by labkit.plan.clock;
an operator pause inside such a window is taken off the wait that follows, at run time); kinase mixes and hot ATP on the deck at room temperature no longer than `conditions.reagent_stability_min`.
"""

from __future__ import annotations

from labkit.assays.kinase_radiometric.models import NO_ENZYME_ROLES
from labkit.assays.kinase_radiometric.timing import PREINC_TOLERANCE  # the tolerance the plan holds every well to
from labkit.simulate.recipe import Added, Aliquot, Check, Content, HotWaste, Interval, OnDeck, Recipe

ASSAY_ROLES = ("sample", "reference", "vehicle", "no_enzyme", "positive")


def read_plate(plate_id: str) -> str:
    """Label of the P81 filter plate a reaction plate is transferred onto (the plate that is counted)."""
    return f"{plate_id} P81 filter"


def recipe(exp) -> Recipe:
    """The kinase assay's checks for an experiment."""
    v, cond = exp.volumes, exp.conditions
    targets = {t.name: t for t in exp.targets}
    table = exp.wells_table()
    checks: list[Check] = []
    for plate in exp.plates:
        rows = table[(table["plate"] == plate.id) & table["role"].isin(ASSAY_ROLES)]
        all_wells = tuple(rows["well"])
        for name, group in rows.groupby("target", sort=False):
            t = targets[str(name)]
            active = tuple(group.loc[~group["role"].isin(NO_ENZYME_ROLES), "well"])
            blank = tuple(group.loc[group["role"].isin(NO_ENZYME_ROLES), "well"])
            wells = tuple(group["well"])
            checks.append(Content("enzyme", f"{t.name} kinase + {t.substrate} mix", plate.id, active,
                                  f"enzyme:{t.name}", t.enzyme))
            if blank:
                checks.append(Content("enzyme", f"no-enzyme control ({t.substrate} only)", plate.id, blank,
                                      f"enzyme:{t.name}", 0.0))
            checks.append(Content("substrate", f"{t.name} kinase + {t.substrate} mix", plate.id, wells, "substrate",
                                  t.substrate_conc, unit=t.substrate_unit))
            checks.append(Content("ATP", "ATP / [γ-33P]ATP start", plate.id, wells, "atp", t.atp))
        checks.append(Content("[γ-33P]ATP", "ATP / [γ-33P]ATP start", plate.id, all_wells, "atp33",
                              cond.hot_atp_uci_per_well, unit="µCi", per_well=True))
        checks.append(Added("stop", "phosphoric acid stop", plate.id, all_wells, "stop", v.stop, after="atp"))
        spots = tuple(table.loc[(table["plate"] == plate.id) & (table["role"] == "total_counts"), "well"])
        if spots:  # one reaction's hot ATP spotted straight onto the filter (not washed): % ATP conversion
            checks.append(Content("total counts", "hot ATP spotted onto the P81 filter plate", read_plate(plate.id),
                                  spots, "atp33", cond.hot_atp_uci_per_well, unit="µCi", per_well=True))
        checks.append(Aliquot("read plate", "transfer onto the P81 filter plate", plate.id, all_wells,
                              read_plate(plate.id), v.filter_transfer))
        if cond.preincubation_min > 0:
            checks.append(Interval("pre-incubation", "kinase mix → ATP start", plate.id, all_wells, "substrate",
                                   "atp", cond.preincubation_min, tolerance=PREINC_TOLERANCE))
        checks.append(Interval("reaction time", "ATP start → stop", plate.id, all_wells, "atp", "stop",
                               cond.reaction_min, tolerance=PREINC_TOLERANCE))
    checks.append(OnDeck("kinase mix on deck", "kinase mixes at room temperature", "enzyme:",
                         cond.reagent_stability_min))
    checks.append(OnDeck("hot ATP on deck", "[γ-33P]ATP mix at room temperature", "atp33",
                         cond.reagent_stability_min))
    checks.append(HotWaste("hot tips to radioactive waste", "every tip that carried [γ-33P]ATP", "atp33"))
    return Recipe(tuple(checks), not_checked=(
        "the reaction temperature (the temperature module's set point is trusted)",
        "the filter wash, drying, scintillant and count (by hand, after the plate leaves the deck)",
        "how long operator pauses take (tip-rack swaps, plate moves, the hot ATP): the time model counts them as "
        "0 s; those inside the pre-incubation are timed pauses, taken off the wait after them at run time (a pause "
        "longer than that wait makes the pre-incubation late by the difference, and the protocol says so)",
    ))
