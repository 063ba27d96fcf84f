"""An assay's history from the run store: control charts with run rules, potency across runs, runs out of control.

Control charts (one point per run and plate x target / cell line, in the order runs were recorded):
Z' per plate (with the fixed 0.5 acceptance line), vehicle signal, no-enzyme / no-cell signal, and the
reference compound's pIC50. Limits are mean ± 3 SD. A run is judged against limits from the *other* runs
(leave-one-out) while there are fewer than BASELINE runs, and against the first BASELINE runs once there are
that many (a fixed baseline, as Westgard recommends: about 20 runs); with few runs its z is the
normal-equivalent of a t statistic (prediction interval), so a short history gives no extra false alarms. Run rules (Westgard multirule, the
same tests as Nelson's 1, 2, 5 and 3): 1_3s (one point beyond 3 SD), 2_2s (two in a row beyond 2 SD, same
side), R_4s (two in a row 4 SD apart), 4_1s (four in a row beyond 1 SD, same side), 10_x (ten in a row on one
side of the mean), 6_trend (six in a row rising or falling).

Potency across runs (NCBI Assay Guidance Manual, "Minimum Significant Ratio – A Statistic to Assess Assay
Variability"): per compound x target / cell line, n runs with an IC50, the geometric-mean IC50 with its 95 %
CI (t on log10 IC50), s = SD of log10 IC50 and MSR = 10^(2·√2·s) once n >= MSR_MIN_N. Two potencies of one
compound differ significantly when their ratio exceeds the MSR; an MSR below 3 is the usual bar for an assay
that supports SAR. Only the newest version of each readout's analysis counts.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from labkit.store.db import Store

BASELINE = 20          # runs that fix the limits once the history is that long (Westgard: >= 20)
MIN_OTHERS = 3         # a run is judged when at least this many other runs give the limits
MSR_MIN_N = 3          # runs with an IC50 before an MSR is given (s needs >= 2 degrees of freedom)
Z_PRIME_MIN = 0.5
NO_IC50 = ("flat", "all_nan", "too_few_points")
METRICS = {"z_prime": "Z′", "vehicle_mean": "vehicle signal", "low_mean": "{low} signal", "pic50": "pIC50"}
LOW_LABEL = {"positive": "no-enzyme", "no_enzyme": "no-enzyme", "blank": "no-cell"}


# --- loading ------------------------------------------------------------------------------------------------

def load_tables(store: Store, *, assay: str | None = None, all_versions: bool = False) -> dict[str, pd.DataFrame]:
    """runs, plate_qc and fits of the store as DataFrames (newest version of each readout unless all_versions)."""
    from sqlalchemy import select

    from labkit.store.models import Fit, PlateQC, Run

    cols = [Run.id, Run.version, Run.readout_key, Run.previous_id, Run.created_at, Run.user, Run.assay,
            Run.experiment, Run.robot, Run.simulation_ok, Run.labkit_version, Run.n_plates, Run.n_fits, Run.qc_pass]
    q = select(*cols).order_by(Run.id)
    if assay:
        q = q.where(Run.assay == assay)
    with store.engine.connect() as conn:
        runs = pd.DataFrame(conn.execute(q).mappings().all(), columns=[c.key for c in cols])
        if not all_versions and len(runs):
            newest = runs.groupby("readout_key")["version"].transform("max")
            runs = runs[runs["version"] == newest].reset_index(drop=True)
        ids = [int(i) for i in runs["id"]]
        qc_cols = [c for c in PlateQC.__table__.columns if c.key != "extra"]
        fit_cols = [c for c in Fit.__table__.columns if c.key != "extra"]
        # the potencies the runs' kinds report besides the IC50 live in the fits' JSON extra: read it in the same query
        pot_cols = sorted({c for a in set(runs["assay"]) for p in kind_potencies(str(a))
                           for c in (p.column, p.ci_low, p.ci_high) if c})
        read_cols = fit_cols + ([Fit.__table__.c.extra] if pot_cols else [])
        qc = pd.DataFrame(conn.execute(select(*qc_cols).where(PlateQC.run_id.in_(ids)).order_by(PlateQC.id))
                          .mappings().all(), columns=[c.key for c in qc_cols]) if ids else \
            pd.DataFrame(columns=[c.key for c in qc_cols])
        fits = pd.DataFrame(conn.execute(select(*read_cols).where(Fit.run_id.in_(ids)).order_by(Fit.id))
                            .mappings().all(), columns=[c.key for c in read_cols]) if ids else \
            pd.DataFrame(columns=[c.key for c in fit_cols])
        extras = fits.pop("extra") if "extra" in fits else None
        if extras is not None and len(fits):
            for col in pot_cols:
                fits[col] = [_num((e or {}).get(col)) for e in extras]
    runs["created_at"] = pd.to_datetime(runs["created_at"], utc=True)
    for df in (qc, fits):
        for c in df.columns:
            if c not in ("plate", "group_name", "low_role", "flags", "compound", "role", "model", "converged"):
                df[c] = pd.to_numeric(df[c], errors="coerce")
    return {"runs": runs, "plate_qc": qc, "fits": fits}


def kind_potencies(assay: str) -> tuple:
    """The potencies besides the IC50 that an assay's kind reports (`AssayKind.history_potencies`); () for a kind
    this labkit does not know."""
    from labkit import assays
    from labkit.errors import LabkitError

    try:
        return tuple(assays.get(assay).history_potencies)
    except LabkitError:
        return ()


def _group_col(assay: str) -> str:
    """The wells-table column an assay groups its curves by (its kind's normalization), 'group' if unknown."""
    from labkit import assays
    from labkit.errors import LabkitError

    try:
        norm = assays.get(assay).normalization
    except LabkitError:
        return "group"
    return norm.group_col if norm is not None else "group"


def _num(x: object) -> float:
    """A stored number (None / text / NaN stored as null) as a float, NaN when it is none."""
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


# --- control limits and run rules --------------------------------------------------------------------------

def limits(values: np.ndarray) -> tuple[float, float]:
    """Mean and SD (n - 1) of the finite values (NaN when fewer than two)."""
    v = values[np.isfinite(values)]
    if v.size < 2:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1))


