"""Benchmark: the Flex 96-channel protocols' deck time on the fixed ruler (`../shared/tools/robot_cost.py`), against
the 96-channel floor for the two kinase plates (issue 12: ~470 s = ~85 s per plate + ~300 s of preparation) and
against labkit's standard Flex protocol (single- and 8-channel pipettes) of the same layout, built in this process.

Every protocol is generated from its layout, run through the real Opentrons analysis (in process) and costed by
robot_cost (liquid time + motion + tip handling; delays, pauses and gripper moves are not deck time there).
Goal: kinase_panel (the seed layout, total-counts wells spotted by a single nozzle) on the 96-channel within 2× of
the 470 s floor. The 96-channel protocols make the intermediate
dilution on the deck (a stamp of the patterned DMSO-series plate into buffer, mixed) but take the DMSO series and
the patterned reagent plates (kinase mixes, hot ATP, cells) ready-made from the operator: the table says so next to
the ratio.
Run: .venv/bin/python benchmarks/bench_flex96.py   (exit 1 when the kinase row misses the goal)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_deck import ruler  # noqa: E402  (the one robot_cost loader)
FLOOR_S = {"kinase_panel": 470.0}  # issue 12's 96-channel floor for the two kinase plates
GOAL = 2.0
LAYOUTS = ("kinase_panel", "viability_km12")


def measure(layout: str, pipettes: str, rc, tmp: Path, plates: int = 0) -> dict:
    """robot_cost of the layout's Flex protocol (pipettes 'standard' or '96'), plus labkit's tip count; plates > 0
    repeats the layout's plates to that many (labkit.layout.repeat)."""
    import labkit
    from labkit.layout.repeat import write_repeated
    from labkit.simulate.opentrons_run import analyze_protocol

    src = ROOT / "layouts" / f"{layout}.yaml"  # the seed layouts (kinase_panel: total-counts wells included)
    if plates:
        src = write_repeated(src, plates, tmp / f"{layout}_{plates}.yaml")
    protocol = labkit.load(src).protocol("flex", pipettes=pipettes)
    path = protocol.write(tmp / f"{layout}_{pipettes}_{plates}.py")
    analysis = analyze_protocol(path, in_process=True)
    if analysis.get("errors"):
        raise RuntimeError(f"{path.name}: the Opentrons analysis failed: {analysis['errors'][0]}")
    out = tmp / f"{layout}_{pipettes}_{plates}.json"
    out.write_text(json.dumps(analysis), encoding="utf-8")
    return dict(rc.cost(str(out)), plan_tips=protocol.plan.tips())


def main() -> int:
    rc = ruler()
    if rc is None:
        print("robot_cost.py not found (../shared/tools/robot_cost.py): nothing measured")
        return 0
    failed = []
    print(f"{'layout':16} {'pipettes':9} {'deck s':>7} {'tips':>5} {'pick-ups':>8} {'liquid/motion/tips s':>21}  "
          f"{'vs 8-ch Flex':>12}  vs floor")
    with tempfile.TemporaryDirectory(prefix="bench96-") as tmp:
        for layout in LAYOUTS:
            base = measure(layout, "standard", rc, Path(tmp))
            s96 = measure(layout, "96", rc, Path(tmp))
            for name, r in (("8-channel", base), ("96", s96)):
                line = (f"{layout:16} {name:9} {r['deck_s']:7.1f} {r['tips']:5d} {r['tip_pickups']:8d} "
                        f"{r['liquid_s']:7.1f}/{r['motion_s']:6.1f}/{r['tip_s']:6.1f}")
                if name == "96":
                    line += f"  {r['deck_s'] / base['deck_s']:11.2f}×"
                    floor = FLOOR_S.get(layout)
                    if floor:
                        ratio = r["deck_s"] / floor
                        ok = ratio <= GOAL
                        line += (f"  {ratio:.2f}× the {floor:g} s floor (goal ≤ {GOAL:g}×: {'ok' if ok else 'MISSED'};"
                                 " DMSO series and reagent plates patterned off the deck)")
                        if not ok:
                            failed.append(layout)
                print(line, flush=True)
        two = measure("kinase_panel", "96", rc, Path(tmp))
        eight = measure("kinase_panel", "96", rc, Path(tmp), plates=8)
        print(f"kinase_panel on the 96-channel, deck s per plate: 2 plates {two['deck_s'] / 2:.1f}, 8 plates "
              f"{eight['deck_s'] / 8:.1f} ({eight['deck_s'] / 8 / (two['deck_s'] / 2):.2f}× the 2-plate figure; "
              f"{eight['tips']} tips)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
