"""report.html: self-contained, deterministic, complete; rendered in headless Chromium when it is installed."""

import hashlib
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "data" / "analysis"))
from analysis_synth import VIABILITY, joined_table  # noqa: E402

from labkit.analysis.pipeline import analyze_joined, write_outputs  # noqa: E402

COMPOUNDS = {"entrectinib": {"KM12": 17e-9}, "ref <larotrectinib> & co": {"KM12": 5e-9}, "inactive": {"KM12": 1.0}}


@pytest.fixture(scope="module")
def result():
    df = joined_table(VIABILITY, fmt=96, plates={"KM12-1": ["KM12"]}, compounds=COMPOUNDS, n_vehicle=6, n_low=6,
                      top_conc=10e-6, seed=11, flagged={("KM12-1", "B4"): "overflow"})
    return analyze_joined(df, VIABILITY)


@pytest.fixture(scope="module")
def report_dir(result, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    layout = out / "layout.yaml"
    layout.write_text("name: test layout\nassay: cell_viability_ctg\n", encoding="utf-8")
    write_outputs(result, out, title="KM12 <viability>", inputs={"layout": str(layout)})
    return out


class Tags(HTMLParser):
    """Collects start tags with attributes and checks nesting of the block elements."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.tags, self.stack, self.errors, self.tables = [], [], [], {}
        self._table = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table] = 0
        if tag == "tr" and self._table is not None:
            self.tables[self._table] += 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def parse(path):
    p = Tags()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_report_is_self_contained_and_well_formed(report_dir, result):
    p = parse(report_dir / "report.html")
    assert not p.errors and not p.stack
    names = {t for t, _ in p.tags}
    assert "script" not in names and "link" not in names and "iframe" not in names
    for _, attrs in p.tags:
        for key in ("src", "href"):
            v = attrs.get(key)
            if v is not None:
                assert v.startswith("data:image/png;base64,") or v.startswith("#"), v
    imgs = [a for t, a in p.tags if t == "img"]
    assert len(imgs) == len(result.results) + 1 + 1  # per-curve plots, the grid, one plate heatmap
    text = (report_dir / "report.html").read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text and "url(" not in text


def test_report_tables_and_escaping(report_dir, result):
    p = parse(report_dir / "report.html")
    assert p.tables["results"] == 1 + len(result.results)  # header + one row per curve
    assert p.tables["qc"] == 2 and p.tables["plates"] == 2
    text = (report_dir / "report.html").read_text(encoding="utf-8")
    assert "ref &lt;larotrectinib&gt; &amp; co" in text and "<larotrectinib>" not in text
    assert "<title>KM12 &lt;viability&gt;</title>" in text
    assert "excluded as overflow: B4" in text
    flat = result.results.set_index("compound").loc["inactive"]
    assert "flat" in flat["flags"] and np.isfinite(flat["ic50_M"])  # the table keeps the fitted value ...
    row = re.search(r"<tr[^>]*><td class=\"t\">inactive</td>.*?</tr>", text).group(0)
    assert "<td>n.d.</td>" in row  # ... the report does not present it as an IC50  # the excluded well is reported, not silently dropped
    sha = hashlib.sha256((report_dir / "layout.yaml").read_bytes()).hexdigest()
    assert sha in text and "name: test layout" in text


def test_outputs_are_deterministic(result, report_dir, tmp_path):
    paths = write_outputs(result, tmp_path, title="KM12 <viability>",
                          inputs={"layout": str(report_dir / "layout.yaml")})
    for name in ("report.html", "results.csv", "qc.csv", "data.csv", "curves_grid.png"):
        assert (tmp_path / name).read_bytes() == (report_dir / name).read_bytes(), name
    assert not re.search(r"20\d\d-\d\d-\d\d", (tmp_path / "report.html").read_text(encoding="utf-8"))
    assert set(paths) >= {"data", "results_csv", "results_parquet", "qc", "plates", "controls", "grid", "report"}


def test_report_renders_in_headless_chromium(report_dir, tmp_path, chromium):
    url = (report_dir / "report.html").resolve().as_uri()
    base = chromium
    dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert '<table id="results">' in dom.stdout and "entrectinib" in dom.stdout
    assert dom.stdout.count("data:image/png;base64,") >= 3
    shot = tmp_path / "shot.png"
    run = subprocess.run(base + ["--window-size=1366,900", f"--screenshot={shot}", url], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0 and shot.stat().st_size > 10_000, run.stderr[-2000:]
    for log in (dom.stderr, run.stderr):
        bad = [ln for ln in log.splitlines() if "CONSOLE" in ln or "net::ERR" in ln or "Failed to load" in ln
               or "Uncaught" in ln]
        assert not bad, bad