def judge(values: np.ndarray, *, baseline: int = BASELINE, min_others: int = MIN_OTHERS) -> pd.DataFrame:
    """Per point: the mean and SD it is judged against, its z, and the run rules it completes ('' if none).

    z is the normal-equivalent of the point's t statistic against the runs that set its limits
    ((x - mean) / (SD·√(1 + 1/n)), n - 1 degrees of freedom): with a long baseline it is (x - mean) / SD, and
    a short history does not raise the false alarms that 3 SD from a handful of runs would.
    """
    from scipy import stats

    v = np.asarray(values, dtype=float)
    n = v.size
    mean, sd, z = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    fixed = n >= baseline
    for i in range(n):
        pool = v[:baseline] if fixed else v
        others = np.delete(pool, i) if i < pool.size else pool
        others = others[np.isfinite(others)]
        if others.size < min_others or not np.isfinite(v[i]):
            continue
        mean[i], sd[i] = limits(others)
        if not sd[i] > 0:
            continue
        t = (v[i] - mean[i]) / (sd[i] * math.sqrt(1 + 1 / others.size))
        df = others.size - 1
        z[i] = stats.norm.isf(stats.t.sf(t, df)) if t > 0 else stats.norm.ppf(stats.t.cdf(t, df))
    rules: list[list[str]] = [[] for _ in range(n)]
    for i in range(n):
        if not np.isfinite(z[i]):
            continue
        if abs(z[i]) > 3:
            rules[i].append("1_3s")
        w = z[i - 1:i + 1] if i >= 1 else None
        if w is not None and np.isfinite(w).all():
            if (w > 2).all() or (w < -2).all():
                rules[i].append("2_2s")
            if w.max() > 2 and w.min() < -2:
                rules[i].append("R_4s")
        w = z[i - 3:i + 1] if i >= 3 else None
        if w is not None and np.isfinite(w).all() and ((w > 1).all() or (w < -1).all()):
            rules[i].append("4_1s")
        w = z[i - 9:i + 1] if i >= 9 else None
        if w is not None and np.isfinite(w).all() and ((w > 0).all() or (w < 0).all()):
            rules[i].append("10_x")
        w = v[i - 5:i + 1] if i >= 5 else None
        if w is not None and np.isfinite(w).all() and ((np.diff(w) > 0).all() or (np.diff(w) < 0).all()):
            rules[i].append("6_trend")
    return pd.DataFrame({"value": v, "mean": mean, "sd": sd, "z": z, "rules": [";".join(r) for r in rules]})


