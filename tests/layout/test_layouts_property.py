"""Every layout the schema accepts either runs and verifies (the whole recipe, timing included), or is refused up
front by `labkit layout validate` with exit 2 and a message.

Hypothesis draws layouts across the schema — both assays, 96 and 384, 1–8 compounds, 1–5 targets or cell lines,
1–4 replicates, control counts, up to 4 copies of the plates (long mode), edge policies, explicit wells, both robots, both tip policies — generates the
protocol, runs the real Opentrons analysis in-process and verifies it. CI runs a few derandomized examples;
LABKIT_LONG=N runs N random examples with the full ranges (`make test-long N=200`).
"""

from __future__ import annotations

import os

import yaml
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from labkit.errors import LabkitError

LONG = int(os.environ.get("LABKIT_LONG") or 0)  # number of examples in the long mode
SMALL = not LONG  # CI: small plates' worth of work per example


@st.composite
def layouts(draw) -> dict:
    """An experiment file's data: mostly runnable sizes (one plate per target / cell line), some that are not."""
    assay = draw(st.sampled_from(["kinase_radiometric", "cell_viability_ctg"]))
    kinase = assay == "kinase_radiometric"
    fmt = draw(st.sampled_from([96, 384]))
    edges = draw(st.sampled_from(["use", "empty", "buffer"]))
    rows_free = (16 if fmt == 384 else 8) - (2 if edges != "use" else 0)
    n_compounds = draw(st.integers(1, 2 if SMALL else 8))
    n_groups = draw(st.integers(1, 2 if SMALL else 5))
    replicates = draw(st.integers(1, max(1, min(2 if SMALL else 4, rows_free // n_compounds))))
    points = draw(st.integers(4, 10 if edges == "use" else 8))
    explicit = draw(st.booleans()) and n_compounds <= rows_free
    vehicle, other = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    groups = [f"K{i + 1}" if kinase else f"L{i + 1}" for i in range(n_groups)]
    compounds = [{"name": f"cpd{i + 1}", "stock": "10 mM",
                  "dilution": {"top": "100 nM" if kinase else "1 uM", "factor": 3, "points": points,
                               "replicates": replicates}} for i in range(n_compounds)]
    data: dict = {"name": "property", "assay": assay, "compounds": compounds}
    key = "targets" if kinase else "cell_lines"
    if kinase:
        data["targets"] = [{"name": g, "enzyme": "2 nM", "substrate": "IGF1Rtide", "atp": "10 uM"} for g in groups]
        data["controls"] = {"vehicle": vehicle, "positive": other, "minimum": 1}
    else:
        growth = draw(st.sampled_from(["adherent", "suspension"]))
        data["cell_lines"] = [{"name": g, "growth": growth, "cells_per_well": 2000} for g in groups]
        data["controls"] = {"vehicle": vehicle, "blank": other, "minimum": 1}
        if fmt == 384:  # the 96-well defaults (90 + 10 + 100 µL) do not fit a 384-well plate
            data["volumes"] = {"cells": "36 uL", "compound": "4 uL", "ctg": "40 uL"}
    plates = []
    for i, g in enumerate(groups):  # one plate per target / cell line
        plate: dict = {"id": f"P-{i + 1}", "format": fmt, "edges": edges, key: [g]}
        if explicit:  # each compound's series along a row, then its controls
            rows, c0 = "ABCDEFGHIJKLMNOP", 2 if edges != "use" else 1
            r0 = 1 if edges != "use" else 0
            column = "target" if kinase else "cell_line"
            ctrl = "positive" if kinase else "blank"
            wells = []
            for r, c in enumerate(compounds, start=r0):
                wells += [{"well": f"{rows[r]}{c0}:{rows[r]}{c0 + points - 1}", "role": "sample",
                           "compound": c["name"], column: g},
                          {"well": f"{rows[r]}{c0 + points}", "role": "vehicle", column: g},
                          {"well": f"{rows[r]}{c0 + points + 1}", "role": ctrl, column: g}]
            plate = {"id": plate["id"], "format": fmt, "edges": edges, "wells": wells}
        plates.append(plate)
    if explicit:
        data["controls"] = {"minimum": 1}
    copies = draw(st.integers(1, 1 if SMALL else 4))  # long mode: the plates repeated, runs in batches (plan.batches)
    data["plates"] = [dict(p, id=f"{p['id']}-{k + 1}" if k else p["id"]) for k in range(copies) for p in plates]
    return data


def _validate(path) -> tuple[int, str]:
    """`labkit layout validate PATH`: (exit code, stdout + stderr)."""
    import contextlib
    import io

    from labkit.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["layout", "validate", str(path)])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue() + err.getvalue()


@settings(max_examples=LONG or 6, deadline=None, derandomize=not LONG,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=layouts(), robot=st.sampled_from(["ot2", "flex"]), tip_policy=st.sampled_from(["per_step", "per_series"]))
def test_every_accepted_layout_runs_and_verifies(tmp_path, data, robot, tip_policy):
    from labkit.layout.io import load_experiment
    from labkit.plan import build_plan
    from labkit.protocol.emit import emit
    from labkit.simulate import simulate, verify_experiment

    layout = tmp_path / "layout.yaml"
    layout.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code, out = _validate(layout)
    note(f"{robot} {tip_policy}\n{layout.read_text()}\nvalidate: {code} {out}")
    event("refused by validate" if code else "accepted")
    if code != 0:  # refused up front: exit 2 with a message that names the file and says what is wrong
        assert code == 2 and "Traceback" not in out and str(layout) in out, out
        return
    exp = load_experiment(layout)
    try:
        plan = build_plan(exp, robot, tip_policy=tip_policy)
    except LabkitError as exc:  # only the tip policy is not covered by validate
        assert tip_policy == "per_series", f"validate passed but the planner refused: {exc}"
        return
    protocol = tmp_path / "protocol.py"
    protocol.write_text(emit(plan), encoding="utf-8")
    sim = simulate(protocol, in_process=True)
    assert not sim.errors, [str(e) for e in sim.errors[:3]]
    report = verify_experiment(sim.ledger, exp, sim.timeline)
    assert report.ok, report.summary()
