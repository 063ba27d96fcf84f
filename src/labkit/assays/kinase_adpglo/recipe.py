"""What every well of the ADP-Glo kinase assay must end with, and when (checked against the ledger).

Per kinase: compound (checked by the core), kinase + substrate mix at the final kinase concentration (no-enzyme
wells: substrate only, no kinase), ATP at the final concentration, the reaction volume; then the ADP-Glo Reagent
equal to the reaction volume after the ATP, then the Kinase Detection Reagent at twice the reaction volume after
the ADP-Glo Reagent (Promega TM313: 1:1:2). Timing from the simulator's time model: reaction (ATP → ADP-Glo Reagent)
within ±5 % of the layout's nominal; pre-incubation (kinase mix → ATP) at least its nominal; ATP depletion (ADP-Glo
Reagent → Kinase Detection Reagent) at least 40 min; detection (Kinase Detection Reagent → the read, the next
operator pause) within the layout's 30–60 min; kinase mixes on the deck at room temperature no longer than
`conditions.reagent_stability_min`.
"""

from __future__ import annotations

from labkit.assays.kinase_adpglo.models import ADP_GLO, DETECTION
from labkit.simulate.recipe import NEXT_PAUSE, Added, Check, Content, Interval, OnDeck, Recipe, Volume

ASSAY_ROLES = ("sample", "reference", "vehicle", "positive")


def recipe(exp) -> Recipe:
    """The ADP-Glo assay's checks for an experiment."""
    v, cond = exp.volumes, exp.conditions
    targets = {t.name: t for t in exp.targets}
    table = exp.wells_table()
    checks: list[Check] = []
    for plate in exp.plates:
        rows = table[(table["plate"] == plate.id) & table["role"].isin(ASSAY_ROLES)]
        all_wells = tuple(rows["well"])
        for name, group in rows.groupby("target", sort=False):
            t = targets[str(name)]
            active = tuple(group.loc[group["role"] != "positive", "well"])
            blank = tuple(group.loc[group["role"] == "positive", "well"])
            wells = tuple(group["well"])
            checks.append(Content("enzyme", f"{t.name} kinase + {t.substrate} mix", plate.id, active,
                                  f"enzyme:{t.name}", t.enzyme))
            if blank:
                checks.append(Content("enzyme", f"no-enzyme control ({t.substrate} only)", plate.id, blank,
                                      f"enzyme:{t.name}", 0.0))
            checks.append(Content("substrate", f"{t.name} kinase + {t.substrate} mix", plate.id, wells, "substrate",
                                  t.substrate_conc))
            checks.append(Content("ATP", "ATP start", plate.id, wells, "atp", t.atp))
        checks.append(Volume("reaction volume", "compound + kinase mix + ATP", plate.id, all_wells, v.well))
        checks.append(Added("ADP-Glo Reagent", "ADP-Glo Reagent (= the reaction volume)", plate.id, all_wells,
                            ADP_GLO, v.adp_glo, after="atp"))
        checks.append(Added("Kinase Detection Reagent", "Kinase Detection Reagent (= 2× the reaction volume)",
                            plate.id, all_wells, DETECTION, v.detection, after=ADP_GLO))
        if cond.preincubation_min > 0:
            checks.append(Interval("pre-incubation", "kinase mix → ATP start", plate.id, all_wells, "substrate",
                                   "atp", cond.preincubation_min, at_least=True))
        checks.append(Interval("reaction time", "ATP start → ADP-Glo Reagent", plate.id, all_wells, "atp", ADP_GLO,
                               cond.reaction_min))
        checks.append(Interval("ATP depletion", "ADP-Glo Reagent → Kinase Detection Reagent", plate.id, all_wells,
                               ADP_GLO, DETECTION, cond.depletion_min, tolerance=0.0, at_least=True))
        mid = (cond.detection_min + cond.detection_max_min) / 2
        checks.append(Interval("detection", "Kinase Detection Reagent → the read", plate.id, all_wells, DETECTION,
                               NEXT_PAUSE, mid, tolerance=(cond.detection_max_min - cond.detection_min) / 2 / mid))
    checks.append(OnDeck("kinase mix on deck", "kinase mixes at room temperature", "enzyme:",
                         cond.reagent_stability_min))
    return Recipe(tuple(checks), not_checked=(
        "the plate colour (white) and the room temperature of the plate and reagents",
        "the luminescence read itself (by the operator at the pause that ends each plate)",
        "how long operator pauses take (tip-rack swaps, the kinase-mix load): the time model counts them as 0 s",
    ))
