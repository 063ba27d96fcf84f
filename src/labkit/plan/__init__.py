"""Liquid-handling plans: pure data between a layout and an emitted protocol."""

from __future__ import annotations

from typing import Any

from labkit.plan.steps import Plan


def build_plan(exp: Any, robot: str, *, sha256: str = "", tip_policy: str = "per_step", check: bool = True,
               multichannel: bool = True) -> Plan:
    """The checked liquid-handling plan of an experiment for a robot ('ot2' | 'flex'); multichannel=False keeps
    to single-channel pipettes. The experiment's assay kind builds it (labkit.assays)."""
    from labkit.plan.builder import BuildConfig
    from labkit.plan.checks import check_plan

    config = BuildConfig(robot, exp.name, exp.description or exp.name, exp.assay, sha256, tip_policy, multichannel)
    plan = exp.assay_kind.build(config, exp)
    if check:
        check_plan(plan)
    return plan


__all__ = ["Plan", "build_plan"]
