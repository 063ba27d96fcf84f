"""Benchmark: deck time of the seed protocols on an independent ruler, against an expert's hand-written protocols
and against labkit's previous plan (issue 12).

The ruler is `robot_cost.py` (../shared/tools/robot_cost.py, or the path in $LABKIT_ROBOT_COST): a fixed model of
motion, liquid time and tip handling applied to `python -m opentrons.cli analyze` JSON, delays excluded. The expert
figures are those of issue 12 (protocols written by hand for the same plates, wells, volumes and radiation-hygiene
rules, with the pipettes labkit chose). The plates are today's: the layouts are frozen in benchmarks/layouts/*_v01.yaml
(the seed layouts in layouts/ may change for science); labkit's previous plan is its protocols of the same layouts
before column stamping, frozen in benchmarks/baseline/*_v01.py.txt, analyzed here in the same process.

Goal: labkit <= 1.10 × the expert on every row. Run: .venv/bin/python benchmarks/bench_deck.py (exit 1 when a row
misses the goal; the README says which step does not meet it and why).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
RULER = Path(os.environ.get("LABKIT_ROBOT_COST", ROOT.parent / "shared" / "tools" / "robot_cost.py"))
EXPERT_S = {("kinase_panel", "ot2"): 2579.0, ("kinase_panel", "flex"): 1803.0,
            ("viability_km12", "ot2"): 1506.0, ("viability_km12", "flex"): 933.0}  # issue 12
GOAL = 1.10


def ruler():
    """The robot_cost module ($LABKIT_ROBOT_COST, else ../shared/tools beside the checkout or beside a worktree's
    parent), or None when the file is not there. The one loader of the deck-time benchmarks (bench_flex96 and
    bench_scale import it)."""
    found = [RULER] if "LABKIT_ROBOT_COST" in os.environ else [
        base / "shared" / "tools" / "robot_cost.py" for base in (ROOT.parent, ROOT.parents[1])]
    path = next((f for f in found if f.is_file()), None)
    if path is None:
        return None
    spec = importlib.util.spec_from_file_location("robot_cost", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def analyze(protocol: Path, out: Path) -> dict:
    """The Opentrons analysis JSON of a protocol file (python -m opentrons.cli analyze)."""
    subprocess.run([sys.executable, "-m", "opentrons.cli", "analyze", "--json-output", str(out), str(protocol)],
                   check=True, capture_output=True)
    return json.loads(out.read_text())


def step_seconds(rc, analysis: dict, needle: str, tmp: Path) -> float:
    """Ruler seconds of the commands under the protocol's step comments that contain `needle`."""
    cmds, keep, on = analysis["commands"], [], False
    for c in cmds:
        if c["commandType"] == "comment":
            on = needle in c["params"].get("message", "")
            continue
        if on:
            keep.append(c)
    part = tmp / "part.json"
    part.write_text(json.dumps(dict(analysis, commands=keep)))
    return rc.cost(str(part))["deck_s"]


