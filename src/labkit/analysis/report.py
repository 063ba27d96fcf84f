"""A self-contained HTML report: CSS inline, figures inlined as base64 PNG, no scripts, no external requests.

Sections: summary (with notes), results, plate QC, curve grid, plate heatmaps, per-curve plots, controls and
inputs (files with SHA-256, the layout text). Deterministic: no timestamps; the same inputs give the same bytes.
Rendered from the Jinja2 template templates/report.html.j2 with auto-escaping: this module only prepares values.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labkit import __version__
from labkit.analysis.plots import NO_IC50_FLAGS

CSS = """
:root { --ink:#1d2430; --muted:#5a6472; --line:#d9dee5; --bg:#ffffff; --soft:#f5f7fa; --bad:#fdecea;
        --badink:#a32d1e; --ok:#e8f5ec; --okink:#1e6b3a; --accent:#1f4e79; }
* { box-sizing:border-box; }
body { margin:0; font:14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color:var(--ink); background:var(--bg); }
header { background:var(--accent); color:#fff; padding:14px 28px; }
header h1 { margin:0; font-size:20px; font-weight:600; }
header p { margin:2px 0 0; opacity:.85; font-size:13px; }
nav { position:sticky; top:0; background:#fff; border-bottom:1px solid var(--line); padding:6px 28px; z-index:2;
      font-size:13px; }
nav a { color:var(--accent); text-decoration:none; margin-right:16px; }
main { max-width:1280px; margin:0 auto; padding:8px 28px 40px; }
h2 { font-size:17px; margin:28px 0 8px; padding-bottom:4px; border-bottom:2px solid var(--line); }
h3 { font-size:14px; margin:18px 0 6px; }
.cards { display:flex; flex-wrap:wrap; gap:10px; margin:10px 0; }
.card { background:var(--soft); border:1px solid var(--line); border-radius:6px; padding:8px 14px; min-width:130px; }
.card b { display:block; font-size:20px; }
.card span { color:var(--muted); font-size:12px; }
.card.bad { background:var(--bad); border-color:#f3c1bb; } .card.bad b { color:var(--badink); }
dl.meta { display:grid; grid-template-columns:max-content 1fr; gap:2px 14px; margin:8px 0; font-size:13px; }
dl.meta dt { color:var(--muted); } dl.meta dd { margin:0; }
.scroll { overflow-x:auto; max-width:100%; }
table { border-collapse:collapse; font-size:12.5px; margin:6px 0 10px; }
th, td { padding:4px 9px; border-bottom:1px solid var(--line); text-align:right; white-space:nowrap; }
th { background:var(--soft); position:sticky; top:0; font-weight:600; }
td.t, th.t { text-align:left; }
tr.flagged td { background:#fff8ec; }
tr.fail td { background:var(--bad); }
.flag { display:inline-block; background:#fdebd0; color:#7a4a06; border-radius:3px; padding:0 5px; margin:1px 2px;
        font-size:11px; }
.flag.bad { background:var(--bad); color:var(--badink); }
.pass { color:var(--okink); font-weight:600; } .failtxt { color:var(--badink); font-weight:600; }
figure { margin:8px 0 14px; } figure img { max-width:100%; height:auto; border:1px solid var(--line); }
.heat img { max-width:min(100%, 1100px); }
figcaption { color:var(--muted); font-size:12px; }
.curves { display:grid; grid-template-columns:repeat(auto-fill, minmax(380px, 1fr)); gap:10px; }
.curves figure { margin:0; }
ul.notes { font-size:13px; color:var(--ink); margin:4px 0; padding-left:20px; }
pre { background:var(--soft); border:1px solid var(--line); padding:10px; font-size:12px; overflow:auto;
      max-height:420px; }
details summary { cursor:pointer; color:var(--accent); margin:6px 0; }
code { font-size:12px; } .muted { color:var(--muted); } footer { color:var(--muted); font-size:12px; margin-top:30px; }
"""

BAD_FLAGS = ("not_converged", "all_nan", "too_few_points", "poor_fit", "z_prime", "inverted_window")
TEXT_KINDS = ("", "flags")


def fmt(x: Any, spec: str = ".3g") -> str:
    """A number for a table cell ('—' for NaN / None); plain text (escaped by the template)."""
    if x is None:
        return "—"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "—" if math.isnan(v) else ("∞" if v > 0 else "−∞")
    if spec == "d":
        spec = ".0f"
    if spec == "sig3":  # 3 significant figures without exponents for everyday magnitudes: 0.0866, 14.8, 36,900
        v = float(f"{v:.3g}")
        text = f"{v:,.0f}" if 1000 <= abs(v) < 1e12 else f"{v:.3g}"
        return text.replace("-", "−")
    return format(v, spec).replace("-", "−")


def flag_list(flags: object) -> list[dict]:
    """';'-joined flags as [{text, bad}] for the template's badges."""
    text = "" if flags is None or (isinstance(flags, float) and math.isnan(flags)) else str(flags)
    return [{"text": f, "bad": any(b in f for b in BAD_FLAGS)} for f in text.split(";") if f]


def data_uri(path: str | Path) -> str:
    """A PNG file as a data: URI."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def table(df: pd.DataFrame, columns: Sequence[tuple[str, str, str]], *, table_id: str, row_class=None) -> dict:
    """A table for the template: columns are (column, header, format), format '' text, 'flags' badges, 'num'
    preformatted, 'bool' pass/fail, else a format spec for fmt()."""
    headers = [{"label": h, "text_col": f in TEXT_KINDS} for _, h, f in columns]
    rows = []
    for rec in df.to_dict("records"):
        cells: list[dict[str, object]] = []
        for col, _, f in columns:
            v = rec.get(col)
            if f == "flags":
                cells.append({"kind": "flags", "value": flag_list(v)})
            elif f == "":
                cells.append({"kind": "text", "value": "" if v is None else str(v)})
            elif f == "num":
                cells.append({"kind": "num", "value": str(v)})
            elif f == "bool":
                cells.append({"kind": "bool", "value": bool(v)})
            else:
                cells.append({"kind": "num", "value": fmt(v, f)})
        rows.append({"cls": row_class(rec) if row_class else "", "cells": cells})
    return {"id": table_id, "headers": headers, "rows": rows}


def _ci(rec: dict) -> str:
    lo, hi = rec.get("ic50_ci_low_nM"), rec.get("ic50_ci_high_nM")
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return "—"
    return f"{fmt(lo, 'sig3')} – {fmt(hi, 'sig3')}"


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("labkit.analysis", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       undefined=StrictUndefined, keep_trailing_newline=True)


def render(result, *, title: str, grid: str | Path | None, curves: Sequence[tuple[str, str | Path]],
           heatmaps: Sequence[tuple[str, str | Path]], inputs: Sequence[dict], layout_text: str | None = None,
           gr_figure: str | Path | None = None) -> str:
    """The report as one HTML string (result is a labkit.analysis.pipeline.AnalysisResult)."""
    spec, gcol = result.spec, result.spec.group_col
    glabel = spec.group_label
    res = result.results.copy()
    nd = [bool(set(str(f or "").split(";")) & set(NO_IC50_FLAGS)) for f in res["flags"]]
    res["ic50_text"] = ["n.d." if x else fmt(v, "sig3") for x, v in zip(nd, res["ic50_nM"])]
    res["ci_text"] = ["—" if x else _ci(r) for x, r in zip(nd, res.to_dict("records"))]
    if "abs_ic50_nM" in res:
        res["abs_text"] = ["n.d." if (x or not np.isfinite(v)) else fmt(v, "sig3")
                           for x, v in zip(nd, res["abs_ic50_nM"].astype(float))]
    qc, plates = result.qc, result.plates
    n_fail = int((~plates["qc_pass"]).sum()) if len(plates) else 0
    n_flagged_curves = int((res["flags"].fillna("") != "").sum())
    n_excluded = int((result.data["excluded"] != "").sum())
    n_outliers = int(result.data["outlier"].fillna(False).astype(bool).sum()) if "outlier" in result.data else 0
    fixed = ", ".join(f"{k} fixed at {v:g}" for k, v in (("top", result.fix_top), ("bottom", result.fix_bottom))
                      if v is not None) or "none by the user (the model selection may fix top or bottom per curve)"
    cards = [(len(res), "curves", False), (res["compound"].nunique(), "compounds", False),
             (res[gcol].nunique(), f"{glabel}s", False), (len(plates), "plates", False),
             (n_flagged_curves, "curves with flags", False), (n_excluded, "wells excluded", False),
             (n_outliers, "outlier points (ROUT)", False), (n_fail, "plates failing QC", bool(n_fail))]
    norm_text = spec.norm.formula or f"{spec.response_label} = 100·(x − {spec.low_role})/(vehicle − {spec.low_role})"
    weights = sorted(set(res["weights"].astype(str))) if "weights" in res else ["none"]
    chosen = getattr(result, "model", "auto")
    meta = [("assay", spec.assay), ("normalization", norm_text + f", per plate and {glabel}"),
            ("model", "log-logistic f(x) = c + (d − c)/(1 + exp(b(ln x − ln e))); IC50 = e, Hill = −b, top = d, "
                      "bottom = c. " + ("Per curve LL.4, LL.3 (top fixed at 100) or, without a lower plateau, the "
                                        "bottom fixed at 0, chosen by AICc" if chosen == "auto" else
                                        f"{chosen} for every curve")
                      + ("; unbounded" if getattr(result, "unbounded", False) else
                         "; asymptotes bounded to 0–150 %, |Hill| ≤ 10")
                      + ("; 95 % CI of the IC50 by profile likelihood" if getattr(result, "ci", "wald") == "profile"
                         else "; 95 % CI of the IC50 Wald-t on ln e")),
            ("fixed parameters", fixed), ("weights", ", ".join(weights)),
            ("outliers", (f"ROUT (Motulsky & Brown 2006) at a false-discovery rate of {result.outlier_q:g}: flagged, "
                          "drawn ✕, left out of the fit" if getattr(result, "outlier_q", None) else
                          "not tested (labkit analyze --outliers turns on the ROUT rule)")),
            ("QC", "Z′ = 1 − 3(σ₊ + σ₋)/|μ₊ − μ₋| (Zhang 1999); flagged below 0.5"),
            ("labkit", __version__)]

    results_cols = [("compound", "compound", ""), (gcol, glabel, ""), ("plates", "plate(s)", ""), ("n", "n", "d"),
                    ("ic50_text", "IC50 (nM)", "num"), ("ci_text", "95 % CI (nM)", ""), ("pic50", "pIC50", ".2f")]
    if "abs_ic50_nM" in res:
        results_cols += [("abs_text", "abs. IC50 (nM)", "num"), ("emax", "Emax", ".1f"), ("auc", "AUC", ".2f")]
    morrison = "ki_app_nM" in res
    if morrison:  # kinase: Morrison Ki_app (given [E]) and Cheng–Prusoff Ki beside the IC50
        res["enzyme_text"] = [fmt(v * 1e9, "sig3") for v in res["enzyme_M"].astype(float)]
        res["ki_app_text"] = [fmt(v, "sig3") for v in res["ki_app_nM"].astype(float)]
        res["ki_app_ci_text"] = [f"{fmt(lo, 'sig3')}–{fmt(hi, 'sig3')}" for lo, hi in
                                 zip(res["ki_app_ci_low_nM"].astype(float), res["ki_app_ci_high_nM"].astype(float))]
        res["ki_text"] = [fmt(v, "sig3") for v in res["ki_nM"].astype(float)]
        res["ki_ci_text"] = [f"{fmt(lo, 'sig3')}–{fmt(hi, 'sig3')}" if lo == lo or hi == hi else "—" for lo, hi in
                             zip(res["ki_ci_low_nM"].astype(float), res["ki_ci_high_nM"].astype(float))]
        results_cols += [("enzyme_text", "[E] (nM)", "num"), ("ki_app_text", "Ki_app (nM)", "num"),
                         ("ki_app_ci_text", "95 % CI", ""), ("ki_text", "Ki (nM)", "num"), ("ki_ci_text", "95 % CI", "")]
    results_cols += [("hill", "Hill", ".2f"), ("top", "top", ".1f"), ("bottom", "bottom", ".1f"),
                     ("r2", "R²", ".3f"), ("z_prime", "Z′", ".2f")]
    if "model" in res:
        results_cols += [("model", "model", ""), ("n_outliers", "outliers", "d")]
    results_cols += [("flags", "flags", "flags")]
    low = spec.low_role or "low"  # no 0 % control (fitted bottom): the qc table names it "low"
    qc_cols = [("plate", "plate", ""), (gcol, glabel, ""), ("controls", "controls", ""),
               ("vehicle_n", "vehicle n", "d"), ("vehicle_mean", "vehicle mean", ",.0f"),
               ("vehicle_cv_pct", "vehicle CV %", ".1f"), (f"{low}_n", f"{low} n", "d"),
               (f"{low}_mean", f"{low} mean", ",.0f"), (f"{low}_cv_pct", f"{low} CV %", ".1f"),
               ("signal_background", "S/B", ".1f"), ("z_prime", "Z′", ".3f"), ("flags", "flags", "flags")]
    plate_cols = [("plate", "plate", ""), ("wells", "wells read", "d"), ("ok", "ok", "d"),
                  ("overflow", "overflow", "d"), ("missing", "missing", "d"), ("invalid", "invalid", "d"),
                  ("unassigned", "unassigned", "d"), ("z_prime_min", "worst Z′", ".3f"), ("qc_pass", "QC", "bool")]
    ctl_cols = [("plate", "plate", ""), (gcol, glabel, ""), ("role", "role", ""), ("scope", "from", ""),
                ("n", "n", "d"), ("n_excluded", "excluded", "d"), ("mean", "mean", ",.1f"), ("sd", "SD", ",.1f"),
                ("wells", "wells", "")]
    inputs_df = pd.DataFrame(list(inputs), columns=["kind", "path", "bytes", "sha256"])
    context = {
        "title": title, "css": CSS, "assay": spec.assay, "n_curves": len(res), "n_plates": len(plates),
        "sections": [("summary", "Summary"), ("results", "Results"), ("qc", "Plate QC"), ("grid", "Curves"),
                     ("heatmaps", "Heatmaps"), ("percurve", "Per-curve plots"), ("inputs", "Inputs")],
        "cards": cards, "meta": meta, "notes": list(result.notes), "group_label": glabel, "morrison": morrison,
        "conversion": (table(result.conversion, [("plate", "plate", ""), ("target", "target", ""),
                                                 ("vehicle_mean", "vehicle CPM", ",.0f"),
                                                 ("total_counts_mean", "total counts CPM", ",.0f"),
                                                 ("no_enzyme_mean", "no-enzyme CPM", ",.0f"),
                                                 ("atp_conversion_pct", "ATP converted %", ".1f"),
                                                 ("flags", "flags", "flags")], table_id="conversion",
                              row_class=lambda r: "fail" if r.get("flags") else "")
                       if len(getattr(result, "conversion", ())) else None),
        "response_label": spec.response_label,
        "results": table(res, results_cols, table_id="results",
                         row_class=lambda r: "flagged" if r.get("flags") else ""),
        "qc": table(qc, qc_cols, table_id="qc", row_class=lambda r: "fail" if "z_prime" in str(r.get("flags")) else ""),
        "plates": table(plates, plate_cols, table_id="plates", row_class=lambda r: "" if r.get("qc_pass") else "fail"),
        "controls": table(result.controls, ctl_cols, table_id="controls"),
        "grid": data_uri(grid) if grid else None,
        "grid_caption": ("All curves on a shared y axis: replicates (open symbols), mean ± SD (filled), the fit, "
                         "IC50 (◆) and its 95 % CI (band); a \"0\" tick, where present, is the zero-dose position. "
                         "Excluded wells are marked × on the x axis; ROUT outliers are drawn as a filled ✕ and are "
                         "not part of the fit."),
        "heatmaps": [(name, data_uri(p)) for name, p in heatmaps],
        "heat_caption": ("raw signal, normalized response, and the deviation of each well from its fitted curve "
                         "(series) or its control target (100 / 0), summarised by distance from the plate edge: a "
                         "rim of one colour in the deviation panel, or an 'edge' bar far from 0, is an edge effect."),
        "curves": [(t, data_uri(p)) for t, p in curves],
        "inputs": (table(inputs_df, [("kind", "input", ""), ("path", "file", ""), ("bytes", "bytes", ",.0f"),
                                     ("sha256", "SHA-256", "")], table_id="inputs") if len(inputs_df) else None),
        "layout_text": layout_text, "version": __version__,
    }
    context["gr"] = _gr_context(result, gr_figure)
    if context["gr"]:
        context["sections"].insert(2, ("gr", "GR metrics"))
    from labkit.assays import get

    note = getattr(get(spec.assay), "plate_note", "")
    if note:  # the plate type the kind's protocols use (e.g. white opaque plates for luminescence)
        context["meta"].insert(2, ("plates", note))
    return _environment().get_template("report.html.j2").render(**context)


# --- GR metrics (labkit.analysis.gr): a block of its own ---------------------------------------------------------

def _gr_context(result, figure: str | Path | None) -> dict | None:
    """The GR section's tables and figure, or None when the analysis has no time-zero read."""
    gr = getattr(result, "gr", None)
    if gr is None:
        return None
    gcol, glabel = result.spec.group_col, result.spec.group_label
    res = result.results.copy()
    res["gr50_text"] = [fmt(v, "sig3") if v == v else "n.d." for v in res["gr50_nM"]]
    res["ic50_text2"] = [fmt(v, "sig3") if v == v else "n.d." for v in res["ic50_nM"]]
    cols = [("compound", "compound", ""), (gcol, glabel, ""), ("gr50_text", "GR50 (nM)", "num"),
            ("gr_max", "GRmax", ".2f"), ("gr_aoc", "GR_AOC", ".2f"), ("gr_inf", "GRinf", ".2f"),
            ("gr_hill", "h", ".2f"), ("gr_r2", "R²", ".3f"), ("ic50_text2", "IC50 (nM)", "num"),
            ("gr_flags", "GR flags", "flags")]
    t0_cols = [(gcol, glabel, ""), ("plate", "plate", ""), ("wells", "wells", "d"), ("mean", "mean signal", ",.0f"),
               ("cv_pct", "CV %", ".1f"), ("background", "background", ",.0f"), ("x0", "x0", ",.0f")]
    background = ("the blank wells' mean" if result.spec.low_role == "blank" else
                  "none subtracted: the layout has no blank wells")
    return {"metrics": table(res, cols, table_id="gr", row_class=lambda r: "flagged" if r.get("gr_flags") else ""),
            "time_zero": table(gr.time_zero, t0_cols, table_id="gr_t0"), "background": background,
            "figure": data_uri(figure) if figure else None}
