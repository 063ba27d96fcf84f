"""Benchmark: vectorised LL.4 fitting (labkit.analysis.fit.fit_curves) vs a scipy.optimize.curve_fit loop, and
labkit's default fit (labkit.analysis.models.fit_model: bounds + per-curve model selection) in-process and through
`labkit fit` (wall time of the whole command, start-up and CSV in/out included) on the same 20,000 curves.
Goals (issue 11): >= 50,000 curves/s in-process on the reference machine (where drc-style LL.4 ran ~46,000/s),
i.e. the default fit at least ~1.09x the LL.4 fit of that time; >= 10,000 curves/s through `labkit fit`. The LL.4
fit itself became ~1.6x faster since (the solver stops at a minimum to working precision, cheaper linear algebra),
so the same-run ratio printed here (~0.7x) is no longer the goal's measure: README gives the old-vs-new figures
measured in one process. Other work on the machine changes absolute rates (the CLI's CPU time is printed too).

Same simulated 10-point curves (vehicle + 9 half-log doses, 1 nM .. 10 uM) in the same run. Goal: >= 10,000
curves/s on 2 cores. Then a sanity check on real data, the CTRP v2 40 uM viability subset (1,246 curves,
/work/shared/data/ctrp40, skipped when absent): agreement of pIC50 with CurveCurator's published fits where
CurveCurator calls a curve regulated, with labkit's default (unbounded) LL.4 and with CurveCurator's bounds.
Run: .venv/bin/python benchmarks/bench_fit.py
"""

from __future__ import annotations

import collections
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from labkit.analysis.fit import fit_curves, ll4

GOAL = 10_000  # curves/s
N_CURVES = 20_000
N_LOOP = 1_000  # curves for the curve_fit loop (its rate is per curve, so a subset suffices)
DOSES = np.r_[0.0, 10.0 ** np.arange(-9, -4.9, 0.5)]
CTRP = Path(__file__).resolve().parents[2] / "shared" / "data" / "ctrp40"
CTRP_DOSES_UM = np.array([0, 0.0012, 0.0024, 0.0049, 0.0097, 0.019, 0.039, 0.078, 0.16, 0.31, 0.62, 1.2, 2.5,
                          5.0, 10.0, 20.0, 40.0])


def simulate(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n noisy decreasing curves (b 0.6-3, bottom ~5, top ~100, IC50 10 nM-1 uM, noise SD 5)."""
    rng = np.random.default_rng(seed)
    b, c = rng.uniform(0.6, 3.0, n), rng.normal(5, 3, n)
    d, e = rng.normal(100, 5, n), 10 ** rng.uniform(-8, -6, n)
    x = np.tile(DOSES, (n, 1))
    y = ll4(x, b[:, None], c[:, None], d[:, None], e[:, None]) + rng.normal(0, 5, x.shape)
    return x, y


def best_of(fn, repeat: int = 3) -> tuple[object, float]:
    """(result, best wall time) of fn()."""
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def curve_fit_loop(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """One scipy.optimize.curve_fit per curve (LM, ln e parameter, a data-based start): (n, 4) b, c, d, e."""
    from scipy.optimize import curve_fit

    def model(xx, b, c, d, le):
        return ll4(xx, b, c, d, np.exp(le))

    out = np.full((len(y), 4), np.nan)
    for i in range(len(y)):
        p0 = [1.0, y[i].min(), y[i].max(), np.log(np.median(x[i][x[i] > 0]))]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p, _ = curve_fit(model, x[i], y[i], p0=p0, maxfev=5000)
        except RuntimeError:  # no convergence within maxfev
            continue
        out[i] = [p[0], p[1], p[2], np.exp(p[3])]
    return out


def ctrp_check() -> None:
    """pIC50 vs CurveCurator's pEC50 on the CTRP curves it calls regulated (fit_curves only: labkit's default
    fit on these curves is benchmarks/bench_ctrp.py)."""
    curves = pd.read_csv(CTRP / "dose_responses_40.0.tsv", sep="\t")
    published = pd.read_csv(CTRP / "curvecurator_published_curves.tsv", sep="\t").set_index("Name")
    y = curves[[f"Raw {i}" for i in range(17)]].to_numpy(float)
    x = np.tile(CTRP_DOSES_UM * 1e-6, (len(y), 1))
    merged = published.reindex(curves["Name"])
    regulated = merged["Curve Regulation"].isin(["down", "up"]).to_numpy()
    print(f"\nCTRP v2 40 uM subset: {len(y)} curves x 17 points, {regulated.sum()} called regulated by CurveCurator")
    for label, kw in (("drc-style LL.4 (unbounded; labkit fit --model ll4 --unbounded)", {}),
                      ("CurveCurator's bounds (bottom >= 1e-4, |b| <= 10)",
                       {"bounds": {"c": (1e-4, np.inf), "b": (-10.0, 10.0)}})):
        res, t = best_of(lambda kw=kw: fit_curves(x, y, **kw), repeat=2)
        dp = np.abs(res.pic50 - merged["pEC50"].to_numpy())[regulated]
        flags = collections.Counter(f for fl in np.asarray(res.flags)[regulated] for f in (fl.split(";") if fl else
                                                                                          ["(clean)"]))
        print(f"  {label}: {len(y) / t:,.0f} curves/s; regulated curves: median |dpIC50| {np.median(dp):.4f}, "
              f"P75 {np.percentile(dp, 75):.3f}, P90 {np.percentile(dp, 90):.3f}, "
              f"within 0.1: {np.mean(dp < 0.1):.0%}")
        print("    flags on those curves: " + ", ".join(f"{k} {v}" for k, v in sorted(flags.items())))


def defaults_and_cli(x: np.ndarray, y: np.ndarray, t_ll4: float) -> None:
    """labkit's default fit in-process and `labkit fit` end to end, against the LL.4 time t_ll4 of this run."""
    import resource
    import subprocess
    import tempfile

    from labkit.analysis.models import fit_model

    fit_model(x[:50], y[:50])
    _, t_def = best_of(lambda: fit_model(x, y))
    n = len(y)
    rows = [("LL.4, fit_curves (drc-style, the baseline)", n / t_ll4, 1.0),
            ("default fit_model (bounds + model selection)", n / t_def, t_ll4 / t_def)]
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "curves.csv"
        pd.DataFrame({"curve": np.repeat(np.arange(n), x.shape[1]), "conc": x.ravel(), "resp": y.ravel()}
                     ).to_csv(table, index=False)
        exe = Path(sys.executable).with_name("labkit")
        walls, cpus, run = [], [], None
        for _ in range(2):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            run = subprocess.run([str(exe), "fit", str(table), "--curve", "curve", "--conc", "conc", "--response",
                                  "resp", "-o", str(Path(tmp) / "out.csv")], capture_output=True, text=True)
            walls.append(time.perf_counter() - t)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    wall, cpu = min(walls), min(cpus)
    rows += [("labkit fit CLI, wall (start-up, CSV in/out incl.)", n / wall, t_ll4 / wall),
             ("labkit fit CLI, per CPU-second (all threads)", n / cpu, t_ll4 / cpu)]
    print(f"\n  {'':52s} {'curves/s':>10s}  {'x LL.4 (same run)':>17s}")
    for label, rate, ratio in rows:
        print(f"  {label:52s} {rate:>10,.0f}  {ratio:>16.2f}x")
    if run.returncode != 0:
        print("  labkit fit FAILED: " + run.stderr[-300:])
    print("  goals (issue 11): default >= 50,000/s in-process on the reference machine, where the LL.4 fit of the "
          "time ran 46,000/s (1.09x that LL.4; the LL.4 fit itself has become ~1.6x faster since, so the same-run "
          "ratio above understates it); labkit fit >= 10,000 curves/s wall on 20,000 curves "
          f"(here: {'met' if n / wall >= GOAL else 'NOT met'} at {n / wall:,.0f}/s wall with the machine's load, "
          f"{n / cpu:,.0f} per CPU-second)")