# --- history ---------------------------------------------------------------------------------------------

@dataclass
class ExtraPotency:
    """A potency besides the IC50 in one assay's history: its chart metric, label, note and table across runs."""

    metric: str             # chart metric name, e.g. 'pki_app'
    label: str              # e.g. 'Ki_app'
    note: str
    potency: pd.DataFrame   # as `potency_table`, from the potency's column


@dataclass
class AssayHistory:
    """One assay's charts data, potency table and out-of-control runs."""

    assay: str
    group_col: str
    low_role: str
    runs: pd.DataFrame
    points: pd.DataFrame        # one row per chart point: metric, group, plate, run_id, seq, value, mean, sd, z, rules
    potency: pd.DataFrame       # compound x group across runs
    flagged: pd.DataFrame       # run_id, reasons
    reference: str | None
    notes: list[str] = field(default_factory=list)
    pngs: dict[str, Path] = field(default_factory=dict)
    extra: list[ExtraPotency] = field(default_factory=list)  # e.g. Morrison Ki_app next to the IC50

    def label(self, metric: str) -> str:
        """A chart metric's name for people ('pIC50', 'pKi_app', 'no-enzyme signal')."""
        return metric_label(metric, self.extra, self.low_role)


def metric_label(metric: str, extra: list[ExtraPotency], low_role: str) -> str:
    """A chart metric's name for people: an extra potency's 'p' + label, else METRICS' name for it."""
    labels = {x.metric: f"p{x.label}" for x in extra}
    return labels.get(metric) or METRICS[metric].format(low=LOW_LABEL.get(low_role, low_role))


def _series_points(df: pd.DataFrame, metric: str, seq: dict[int, int], **judge_kw) -> list[pd.DataFrame]:
    """One judged series per target / cell line, in run order (plates of a run in their order): plate ids
    may change from run to run (barcodes), the target / cell line does not."""
    out = []
    for group, sub in df.groupby("group_name", sort=True):
        sub = sub.assign(seq=sub["run_id"].map(seq)).sort_values(["seq", "plate", "id"], kind="stable")
        j = judge(sub[metric].to_numpy(float), **judge_kw)
        out.append(pd.DataFrame({"metric": metric, "group": group, "plate": sub["plate"].to_numpy(str),
                                 "run_id": sub["run_id"].to_numpy(int), "seq": sub["seq"].to_numpy(int)})
                   .join(j))
    return out


def pick_reference(fits: pd.DataFrame, reference: str | None) -> tuple[str | None, str | None]:
    """The reference compound to chart and a note on how it was chosen."""
    if fits.empty:
        return None, None
    if reference:
        if reference not in set(fits["compound"]):
            return reference, f"no recorded fit of {reference!r} in this assay"
        return reference, None
    refs = sorted(set(fits.loc[fits["role"].astype(str).str.contains("reference"), "compound"]))
    if refs:
        return refs[0], None
    counts = fits.groupby("compound")["run_id"].nunique().sort_index()
    best = counts.idxmax()
    return best, (f"no compound has role 'reference' in the layouts: charting {best}, the compound in most "
                  f"runs ({int(counts.max())}); choose another with --reference")


