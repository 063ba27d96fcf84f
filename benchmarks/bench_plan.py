"""Benchmark: labkit's dilution_plate plan vs the same job written the plain way (one `transfer` per step).

Both protocols run through the real Opentrons analysis and labkit's cost model (labkit.simulate.cost); same robot,
same 8-channel pipette, same tip policy. Goal: >= 20 % less estimated deck time with no more tips.
Run: .venv/bin/python benchmarks/bench_plan.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "tests" / "data" / "plan" / "tutorial_plain.py.tmpl"
LAYOUT = ROOT / "layouts" / "dilution_tutorial.yaml"
ROBOTS = {
    "ot2": ("OT-2", "p300_multi_gen2", "opentrons_96_tiprack_300ul",
            {"plate": "3", "reservoir": "2", "tips1": "1", "tips2": "4"}),  # the tutorial's deck
    "flex": ("Flex", "flex_8channel_1000", "opentrons_flex_96_tiprack_1000ul",
             {"plate": "D3", "reservoir": "D2", "tips1": "D1", "tips2": "C1", "trash": "A3"}),  # tutorial deck
}
POLICY_NEW_TIP = {"per_step": "always", "per_series": "once"}


def plain_protocol(robot: str, policy: str) -> str:
    """The tutorial job as the tutorial writes it, for a robot and tip policy."""
    rt, pip, rack, slots = ROBOTS[robot]
    return (TEMPLATE.read_text().replace("__ROBOT__", rt).replace("__PIPETTE__", pip).replace("__TIPRACK__", rack)
            .replace("__SLOTS__", repr(slots)).replace("__NEW_TIP__", POLICY_NEW_TIP[policy]))


def measure(path: Path) -> tuple[int, float]:
    """(tips, estimated seconds) of a protocol file."""
    from labkit.simulate.analysis import analyze_protocol
    from labkit.simulate.cost import estimate

    cost = estimate(analyze_protocol(path, in_process=True))
    return cost.tips_used, cost.time_s


def main() -> int:
    """Print tips and estimated deck time, labkit vs plain, per robot and tip policy; 1 if a goal is missed."""
    from labkit.protocol.cli import generate

    ok = True
    print(f"{'robot':6} {'policy':10} {'plain tips':>10} {'labkit tips':>11} {'plain s':>8} {'labkit s':>8} "
          f"{'saving':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for robot in ROBOTS:
            for policy in POLICY_NEW_TIP:
                plain = Path(tmp) / f"plain_{robot}_{policy}.py"
                plain.write_text(plain_protocol(robot, policy))
                ours = Path(tmp) / f"labkit_{robot}_{policy}.py"
                ours.write_text(generate(LAYOUT, robot, policy))
                pt, ps = measure(plain)
                lt, ls = measure(ours)
                saving = 1 - ls / ps
                good = saving >= 0.20 and lt <= pt
                ok &= good
                print(f"{robot:6} {policy:10} {pt:10d} {lt:11d} {ps:8.0f} {ls:8.0f} {saving:7.1%}"
                      f"{'' if good else '  (goal missed)'}")
    print("goal: >= 20 % less estimated deck time, no more tips —", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
