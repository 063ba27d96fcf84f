"""The demo's part in the run store: three recorded runs per layout (the demo's own and two more noise seeds),
so that `labkit history` has a history to draw on a fresh clone."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

EXTRA_SEEDS = 2  # runs recorded per layout beside the demo's own analysis


def record_demo_runs(protocol_run, exp, layout: Path, out: Path, analysis, *, seed: int, pipetting_cv: float,
                     db: str | None = None, echo: Callable[[str], None] = print) -> list:
    """Record the demo's analysis of a layout and EXTRA_SEEDS more virtual runs (other noise seeds) of it."""
    from labkit.analysis.pipeline import analyze_joined
    import pandas as pd

    from labkit.demo import time_zero_readout, write_virtual_readout
    from labkit.readout import read
    from labkit.readout.join import join_layout
    from labkit.store.db import open_store
    from labkit.store.record import record_result

    protocol = {"path": str(protocol_run.path), "robot": protocol_run.robot, "simulation_ok": protocol_run.ok,
                "simulation_summary": protocol_run.summary}
    suffix = exp.assay_kind.readout_suffix
    runs = [(analysis, out / "readouts" / f"{layout.stem}{suffix}")]
    for k in range(1, EXTRA_SEEDS + 1):
        readout = write_virtual_readout(protocol_run.simulation, exp, out / "readouts" / f"{layout.stem}_seed{seed + 10 * k}",
                                        seed=seed + 10 * k, pipetting_cv=pipetting_cv)
        t0 = time_zero_readout(readout)  # the time-zero plate's export, when the layout has one (GR metrics)
        table = pd.concat([read(readout), read(t0)], ignore_index=True) if t0.is_file() else read(readout)
        joined = join_layout(table, exp.wells_table(), source=str(readout))
        runs.append((analyze_joined(joined, exp.assay, low_role=getattr(exp, "low_control", None) or None,
                                   experiment=exp), readout))
    store = open_store(db)
    try:
        recorded = [record_result(a, layout=layout, readouts=[r], protocol=protocol, experiment=exp.name, store=store)
                    for a, r in runs]
    finally:
        store.close()
    new = sum(r.created for r in recorded)
    echo(f"      recorded {len(recorded)} runs of {layout.name} ({new} new) in {store.display}: "
         f"runs {', '.join(str(r.run_id) for r in recorded)}")
    return recorded