def main() -> int:
    """Print curves/s of the vectorised fit, of a curve_fit loop on the same curves, their ratio, agreement."""
    x, y = simulate(N_CURVES)
    fit_curves(x[:50], y[:50])  # warm-up: scipy imports
    res, t_vec = best_of(lambda: fit_curves(x, y))
    rate = N_CURVES / t_vec
    ref, t_loop = best_of(lambda: curve_fit_loop(x[:N_LOOP], y[:N_LOOP]), repeat=1)
    rate_loop = N_LOOP / t_loop
    print(f"{N_CURVES:,} simulated 10-point curves (vehicle + 9 half-log doses)")
    print(f"  vectorised fit_curves:        {rate:>10,.0f} curves/s ({t_vec:.2f} s)")
    print(f"  scipy curve_fit loop ({N_LOOP:,}):  {rate_loop:>10,.0f} curves/s ({t_loop:.2f} s)")
    print(f"  ratio: {rate / rate_loop:,.0f}x the curve_fit loop")
    ok = np.isfinite(ref).all(axis=1) & (np.asarray(res.flags[:N_LOOP]) == "")
    rel = np.abs(res.params[:N_LOOP][ok] - ref[ok]) / np.abs(ref[ok])
    better = res.rss[:N_LOOP] <= ((y[:N_LOOP] - ll4(x[:N_LOOP], *(np.nan_to_num(ref[:, k:k + 1]) for k in range(4))))
                                  ** 2).sum(axis=1) * (1 + 1e-9)
    print(f"  agreement on {ok.sum()} clean curves curve_fit also fitted: median relative difference of e "
          f"{np.median(rel[:, 3]):.1e}; labkit's RSS <= curve_fit's on {better.mean():.1%} of all {N_LOOP}")
    flags = collections.Counter(f for fl in res.flags for f in (fl.split(";") if fl else ["(clean)"]))
    print("  flags: " + ", ".join(f"{k} {v}" for k, v in sorted(flags.items())))
    defaults_and_cli(x, y, t_vec)
    if CTRP.is_dir():
        ctrp_check()
    else:
        print(f"\n(CTRP data not found at {CTRP}; real-data check skipped)")
    print(f"\ngoal >= {GOAL:,} curves/s: {'met' if rate >= GOAL else 'NOT met'} ({rate:,.0f})")
    return 0 if rate >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