def potency_table(fits: pd.DataFrame, column: str = "ic50_m") -> pd.DataFrame:
    """Compound x group across runs: n, geometric-mean IC50 with 95 % CI, SD of log10 IC50 and MSR.

    The statistics are `labkit.analysis.combine.combine_runs` (the same as `labkit combine`); curves flagged as
    having no IC50 (NO_IC50) do not count. column: another potency in M (e.g. 'ki_app_M'), same table columns.
    """
    from labkit.analysis.combine import combine_runs

    cols = ["compound", "group", "runs", "n", "gmean_ic50_nM", "ci_low_nM", "ci_high_nM", "sd_log10", "msr",
            "min_ic50_nM", "max_ic50_nM"]
    if fits.empty:
        return pd.DataFrame(columns=cols)
    ic50 = fits[column].to_numpy(float) if column in fits else np.full(len(fits), np.nan)
    usable = (np.isfinite(ic50) & (ic50 > 0)
              & ~fits["flags"].astype(str).apply(lambda f: bool(set(f.split(";")) & set(NO_IC50))).to_numpy())
    work = fits.assign(_ic50=np.where(usable, ic50, np.nan))
    combined, _ = combine_runs(work, keys=["compound", "group_name"], ic50="_ic50")
    spread = work.groupby(["compound", "group_name"], sort=True).agg(
        runs=("run_id", "nunique"), lo=("_ic50", "min"), hi=("_ic50", "max")).reset_index()
    t = combined.merge(spread, on=["compound", "group_name"], how="left", suffixes=("_n", ""))
    n = t["runs_n"].astype(int)
    return pd.DataFrame({
        "compound": t["compound"], "group": t["group_name"], "runs": t["runs"].astype(int), "n": n,
        "gmean_ic50_nM": t["geomean_ic50"] * 1e9, "ci_low_nM": t["ci_low"] * 1e9, "ci_high_nM": t["ci_high"] * 1e9,
        "sd_log10": t["log10_ic50_sd"], "msr": t["msr_compound"].where(n >= MSR_MIN_N),
        "min_ic50_nM": t["lo"] * 1e9, "max_ic50_nM": t["hi"] * 1e9}, columns=cols)


