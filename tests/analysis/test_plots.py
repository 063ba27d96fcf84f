"""Figures: curve PNGs (zero dose, excluded wells, CI band, IC50 marker), the grid, plate heatmaps."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "data" / "analysis"))
from analysis_synth import KINASE, VIABILITY, joined_table  # noqa: E402

from labkit.analysis import plots  # noqa: E402
from labkit.analysis.normalize import normalize  # noqa: E402

IC50_RGB = np.array([0xC0, 0x39, 0x2B]) / 255
BAND_RGB = np.array([0xF0, 0xB2, 0x7A]) / 255


def curve_points(ic50=2e-9, zero=False, excluded=()):
    conc = 1e-6 / 3.0 ** np.arange(10)
    if zero:
        conc[-1] = 0.0
    rows = []
    rng = np.random.default_rng(0)
    for rep in (1, 2):
        for _i, c in enumerate(conc):
            y = 100 / (1 + (c / ic50)) + rng.normal(0, 3)
            rows.append({"conc_M": c, "response": y, "replicate": rep, "excluded": "", "plate": "P1"})
    df = pd.DataFrame(rows)
    for i in excluded:
        df.loc[i, ["response", "excluded"]] = [np.nan, "overflow"]
    return df


FIT = {"b": 1.0, "c": 0.0, "d": 100.0, "e": 2e-9, "ic50": 2e-9, "ic50_ci_low": 1.5e-9, "ic50_ci_high": 2.6e-9,
       "hill": -1.0, "r2": 0.99, "flags": ""}


def pixels(path):
    from matplotlib.image import imread

    return imread(str(path))[..., :3]


def share(img, rgb, tol=0.03):
    return float((np.abs(img - rgb).max(axis=-1) < tol).mean())


def test_curve_png_draws_ic50_marker_and_ci_band(tmp_path):
    p = plots.curve_png(curve_points(), FIT, tmp_path / "c.png", title="entrectinib · TRKA")
    img = pixels(p)
    assert img.shape[:2] == (525, 690)  # 4.6 x 3.5 in at 150 dpi
    assert share(img, IC50_RGB) > 1e-4
    assert share(img, 0.35 * BAND_RGB + 0.65) > 1e-3  # the band at alpha 0.35 on white


def test_flat_curve_gets_no_ic50_marker_or_band(tmp_path):
    flat = dict(FIT, flags="flat", b=0.5, c=95.0, d=101.0)
    pts = curve_points(ic50=1.0)
    img = pixels(plots.curve_png(pts, flat, tmp_path / "flat.png", title="inactive"))
    assert share(img, IC50_RGB) == 0
    assert share(img, 0.35 * BAND_RGB + 0.65) == 0
    assert plots.ic50_text(flat).startswith("no effect")


def test_zero_dose_and_excluded_wells(tmp_path):
    pts = curve_points(zero=True, excluded=(3,))
    p = plots.curve_png(pts, FIT, tmp_path / "z.png", title="with zero dose", ylabel="% viability")
    assert share(pixels(p), IC50_RGB) > 1e-4  # the marker and the excluded-well cross share the colour
    lo, hi, left, right, x0 = plots._x_layout(pts["conc_M"].to_numpy())
    assert x0 is not None and left < x0 < lo < hi < right  # zero dose sits on a stub left of the series


def test_unfitted_curve_still_plots(tmp_path):
    pts = curve_points()
    pts["response"] = np.nan
    pts["excluded"] = "missing"
    p = plots.curve_png(pts, None, tmp_path / "none.png", title="all missing")
    assert p.stat().st_size > 1000


def test_png_output_is_deterministic(tmp_path):
    a = plots.curve_png(curve_points(zero=True), FIT, tmp_path / "a.png", title="x")
    b = plots.curve_png(curve_points(zero=True), FIT, tmp_path / "b.png", title="x")
    assert a.read_bytes() == b.read_bytes()
    assert b"Software" not in a.read_bytes()[:400]


def test_grid_png_lays_out_all_curves(tmp_path):
    curves = [(curve_points(ic50=k * 1e-9), dict(FIT, e=k * 1e-9, ic50=k * 1e-9), f"c{k}") for k in (1, 3, 10, 30, 100)]
    img = pixels(plots.grid_png(curves, tmp_path / "grid.png", ncols=4))
    h, w = img.shape[:2]
    assert w > h and w == pytest.approx(2.75 * 4 * 150, abs=2)  # 4 columns, 2 rows


def test_format_nm_and_ic50_text():
    assert plots.format_nm(1.73e-9) == "1.73"
    assert plots.format_nm(3.69e-5) == "36,900"
    assert plots.format_nm(float("nan")) == "n/a"
    assert plots.ic50_text(FIT) == "IC50 2 nM (95% CI 1.5–2.6)"
    assert plots.ic50_text(dict(FIT, ic50_ci_low=float("nan"))) == "IC50 2 nM (CI n/a)"


@pytest.mark.parametrize("fmt,shape", [(96, (8, 12)), (384, (16, 24))])
def test_heatmap_edge_rings_and_shape(tmp_path, fmt, shape):
    assay = KINASE if fmt == 384 else VIABILITY
    plates = {"P1": ["TRKA"]} if fmt == 384 else {"P1": ["KM12"]}
    df = joined_table(assay, fmt=fmt, plates=plates, n_vehicle=4, n_low=4, edge=0.8, seed=1,
                      flagged={("P1", "B5"): "overflow"})
    data = normalize(df, assay).data
    assert plots.plate_shape(data["row"], data["column"]) == shape
    rings = plots.edge_rings(data, shape)
    assert rings.min() == 0 and rings.max() == min(shape) // 2 - 1
    # deviation of vehicle wells from 100: the edge wells (factor 0.8) read low -> visible in the ring profile
    data["deviation"] = np.where(data["role"] == "vehicle", data["response"] - 100.0, np.nan)
    p = plots.heatmap_png(data, tmp_path / "h.png", title="plate P1", raw_label="CPM")
    img = pixels(p)
    assert img.shape[1] > img.shape[0]  # 2 x 2 panels of a landscape plate
    assert share(img, np.array([0xE6, 0xE6, 0xE6]) / 255, tol=0.01) > 0.01  # grey: wells without a value


def test_plots_use_no_pyplot_global_state():
    import inspect

    src = inspect.getsource(plots)
    assert "import matplotlib.pyplot" not in src and "from matplotlib import pyplot" not in src
    assert "matplotlib.use(" not in src  # never switches the caller's backend
