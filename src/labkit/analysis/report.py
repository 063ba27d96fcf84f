"""A self-contained HTML report: CSS inline, figures inlined as base64 PNG, no scripts, no external requests.

Sections: summary (with notes), results, plate QC, curve grid, plate heatmaps, per-curve plots, controls and
inputs (files with SHA-256, the layout text). Deterministic: no timestamps; the same inputs give the same bytes.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from pathlib import Path

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


def esc(x: object) -> str:
    """HTML-escaped text."""
    return html.escape(str(x), quote=True)


def fmt(x: object, spec: str = ".3g") -> str:
    """A number for a table cell ('—' for NaN / None)."""
    if x is None:
        return "—"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return esc(x)
    if not math.isfinite(v):
        return "—" if math.isnan(v) else ("∞" if v > 0 else "−∞")
    if spec == "d":
        spec = ".0f"
    if spec == "sig3":  # 3 significant figures without exponents for everyday magnitudes: 0.0866, 14.8, 36,900
        v = float(f"{v:.3g}")
        text = f"{v:,.0f}" if 1000 <= abs(v) < 1e12 else f"{v:.3g}"
        return text.replace("-", "−")
    return format(v, spec).replace("-", "−")


def flags_html(flags: object) -> str:
    """';'-joined flags as small badges."""
    text = "" if flags is None or (isinstance(flags, float) and math.isnan(flags)) else str(flags)
    parts = [f for f in text.split(";") if f]
    return "".join(f'<span class="flag{" bad" if any(b in f for b in BAD_FLAGS) else ""}">{esc(f)}</span>'
                   for f in parts)


def img_tag(path: str | Path, alt: str) -> str:
    """An <img> with the PNG inlined as a data: URI."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def table_html(df: pd.DataFrame, columns: Sequence[tuple[str, str, str]], *, table_id: str,
               row_class=None) -> str:
    """An HTML table: columns are (column, header, format) with format '' for text, 'flags' for badges."""
    head = "".join(f'<th class="{"t" if f in ("", "flags") else ""}">{esc(h)}</th>' for _, h, f in columns)
    body = []
    for rec in df.to_dict("records"):
        cls = row_class(rec) if row_class else ""
        cells = []
        for col, _, f in columns:
            v = rec.get(col)
            if f == "flags":
                cells.append(f'<td class="t">{flags_html(v)}</td>')
            elif f == "":
                cells.append(f'<td class="t">{esc("" if v is None else v)}</td>')
            elif f == "num":  # preformatted number
                cells.append(f"<td>{esc(v)}</td>")
            elif f == "bool":
                cells.append(f'<td>{"<span class=pass>pass</span>" if v else "<span class=failtxt>fail</span>"}</td>')
            else:
                cells.append(f"<td>{fmt(v, f)}</td>")
        body.append(f'<tr class="{cls}">' + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table id="{esc(table_id)}"><thead><tr>{head}</tr></thead><tbody>'
            + "\n".join(body) + "</tbody></table></div>")


def _ci(rec: dict) -> str:
    lo, hi = rec.get("ic50_ci_low_nM"), rec.get("ic50_ci_high_nM")
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return "—"
    return f"{fmt(lo, 'sig3')} – {fmt(hi, 'sig3')}"