def main() -> int:
    """Print the table; 1 when a row misses the goal, 0 otherwise (also when the ruler is absent)."""
    from labkit.protocol.cli import generate

    rc = ruler()
    if rc is None:
        print(f"skipped: the deck-time ruler {RULER} is not there (set LABKIT_ROBOT_COST to its path)")
        return 0
    cols = ("layout", "robot", "expert s", "before s", "after s", "after/expert", "after/before", "tips b→a",
            "pick-ups b→a", "goal")
    widths = [16, 5, 8, 8, 8, 12, 12, 11, 12, 6]
    line = " | ".join(f"{c:>{w}}" for c, w in zip(cols, widths))
    print(f"Deck time on {RULER.name} (delays excluded): labkit before (v01 protocols) and after, vs the expert.")
    print(f"Goal: after <= {GOAL:.2f} × expert, every row.")
    print(line)
    print("-" * len(line))
    ok, notes = True, []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for (layout, robot), expert in EXPERT_S.items():
            now = tmp / f"{layout}_{robot}.py"
            now.write_text(generate(HERE / "layouts" / f"{layout}_v01.yaml", robot), encoding="utf-8")
            before = tmp / f"{layout}_{robot}_v01.py"
            before.write_text((HERE / "baseline" / f"{layout}_{robot}_v01.py.txt").read_text(encoding="utf-8"),
                              encoding="utf-8")
            a_json = analyze(now, tmp / "after.json")
            analyze(before, tmp / "before.json")
            a, b = rc.cost(str(tmp / "after.json")), rc.cost(str(tmp / "before.json"))
            ratio = a["deck_s"] / expert
            good = ratio <= GOAL and not a["errors"]
            ok &= good
            row = (layout, robot, f"{expert:.0f}", f"{b['deck_s']:.0f}", f"{a['deck_s']:.0f}", f"{ratio:.2f}",
                   f"{a['deck_s'] / b['deck_s']:.2f}", f"{b['tips']}→{a['tips']}",
                   f"{b['tip_pickups']}→{a['tip_pickups']}", "met" if good else "MISSED")
            print(" | ".join(f"{str(v):>{w}}" for v, w in zip(row, widths)))
            if layout == "kinase_panel":
                start = step_seconds(rc, a_json, ": start — ", tmp)
                notes.append(f"  {layout} {robot}: the ATP start (into the liquid, mixed, a fresh tip every stamp) "
                             f"takes {start:.0f} s; the rest of the plan {a['deck_s'] - start:.0f} s "
                             f"({(a['deck_s'] - start) / expert:.2f} × the expert's whole protocol)")
    if notes:
        print("\n".join(["", "where the kinase time goes:"] + notes))
    revised(rc)
    print("goal met on every row" if ok else "goal NOT met on every row (see README, Deck time)")
    return 0 if ok else 1


def revised(rc) -> None:
    """The revised kinase panel (entrectinib + staurosporine: 21 doses, frozen in layouts/kinase_panel_v02.yaml):
    labkit's plan before the row-patterned intermediate plate (compound well by well, a fresh tip each; frozen in
    baseline/kinase_panel_<robot>_v02.py.txt) against today's, on the same ruler. No expert figure exists for it."""
    cols = ("layout", "robot", "before s", "after s", "after/before", "compound s b→a", "tips b→a", "pick-ups b→a")
    widths = [16, 5, 8, 8, 12, 15, 11, 12]
    print("\nThe revised panel (kinase_panel_v02: 21 doses), before the row-patterned intermediate plate and after:")
    print(" | ".join(f"{c:>{w}}" for c, w in zip(cols, widths)))
    from labkit.protocol.cli import generate

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for robot in ("ot2", "flex"):
            now = tmp / f"now_{robot}.py"
            now.write_text(generate(HERE / "layouts" / "kinase_panel_v02.yaml", robot), encoding="utf-8")
            before = tmp / f"before_{robot}.py"
            before.write_text((HERE / "baseline" / f"kinase_panel_{robot}_v02.py.txt").read_text(encoding="utf-8"),
                              encoding="utf-8")
            a_json, b_json = analyze(now, tmp / "after.json"), analyze(before, tmp / "before.json")
            a, b = rc.cost(str(tmp / "after.json")), rc.cost(str(tmp / "before.json"))
            dose_b = step_seconds(rc, b_json, "compound intermediate", tmp)
            dose_a = step_seconds(rc, a_json, "compound intermediate", tmp)
            row = ("kinase_panel_v02", robot, f"{b['deck_s']:.0f}", f"{a['deck_s']:.0f}",
                   f"{a['deck_s'] / b['deck_s']:.2f}", f"{dose_b:.0f}→{dose_a:.0f}", f"{b['tips']}→{a['tips']}",
                   f"{b['tip_pickups']}→{a['tip_pickups']}")
            print(" | ".join(f"{str(v):>{w}}" for v, w in zip(row, widths)))


if __name__ == "__main__":
    sys.exit(main())
