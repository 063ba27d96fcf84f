"""Benchmark: labkit's dilution_plate plan vs the same job written the plain way (one `transfer` per step); and
the seed assays' plans with 8-channels (whole and part columns) vs single channels only.

Both protocols run through the real Opentrons analysis and labkit's cost model (labkit.simulate.cost); same robot,
same 8-channel pipette, same tip policy. Goal: >= 20 % less estimated deck time with no more tips.

The plain protocol is the tutorial as written (its deck, default flow rates, `transfer` with mix_after). labkit
saves time by: multi-dispensing the diluent (non-contact, one tip); a compact deck (plate beside the trash,
reservoir beside the plate, tip racks next to both); mixing a water series at 2× the default flow rate (within
80 % of the pipette's documented maximum; the dispense that precedes the mix too, as the mix rinses the tip
into that well); blowing the disposal volume out at the trash where the tip is dropped anyway. Transfers still
aspirate at the default rate, per_step still takes a fresh tip for every step (tests/protocol/test_seed_protocols.py
verifies both policies with the ledger).
Run: .venv/bin/python benchmarks/bench_plan.py   (exit 1 when a row misses the goal)
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


def measure(path: Path):
    """labkit's cost (tips, counts, estimated seconds with a breakdown) of a protocol file."""
    from labkit.simulate.opentrons_run import analyze_protocol
    from labkit.simulate.cost import estimate

    return estimate(analyze_protocol(path, in_process=True))


def _mmss(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}"


def _parts(cost) -> str:
    bd = cost.breakdown
    return f"{bd['moves']:.0f}/{bd['liquid']:.0f}/{bd['tips']:.0f}"


def main() -> int:
    """Print tips and estimated deck time, labkit vs plain, per robot and tip policy; 1 if a goal is missed."""
    from labkit.protocol.cli import generate

    ok = True
    cols = ("robot", "tip policy", "tips plain", "tips labkit", "time plain", "time labkit", "saving",
            "plain mv/liq/tip s", "labkit mv/liq/tip s", "goal")
    widths = [max(len(c), 6) for c in cols]
    line = " | ".join(f"{c:>{w}}" for c, w in zip(cols, widths))
    print("dilution_plate (layouts/dilution_tutorial.yaml): labkit vs the tutorial's one-transfer-per-step protocol,")
    print("same robot, pipette and tip policy. Goal: >= 20 % less estimated deck time with no more tips, every row.")
    print(line)
    print("-" * len(line))
    with tempfile.TemporaryDirectory() as tmp:
        for robot in ROBOTS:
            for policy in POLICY_NEW_TIP:
                plain = Path(tmp) / f"plain_{robot}_{policy}.py"
                plain.write_text(plain_protocol(robot, policy))
                ours = Path(tmp) / f"labkit_{robot}_{policy}.py"
                ours.write_text(generate(LAYOUT, robot, policy))
                pc, lc = measure(plain), measure(ours)
                saving = 1 - lc.time_s / pc.time_s
                good = saving >= 0.20 and lc.tips_used <= pc.tips_used
                ok &= good
                row = (robot, policy, pc.tips_used, lc.tips_used, _mmss(pc.time_s), _mmss(lc.time_s),
                       f"{saving:.1%}", _parts(pc), _parts(lc), "met" if good else "MISSED")
                print(" | ".join(f"{str(v):>{w}}" for v, w in zip(row, widths)))
    ok &= multichannel_table()
    print("goal met on every row" if ok else "goal NOT met")
    return 0 if ok else 1


def multichannel_table() -> bool:
    """Seed assays: labkit's plan with 8-channels where columns allow vs the same plan with single channels only.
    Goal: less deck time (without delays) on every row; tips are reported (a column stamp may take more tips than
    single wells would: issue 12 trades tips for pick-ups); True when met."""
    from labkit.protocol.cli import generate

    ok = True
    cols = ("layout", "robot", "tips 1-ch", "tips 8-ch", "pick-ups 1-ch", "pick-ups 8-ch", "time 1-ch", "time 8-ch",
            "saving", "goal")
    widths = [max(len(c), 6) for c in cols]
    widths[0] = 18
    line = " | ".join(f"{c:>{w}}" for c, w in zip(cols, widths))
    print()
    print("8-channel vs single-channel plans of the seed assays (same robot and tip policy; deck time without the")
    print("assay's delays, h:mm:ss). Goal: less time, every row (stamps may take more tips).")
    print(line)
    print("-" * len(line))
    with tempfile.TemporaryDirectory() as tmp:
        for layout in ("kinase_panel", "viability_km12", "viability_aml_384"):
            for robot in ROBOTS:
                path = ROOT / "layouts" / f"{layout}.yaml"
                one, eight = Path(tmp) / f"{layout}_{robot}_1.py", Path(tmp) / f"{layout}_{robot}_8.py"
                one.write_text(generate(path, robot, multichannel=False))
                eight.write_text(generate(path, robot))
                c1, c8 = measure(one), measure(eight)
                good = c8.time_without_delays_s <= c1.time_without_delays_s + 1e-6
                ok &= good
                row = (layout, robot, c1.tips_used, c8.tips_used, c1.by_type.get("pickUpTip", 0),
                       c8.by_type.get("pickUpTip", 0), _hms(c1.time_without_delays_s),
                       _hms(c8.time_without_delays_s), f"{1 - c8.time_without_delays_s / c1.time_without_delays_s:.1%}",
                       "met" if good else "MISSED")
                print(" | ".join(f"{str(v):>{w}}" for v, w in zip(row, widths)))
    return ok


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


if __name__ == "__main__":
    sys.exit(main())
