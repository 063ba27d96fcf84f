"""Liquid-handling plans: pure data between a layout and an emitted protocol."""

from __future__ import annotations

from labkit.plan.steps import Plan


def build_plan(exp, robot: str, *, sha256: str = "", tip_policy: str = "per_step", check: bool = True,
               multichannel: bool = True) -> Plan:
    """The checked liquid-handling plan of an experiment for a robot ('ot2' | 'flex'); multichannel=False keeps
    to single-channel pipettes."""
    from labkit.plan.builder import Builder
    from labkit.plan.checks import check_plan

    b = Builder(robot, exp.name, exp.description or exp.name, exp.assay, sha256, tip_policy)
    b.allow_multi = multichannel
    if exp.assay == "dilution_plate":
        from labkit.plan.dilution import plan_dilution
        plan_dilution(b, exp)
    elif exp.assay == "kinase_radiometric":
        from labkit.plan.kinase import plan_kinase
        plan_kinase(b, exp)
    elif exp.assay == "cell_viability_ctg":
        from labkit.plan.viability import plan_viability
        plan_viability(b, exp)
    else:  # pragma: no cover - the layout model restricts assay kinds
        raise ValueError(exp.assay)
    plan = b.finish()
    if check:
        check_plan(plan)
    return plan


__all__ = ["Plan", "build_plan"]
