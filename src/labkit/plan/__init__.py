"""Liquid-handling plans: pure data between a layout and an emitted protocol."""

from __future__ import annotations

from typing import Any

from labkit.plan.steps import Plan


PROTOCOL_FORMATS = (96, 384)  # plate formats labkit generates protocols for; analysis also reads 1536


def check_protocol_formats(exp) -> None:
    """PlanError (exit 2) if a plate of the experiment has a format no protocol is generated for (1536)."""
    from labkit.errors import PlanError

    bad = [f"{p.id} ({p.format}-well)" for p in exp.plates if p.format not in PROTOCOL_FORMATS]
    first = next((i for i, p in enumerate(exp.plates) if p.format not in PROTOCOL_FORMATS), 0)
    if bad:
        raise PlanError(f"no protocol for plate(s) {', '.join(bad)}: protocols support 96- and 384-well plates; "
                        "1536-well layouts are for analysis (labkit import, analyze, heatmaps), dispensed by other "
                        "instruments", field=f"plates[{first}].format")


def build_plan(exp: Any, robot: str, *, sha256: str = "", tip_policy: str = "per_step", check: bool = True,
               multichannel: bool = True, pipettes: str = "standard") -> Plan:
    """The checked liquid-handling plan of an experiment for a robot ('ot2' | 'flex'); multichannel=False keeps
    to single-channel pipettes; pipettes='96' plans for the Flex 96-channel (plan.stamp96). The experiment's assay
    kind builds it (labkit.assays), in batches when its plates do not fit one deck (plan.batches)."""
    from labkit.plan.batches import build_batched
    from labkit.plan.builder import BuildConfig
    from labkit.plan.checks import check_plan

    check_protocol_formats(exp)
    config = BuildConfig(robot, exp.name, exp.description or exp.name, exp.assay, sha256, tip_policy, multichannel,
                         str(pipettes))
    build = exp.assay_kind.build
    if config.pipettes == "96":
        from labkit.plan.stamp96 import build96

        build = build96
    plan = build_batched(build, config, exp)  # in batches when the plates do not fit one deck
    if check:
        check_plan(plan)
    return plan


__all__ = ["PROTOCOL_FORMATS", "Plan", "build_plan", "check_protocol_formats"]