def render(result, *, title: str, grid: str | Path | None, curves: Sequence[tuple[str, str | Path]],
           heatmaps: Sequence[tuple[str, str | Path]], inputs: Sequence[dict], layout_text: str | None = None) -> str:
    """The report as one HTML string (result is a labkit.analysis.pipeline.AnalysisResult)."""
    spec, gcol = result.spec, result.spec.group_col
    glabel = spec.group_label
    res = result.results.copy()
    nd = [bool(set(str(f or "").split(";")) & set(NO_IC50_FLAGS)) for f in res["flags"]]
    res["ic50_text"] = ["n.d." if x else fmt(v, "sig3") for x, v in zip(nd, res["ic50_nM"])]
    res["ci_text"] = ["—" if x else _ci(r) for x, r in zip(nd, res.to_dict("records"))]
    qc, plates = result.qc, result.plates
    n_fail = int((~plates["qc_pass"]).sum()) if len(plates) else 0
    n_flagged_curves = int((res["flags"].fillna("") != "").sum())
    n_excluded = int((result.data["excluded"] != "").sum())
    fixed = ", ".join(f"{k} fixed at {v:g}" for k, v in (("top", result.fix_top), ("bottom", result.fix_bottom))
                      if v is not None) or "none (top, bottom, Hill and IC50 all estimated)"
    cards = [(len(res), "curves"), (res["compound"].nunique(), "compounds"), (res[gcol].nunique(), f"{glabel}s"),
             (len(plates), "plates"), (n_flagged_curves, "curves with flags"), (n_excluded, "wells excluded"),
             (n_fail, "plates failing QC")]
    card_html = "".join(f'<div class="card{" bad" if (lab == "plates failing QC" and n) else ""}"><b>{n}</b>'
                        f'<span>{esc(lab)}</span></div>' for n, lab in cards)
    norm_text = spec.norm.formula or f"{spec.response_label} = 100·(x − {spec.low_role})/(vehicle − {spec.low_role})"
    meta = [("assay", spec.assay), ("normalisation", norm_text + f", per plate and {glabel}"),
            ("model", "LL.4: f(x) = c + (d − c)/(1 + exp(b(ln x − ln e))); IC50 = e, Hill = −b, "
                      "top = d, bottom = c; 95 % CI Wald-t (drc)"),
            ("fixed parameters", fixed),
            ("QC", "Z′ = 1 − 3(σ₊ + σ₋)/|μ₊ − μ₋| (Zhang 1999); flagged below 0.5"),
            ("labkit", __version__)]
    meta_html = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in meta)
    notes_html = ("<h3>Notes</h3><ul class=notes>" + "".join(f"<li>{esc(n)}</li>" for n in result.notes) + "</ul>"
                  if result.notes else "")

    results_cols = [("compound", "compound", ""), (gcol, glabel, ""), ("plates", "plate(s)", ""), ("n", "n", "d"),
                    ("ic50_text", "IC50 (nM)", "num"), ("ci_text", "95 % CI (nM)", ""), ("pic50", "pIC50", ".2f"),
                    ("hill", "Hill", ".2f"), ("top", "top", ".1f"), ("bottom", "bottom", ".1f"), ("r2", "R²", ".3f"),
                    ("z_prime", "Z′", ".2f"), ("flags", "flags", "flags")]
    results_html = table_html(res, results_cols, table_id="results",
                              row_class=lambda r: "flagged" if r.get("flags") else "")
    low = spec.low_role
    qc_cols = [("plate", "plate", ""), (gcol, glabel, ""), ("controls", "controls", ""),
               ("vehicle_n", "vehicle n", "d"), ("vehicle_mean", "vehicle mean", ",.0f"),
               ("vehicle_cv_pct", "vehicle CV %", ".1f"), (f"{low}_n", f"{low} n", "d"),
               (f"{low}_mean", f"{low} mean", ",.0f"), (f"{low}_cv_pct", f"{low} CV %", ".1f"),
               ("signal_background", "S/B", ".1f"), ("z_prime", "Z′", ".3f"), ("flags", "flags", "flags")]
    qc_html = table_html(qc, qc_cols, table_id="qc",
                         row_class=lambda r: "fail" if "z_prime" in str(r.get("flags")) else "")
    plate_cols = [("plate", "plate", ""), ("wells", "wells read", "d"), ("ok", "ok", "d"),
                  ("overflow", "overflow", "d"), ("missing", "missing", "d"), ("invalid", "invalid", "d"),
                  ("unassigned", "unassigned", "d"), ("z_prime_min", "worst Z′", ".3f"), ("qc_pass", "QC", "bool")]
    plates_html = table_html(plates, plate_cols, table_id="plates",
                             row_class=lambda r: "" if r.get("qc_pass") else "fail")
    ctl_cols = [("plate", "plate", ""), (gcol, glabel, ""), ("role", "role", ""), ("scope", "from", ""),
                ("n", "n", "d"), ("n_excluded", "excluded", "d"), ("mean", "mean", ",.1f"), ("sd", "SD", ",.1f"),
                ("wells", "wells", "")]
    ctl_html = table_html(result.controls, ctl_cols, table_id="controls")

    grid_cap = ("All curves on a shared y axis: replicates (open symbols), mean ± SD (filled), LL.4 fit, IC50 (◆) "
                "and its 95 % CI (band); a \"0\" tick, where present, is the zero-dose position. Excluded wells "
                "are marked × on the x axis.")
    grid_html = f'<figure>{img_tag(grid, "all curves")}<figcaption>{grid_cap}</figcaption></figure>' if grid else ""
    heat_cap = ("raw signal, normalised response, and the deviation of each well from its fitted curve (series) or "
                "its control target (100 / 0), summarised by distance from the plate edge: a rim of one colour in "
                "the deviation panel, or an 'edge' bar far from 0, is an edge effect.")
    heat_html = "".join(f'<figure class="heat">{img_tag(p, f"plate {name} heatmaps")}<figcaption>Plate '
                        f'{esc(name)}: {heat_cap}</figcaption></figure>' for name, p in heatmaps)
    curve_html = '<div class="curves">' + "".join(
        f'<figure>{img_tag(p, t)}</figure>' for t, p in curves) + "</div>"
    inputs_df = pd.DataFrame(list(inputs), columns=["kind", "path", "bytes", "sha256"])
    inputs_html = table_html(inputs_df, [("kind", "input", ""), ("path", "file", ""), ("bytes", "bytes", ",.0f"),
                                         ("sha256", "SHA-256", "")], table_id="inputs") if len(inputs_df) else \
        '<p class="muted">No input files were recorded (analysis of an in-memory table).</p>'
    layout_html = (f"<details><summary>layout file</summary><pre>{esc(layout_text)}</pre></details>"
                   if layout_text else "")
    sections = [("summary", "Summary"), ("results", "Results"), ("qc", "Plate QC"), ("grid", "Curves"),
                ("heatmaps", "Heatmaps"), ("percurve", "Per-curve plots"), ("inputs", "Inputs")]
    nav = "".join(f'<a href="#s-{k}">{esc(v)}</a>' for k, v in sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header><h1>{esc(title)}</h1><p>{esc(spec.assay)} · {len(res)} curves · {len(plates)} plate(s)</p></header>
<nav>{nav}</nav>
<main>
<section id="s-summary"><h2>Summary</h2>
<div class="cards">{card_html}</div>
<dl class="meta">{meta_html}</dl>
{notes_html}
</section>
<section id="s-results"><h2>Results</h2>
<p class="muted">One row per compound × {esc(glabel)}, pooled over plates; response = {esc(spec.response_label)}.
IC50 in nM with its 95 % confidence interval (n.d. = not determined: no effect or nothing to fit); Z′ is the worst
of the plate(s) the curve is on. Full precision, and the fitted values of flagged curves, are in results.csv /
results.parquet.</p>
{results_html}
</section>
<section id="s-qc"><h2>Plate QC</h2>
{qc_html}
<h3>Wells per plate</h3>
{plates_html}
<details><summary>control wells used for normalisation</summary>{ctl_html}</details>
</section>
<section id="s-grid"><h2>Curves</h2>
{grid_html}
</section>
<section id="s-heatmaps"><h2>Plate heatmaps</h2>
{heat_html}
</section>
<section id="s-percurve"><h2>Per-curve plots</h2>
{curve_html}
</section>
<section id="s-inputs"><h2>Inputs</h2>
{inputs_html}
{layout_html}
</section>
<footer>Generated by labkit {esc(__version__)}. Self-contained: figures are embedded, no external resources.</footer>
</main>
</body>
</html>
"""
