"""Benchmark: runs of 1, 2, 4, 8 and 16 plates of each assay on both robots (plan/batches.py puts the plates that do
not fit one deck into batches).

Each seed layout (kinase_panel, viability_km12, dilution_tutorial) is repeated to n plates (labkit.layout.repeat),
planned, emitted, run through the real Opentrons analysis in this process and verified against its layout. Per
run: generation and simulation time, tips (an 8-channel pick-up counts its working nozzles), pick-ups, commands,
deck time per plate and manual steps (pauses and manual labware moves). Deck time is the fixed, independent model
of ../shared/tools/robot_cost.py applied to the same analysis JSON (motion, liquid and tip handling; delays and
pauses excluded); labkit's own estimate without delays (labkit.simulate.cost) is printed next to it, and its
wall-clock (delays included) against the 1-plate run's: two Flex kinase plates run interleaved on two temperature
modules (issue 12), so 2 plates take well under twice one plate's time.

Goal: deck time per plate stays flat as plates are added — every run of more than 2 plates within 10 % of the
2-plate run's per-plate figure (robot_cost). Exit 1 when a row misses it or a run does not verify.
Run: .venv/bin/python benchmarks/bench_scale.py   (LABKIT_SCALE_SIZES=1,2,4 for fewer sizes,
LABKIT_SCALE_ASSAYS=dilution_plate for one assay, LABKIT_SCALE_ROBOTS=flex for one robot)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_deck import ruler  # noqa: E402  (the one robot_cost loader)
SEEDS = {"kinase_radiometric": "kinase_panel", "cell_viability_ctg": "viability_km12",
         "dilution_plate": "dilution_tutorial"}
SIZES = tuple(int(x) for x in os.environ.get("LABKIT_SCALE_SIZES", "1,2,4,8,16").split(","))
ASSAYS = tuple(os.environ.get("LABKIT_SCALE_ASSAYS", ",".join(SEEDS)).split(","))
ROBOTS = tuple(os.environ.get("LABKIT_SCALE_ROBOTS", "ot2,flex").split(","))
GOAL = 1.10


def batches(plan) -> int:
    """Batches of a plan (plan.batches: its first step says 'Batch 1 of N'), 1 when it runs in one go."""
    import re

    first = getattr(plan.steps[0], "text", "") if plan.steps else ""
    m = re.match(r"Batch 1 of (\d+):", first)
    return int(m.group(1)) if m else 1


def run(seed: str, n: int, robot: str, tmp: Path, ruler) -> dict:
    """Plan, emit, analyze and verify one n-plate run; the figures of one table row."""
    from labkit.layout.io import load_experiment
    from labkit.layout.repeat import write_repeated
    from labkit.plan import build_plan
    from labkit.protocol.emit import emit
    from labkit.simulate import simulate, verify_experiment

    layout = write_repeated(ROOT / "layouts" / f"{seed}.yaml", n, tmp / f"{seed}_{n}.yaml")
    exp = load_experiment(layout)
    t0 = time.perf_counter()
    plan = build_plan(exp, robot)
    protocol = tmp / f"{seed}_{n}_{robot}.py"
    protocol.write_text(emit(plan), encoding="utf-8")
    t1 = time.perf_counter()
    sim = simulate(protocol, in_process=True)
    t2 = time.perf_counter()
    report = verify_experiment(sim.ledger, exp, sim.timeline)
    row = {"seed": seed, "n": n, "robot": robot, "gen_s": t1 - t0, "sim_s": t2 - t1, "tips": sim.cost.tips_used,
           "commands": len(sim.analysis.get("commands", [])), "manual": len(sim.cost.pauses),
           "labkit_s": sim.cost.time_without_delays_s, "wall_s": sim.cost.time_s,
           "ok": not sim.errors and report.ok,
           "batches": batches(plan),
           "warnings": len(plan.warnings)}
    if ruler is not None:
        path = tmp / f"{seed}_{n}_{robot}.json"
        path.write_text(json.dumps(sim.analysis), encoding="utf-8")
        rc = ruler.cost(str(path))
        row.update(pickups=rc["tip_pickups"], deck_s=rc["deck_s"])
    else:
        row.update(pickups=sum(1 for c in sim.analysis.get("commands", []) if c["commandType"] == "pickUpTip"),
                   deck_s=row["labkit_s"])
    return row


def main() -> int:
    rc = ruler()
    print("deck time: " + ("../shared/tools/robot_cost.py on the analysis JSON" if rc else
                           "labkit.simulate.cost (robot_cost.py not found)")
          + "; 'labkit' = labkit's own estimate without delays; per plate = run / plates")
    print(f"{'assay':>18} | robot | plates | batches | gen s | sim s |  tips | pick-ups | commands | "
          "deck s/plate | labkit s/plate | vs 2 plates | wall h | wall vs 1 | manual | verify")
    missed = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for assay, seed in SEEDS.items():
            if assay not in ASSAYS:
                continue
            for robot in ROBOTS:
                base = one = None
                for n in SIZES:
                    row = run(seed, n, robot, tmp, rc)
                    per = row["deck_s"] / n
                    if n == 2:
                        base = per
                    if n == 1:
                        one = row["wall_s"]
                    wall = f"{row['wall_s'] / one:.2f}" if one else ""
                    ratio = per / base if base and n >= 2 else float("nan")
                    flag = ""
                    if n > 2 and base and ratio > GOAL:
                        flag = " MISS"
                        missed.append(f"{assay} {robot} {n}")
                    if not row["ok"]:
                        missed.append(f"{assay} {robot} {n} (verify)")
                    print(f"{assay:>18} | {robot:>5} | {n:6} | {row['batches']:7} | {row['gen_s']:5.1f} | "
                          f"{row['sim_s']:5.1f} | {row['tips']:5} | {row['pickups']:8} | {row['commands']:8} | "
                          f"{per:12.0f} | {row['labkit_s'] / n:14.0f} | "
                          f"{'' if ratio != ratio else f'{ratio:.2f}':>11}{flag} | {row['wall_s'] / 3600:6.2f} | "
                          f"{wall:>9} | {row['manual']:6} | "
                          f"{'pass' if row['ok'] else 'FAIL'}", flush=True)
    if missed:
        print("goal missed: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
