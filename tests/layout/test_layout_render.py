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