def assay_history(tables: dict[str, pd.DataFrame], assay: str, *, reference: str | None = None,
                  baseline: int = BASELINE) -> AssayHistory:
    """Charts data, potency table and out-of-control runs of one assay."""
    runs = tables["runs"][tables["runs"]["assay"] == assay].sort_values(["created_at", "id"], kind="stable")
    ids = set(runs["id"].astype(int))
    seq = {int(r): i + 1 for i, r in enumerate(runs["id"])}
    qc = tables["plate_qc"][tables["plate_qc"]["run_id"].isin(ids)]
    fits = tables["fits"][tables["fits"]["run_id"].isin(ids)]
    low = next((x for x in qc["low_role"].astype(str) if x), "low") if len(qc) else "low"
    group_col = _group_col(assay)
    notes: list[str] = []
    parts = []
    for metric in ("z_prime", "vehicle_mean", "low_mean"):
        parts += _series_points(qc, metric, seq, baseline=baseline)
    ref, note = pick_reference(fits, reference)
    if note:
        notes.append(note)
    if ref is not None:
        rf = fits[fits["compound"] == ref].assign(plate="")
        parts += _series_points(rf.assign(pic50=rf["pic50"].where(np.isfinite(rf["ic50_m"].astype(float)))),
                                "pic50", seq, baseline=baseline)
    extra = []
    for pot in kind_potencies(assay):
        values = fits[pot.column].to_numpy(float) if pot.column in fits else np.array([])
        if not (np.isfinite(values) & (values > 0)).any():
            continue  # runs recorded before the kind reported it, or no curve gave one
        metric = "p" + pot.label.lower()
        extra.append(ExtraPotency(metric, pot.label, pot.note, potency_table(fits, pot.column)))
        if ref is not None:
            rf = fits[fits["compound"] == ref].assign(plate="")
            v = rf[pot.column].to_numpy(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                rf = rf.assign(**{metric: np.where(np.isfinite(v) & (v > 0), -np.log10(v), np.nan)})
            parts += _series_points(rf, metric, seq, baseline=baseline)
    points = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["metric", "group", "plate", "run_id", "seq", "value", "mean", "sd", "z", "rules"])
    reasons: dict[int, list[str]] = {}
    for p in points.itertuples(index=False):
        where = f"{p.plate}/{p.group}" if p.plate else p.group
        label = metric_label(p.metric, extra, low)
        if p.rules:
            reasons.setdefault(int(p.run_id), []).append(f"{label} {where}: {p.rules.replace(';', ', ')} "
                                                         f"(z = {p.z:+.1f})")
        if p.metric == "z_prime" and not (np.isfinite(p.value) and p.value >= Z_PRIME_MIN):
            reasons.setdefault(int(p.run_id), []).append(f"Z′ {where} = {p.value:.2f} < {Z_PRIME_MIN}")
    flagged = pd.DataFrame([{"run_id": r, "seq": seq[r], "reasons": "; ".join(v)} for r, v in sorted(reasons.items())],
                           columns=["run_id", "seq", "reasons"])
    shortest = int(points.groupby(["metric", "group"]).size().min()) if len(points) else 0
    if shortest < MIN_OTHERS + 1:
        notes.append(f"some charts have {shortest} run(s): a run is judged against the others once there are "
                     f"{MIN_OTHERS + 1}; stable limits need about {baseline} runs (Westgard)")
    return AssayHistory(assay=assay, group_col=group_col, low_role=low, runs=runs, points=points,
                        potency=potency_table(fits), flagged=flagged, reference=ref, notes=notes, extra=extra)


def history(store: Store, *, assay: str | None = None, reference: str | None = None,
            baseline: int = BASELINE) -> list[AssayHistory]:
    """The history of each assay in the store (or of one)."""
    tables = load_tables(store, assay=assay)
    assays = sorted(set(tables["runs"]["assay"]))
    return [assay_history(tables, a, reference=reference, baseline=baseline) for a in assays]


# --- figures -----------------------------------------------------------------------------------------------

