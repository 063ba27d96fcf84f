from pathlib import Path

from labkit.layout.io import load_experiment
from labkit.layout.render import plate_png, text_map

ROOT = Path(__file__).parents[2]


def test_text_map_marks_points_and_controls():
    exp = load_experiment(ROOT / "layouts" / "viability_km12.yaml")
    text = text_map(exp, "KM12-1")
    lines = text.splitlines()
    row_b = next(line for line in lines if line.startswith(" B "))
    assert row_b.split()[1:12] == ["~", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10"]
    grid = [line.split()[1:13] for line in lines[2:10]]
    assert sum(row.count("V") for row in grid) == 6
    assert sum(row.count("B") for row in grid) == 6
    assert sum(row.count("~") for row in grid) == 36


def test_png_is_deterministic(tmp_path):
    exp = load_experiment(ROOT / "layouts" / "viability_aml_384.yaml")
    a = plate_png(exp, "AML-1", tmp_path / "a.png").read_bytes()
    b = plate_png(exp, "AML-1", tmp_path / "b.png").read_bytes()
    assert a == b and len(a) > 10_000


def _pixels_of(path: Path, colour: str) -> int:
    """Pixels of a PNG in a colour (exact RGB match)."""
    import matplotlib.image as mpimg
    import numpy as np
    from matplotlib.colors import to_rgb

    img = mpimg.imread(path)[..., :3]
    return int(np.all(np.abs(img - np.array(to_rgb(colour))) < 1 / 255, axis=-1).sum())


def test_time_zero_plate_is_mapped():
    """The time-zero plate (read at dosing, for GR) gets a text map of its own: its wells as T, per cell line."""
    from labkit.layout.render import map_plates

    exp = load_experiment(ROOT / "layouts" / "viability_aml_384.yaml")
    assert map_plates(exp) == ["AML-1", "AML-T0"]
    text = text_map(exp, "AML-T0")
    assert text.splitlines()[0].startswith("AML-T0 (384-well, time zero")
    cells = [line.split()[1:25] for line in text.splitlines()[2:18]]
    t_wells = {f"{'ABCDEFGHIJKLMNOP'[r]}{c + 1}" for r, row in enumerate(cells) for c, v in enumerate(row) if v == "T"}
    assert t_wells == {w for w, _line in exp.time_zero_wells()} and len(t_wells) == 12
    assert "T" not in {v for row in text_map(exp, "AML-1").splitlines()[2:18] for v in row.split()[1:25]}


def test_layout_show_png_draws_the_time_zero_plate(tmp_path):
    """`labkit layout show --png` writes the time-zero plate's map next to the assay plate's, its wells in the
    time-zero colour (the assay plate has none of it)."""
    import subprocess
    import sys

    from labkit.layout.render import ROLE_COLOURS

    labkit = str(Path(sys.executable).with_name("labkit"))
    run = subprocess.run([labkit, "layout", "show", str(ROOT / "layouts" / "viability_km12.yaml"), "--png",
                          str(tmp_path / "maps")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "KM12-T0 (96-well, time zero" in run.stdout
    t0, plate = tmp_path / "maps" / "viability_km12_KM12-T0.png", tmp_path / "maps" / "viability_km12_KM12-1.png"
    assert sorted(p.name for p in (tmp_path / "maps").iterdir()) == [plate.name, t0.name]
    pink = ROLE_COLOURS["time_zero"]
    assert _pixels_of(t0, pink) > 6 * 200  # six filled wells (each ~ 350 px at 110 dpi) plus the legend patch
    assert _pixels_of(plate, pink) == 0
    assert _pixels_of(t0, ROLE_COLOURS["sample"]) == 0
