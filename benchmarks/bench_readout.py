"""Readout import speed: wells per second for 384-well files, as a ratio to a plain pandas.read_csv.

Baseline: pandas.read_csv of the bare 16x24 grid (same values, row labels, no metadata), run in the same
process. Measured: labkit.readout.read() of a MicroBeta2 export (header, counts grid, read-time grid;
labkit's own parser), of a generic grid CSV, and of an EnVision export (allotropy's parser; allotropy is
imported before timing). Goal: labkit's own parsers within 20x of pandas.read_csv (they also find the
blocks, plates, markers and flags); main() returns 1 if they are not.
Run: .venv/bin/python benchmarks/bench_readout.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from labkit.readout import read
from labkit.readout.writers import write_luminescence, write_microbeta
from labkit.tables import plate_wells


def best_of(fn, repeat: int = 7, number: int = 5) -> float:
    """Best mean seconds per call over `repeat` rounds of `number` calls."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


GOAL_SLOWDOWN = 20.0


def main() -> int:
    """Write the 384-well files, time each import, print wells/s and the ratio to pandas; 1 if off goal."""
    rng = np.random.default_rng(7)
    wells = plate_wells(384)
    values = rng.integers(150, 60000, len(wells)).astype(float)
    df = pd.DataFrame({"plate": "KIN-1", "well": wells, "value": values})
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        mb = write_microbeta(df, d / "microbeta_384.csv")
        env = write_luminescence(df, d / "envision_384.csv")
        grid = d / "grid_384.csv"
        letters = sorted({w[0] for w in wells}, key=lambda s: s)
        lines = ["," + ",".join(str(c) for c in range(1, 25))]
        for i, lt in enumerate(letters):
            lines.append(lt + "," + ",".join(str(int(v)) for v in values[i * 24:(i + 1) * 24]))
        grid.write_text("\n".join(lines) + "\n")

        assert len(read(mb)) == 384 and len(read(grid)) == 384 and len(read(env)) == 384  # also warms up
        base = best_of(lambda: pd.read_csv(grid, index_col=0))
        print(f"baseline pandas.read_csv(16x24 grid): {384 / base:>10,.0f} wells/s ({base * 1e3:.2f} ms)")
        missed = []
        for name, path, goal in (("MicroBeta2 export (labkit parser)", mb, True),
                                 ("generic grid CSV (labkit parser)", grid, True),
                                 ("EnVision export (allotropy)", env, False)):
            t = best_of(lambda p=path: read(p), repeat=5, number=3)
            print(f"{name:<36} {384 / t:>10,.0f} wells/s ({t * 1e3:.2f} ms)  "
                  f"= {base / t:.2f}x pandas.read_csv ({t / base:.1f}x slower)")
            if goal and t / base > GOAL_SLOWDOWN:
                missed.append(name)
    print(f"goal: labkit parsers within {GOAL_SLOWDOWN:.0f}x of pandas.read_csv: "
          + ("met" if not missed else f"MISSED by {', '.join(missed)}"))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