def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _chart(ax, pts: pd.DataFrame, title: str, *, z_line: bool = False) -> None:
    """One control chart: points in run order, mean and ± 3 SD lines, rule violations in red."""
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.25)
    if pts.empty:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="0.5")
        return
    ax.plot(pts["seq"], pts["value"], "-o", ms=4, lw=1, color="#1f4e79")
    bad = pts[pts["rules"] != ""]
    if z_line:
        bad = pd.concat([bad, pts[~(pts["value"] >= Z_PRIME_MIN)]])
        ax.axhline(Z_PRIME_MIN, color="#a32d1e", lw=1, ls=":", label=f"Z′ = {Z_PRIME_MIN}")
    if len(bad):
        ax.plot(bad["seq"], bad["value"], "o", ms=9, mfc="none", mec="#d62728", mew=1.6, label="out of control")
    clean = pts[~pts["rules"].str.contains("1_3s")]["value"].to_numpy(float)
    mean, sd = limits(clean)
    if np.isfinite(sd) and clean[np.isfinite(clean)].size >= 3:
        ax.axhline(mean, color="0.3", lw=1)
        for s, ls in ((3, "--"), (2, ":")):
            ax.axhline(mean + s * sd, color="0.45", lw=0.8, ls=ls)
            ax.axhline(mean - s * sd, color="0.45", lw=0.8, ls=ls)
        ax.text(1.0, mean + 3 * sd, " +3 SD", fontsize=7, color="0.35", va="bottom", ha="right",
                transform=ax.get_yaxis_transform())
        ax.text(1.0, mean - 3 * sd, " −3 SD", fontsize=7, color="0.35", va="top", ha="right",
                transform=ax.get_yaxis_transform())
    seqs = sorted(set(pts["seq"]))
    ticks = seqs if len(seqs) <= 25 else seqs[:: max(1, len(seqs) // 12)]
    run_of = dict(zip(pts["seq"], pts["run_id"]))
    ax.set_xticks(ticks, [str(run_of[t]) for t in ticks])
    ax.set_xlim(min(seqs) - 0.5, max(seqs) + 0.5)
    ax.tick_params(labelsize=7)
    if z_line or len(bad):
        ax.legend(fontsize=6, loc="best")


def charts_png(h: AssayHistory, out_dir: Path) -> dict[str, Path]:
    """Write the assay's control charts (plates x metric grid) and reference pIC50 chart as PNG."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    potencies = ["pic50", *(x.metric for x in h.extra)]
    groups = sorted(set(h.points.loc[~h.points["metric"].isin(potencies), "group"]))
    low_label = LOW_LABEL.get(h.low_role, h.low_role)
    if groups:
        fig = _figure(11, 2.3 * len(groups) + 0.4)
        axes = fig.subplots(len(groups), 3, squeeze=False)
        for r, g in enumerate(groups):
            for c, metric in enumerate(("z_prime", "vehicle_mean", "low_mean")):
                pts = h.points[(h.points["metric"] == metric) & (h.points["group"] == g)]
                _chart(axes[r][c], pts, f"{g}: {METRICS[metric].format(low=low_label)}", z_line=metric == "z_prime")
                if r == len(groups) - 1:
                    axes[r][c].set_xlabel("run id (in recorded order)", fontsize=8)
        fig.suptitle(f"{h.assay}: plate controls per run (mean, ±2 SD dotted, ±3 SD dashed)", fontsize=10)
        paths["controls"] = out_dir / f"history_{h.assay}_controls.png"
        fig.savefig(paths["controls"], metadata={"Software": None}, facecolor="white")
    for metric in potencies:
        ref = h.points[h.points["metric"] == metric]
        if not (h.reference and len(ref)):
            continue
        label = h.label(metric)
        rgroups = sorted(set(ref["group"]))
        ncol = min(3, len(rgroups))
        nrow = math.ceil(len(rgroups) / ncol)
        fig = _figure(3.7 * ncol, 2.5 * nrow + 0.4)
        axes = fig.subplots(nrow, ncol, squeeze=False)
        for k, g in enumerate(rgroups):
            ax = axes[k // ncol][k % ncol]
            _chart(ax, ref[ref["group"] == g], f"{h.reference} · {g}: {label}")
            ax.set_xlabel("run id", fontsize=8)
        for k in range(len(rgroups), nrow * ncol):
            axes[k // ncol][k % ncol].set_visible(False)
        fig.suptitle(f"{h.assay}: reference {h.reference} {label} per run (mean ± 3 SD)", fontsize=10)
        key = "reference" if metric == "pic50" else f"reference_{metric}"
        paths[key] = out_dir / f"history_{h.assay}_{key}.png"
        fig.savefig(paths[key], metadata={"Software": None}, facecolor="white")
    h.pngs = paths
    return paths


# --- HTML --------------------------------------------------------------------------------------------------

def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _fmt(x: object, spec: str = ".3g") -> str:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "" if x is None else str(x)
    return "—" if not math.isfinite(v) else format(v, spec)


def render_html(histories: list[AssayHistory], *, store: str, title: str = "labkit assay history") -> str:
    """A self-contained HTML page (inline CSS, PNGs as data URIs, no scripts) of the assays' histories."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    from labkit import __version__

    env = Environment(loader=PackageLoader("labkit.store", "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _fmt
    env.filters["data_uri"] = _data_uri
    return env.get_template("history.html.j2").render(histories=histories, store=store, title=title,
                                                      version=__version__, LOW_LABEL=LOW_LABEL,
                                                      msr_min_n=MSR_MIN_N, z_min=Z_PRIME_MIN)


def write_history(store: Store, out_dir: str | Path, *, assay: str | None = None, reference: str | None = None,
                  baseline: int = BASELINE) -> tuple[list[AssayHistory], dict[str, Path]]:
    """Compute the history, write PNGs, potency / points / out-of-control CSVs and history.html to out_dir."""
    from labkit.store.db import redact

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    hs = history(store, assay=assay, reference=reference, baseline=baseline)
    paths: dict[str, Path] = {}
    for h in hs:
        for k, p in charts_png(h, out).items():
            paths[f"{h.assay}:{k}"] = p
    for name, attr in (("potency", "potency"), ("points", "points"), ("out_of_control", "flagged")):
        frames = [getattr(h, attr).assign(assay=h.assay) for h in hs]
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        paths[name] = out / f"{name}.csv"
        df.to_csv(paths[name], index=False, lineterminator="\n")
    for label in sorted({x.label for h in hs for x in h.extra}):  # e.g. potency_ki_app.csv, its own column names
        key = label.lower()
        frames = [x.potency.assign(assay=h.assay) for h in hs for x in h.extra if x.label == label]
        paths[f"potency_{key}"] = out / f"potency_{key}.csv"
        pd.concat(frames, ignore_index=True).rename(columns=lambda c, k=key: c.replace("ic50", k)).to_csv(
            paths[f"potency_{key}"], index=False, lineterminator="\n")
    paths["html"] = out / "history.html"
    tmp = paths["html"].with_suffix(".html.tmp")
    tmp.write_text(render_html(hs, store=redact(store.url)), encoding="utf-8")
    tmp.replace(paths["html"])
    return hs, paths


def summary_text(histories: list[AssayHistory]) -> str:
    """The histories as terminal text: runs, potency table, out-of-control runs."""
    if not histories:
        return "no runs recorded yet (labkit analyze / labkit demo record them)"
    lines = []
    for h in histories:
        lines.append(f"{h.assay}: {len(h.runs)} run(s); reference {h.reference or '-'}")
        lines.append(f"  {'compound':<16} {h.group_col:<10} {'n':>3} {'geo-mean IC50':>14} {'95% CI':>20} {'MSR':>6}")
        for r in h.potency.itertuples(index=False):
            ci = f"{_fmt(r.ci_low_nM)}-{_fmt(r.ci_high_nM)} nM" if r.n > 1 else "-"
            lines.append(f"  {r.compound:<16} {r.group:<10} {r.n:>3} {_fmt(r.gmean_ic50_nM) + ' nM':>14} {ci:>20} "
                         f"{_fmt(r.msr, '.2f'):>6}")
        for x in h.extra:
            lines.append(f"  {x.label} across runs:")
            head = f"geo-mean {x.label}"
            w = max(14, len(head))
            lines.append(f"  {'compound':<16} {h.group_col:<10} {'n':>3} {head:>{w}} {'95% CI':>20} {'MSR':>6}")
            for r in x.potency.itertuples(index=False):
                ci = f"{_fmt(r.ci_low_nM)}-{_fmt(r.ci_high_nM)} nM" if r.n > 1 else "-"
                lines.append(f"  {r.compound:<16} {r.group:<10} {r.n:>3} {_fmt(r.gmean_ic50_nM) + ' nM':>{w}} "
                             f"{ci:>20} {_fmt(r.msr, '.2f'):>6}")
        if len(h.flagged):
            for f in h.flagged.itertuples(index=False):
                lines.append(f"  OUT OF CONTROL run {f.run_id}: {f.reasons}")
        else:
            lines.append("  no run out of control")
        lines += [f"  note: {n}" for n in h.notes]
    return "\n".join(lines)
