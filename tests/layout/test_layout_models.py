"""Dilution arithmetic against hand-computed values, and every rejection with its message."""

import pytest
import yaml

from labkit.errors import LayoutError
from labkit.layout.io import parse_experiment
from labkit.layout.models import SerialDilution

KINASE = """
name: k
assay: kinase_radiometric
compounds:
  - name: cpd
    stock: 10 mM
    dilution: {top: 100 nM, factor: 3, points: 10, replicates: 2}
targets: [{name: TRKA}]
controls: {vehicle: 2, positive: 2}
plates:
  - {id: P1, format: 96, targets: [TRKA]}
"""


def load(text=KINASE, **patch):
    data = yaml.safe_load(text)
    for path, value in patch.items():
        node = data
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node[k]
        node[keys[-1]] = value
    return parse_experiment(yaml.safe_dump(data), "test.yaml")


def problems(**patch):
    with pytest.raises(LayoutError) as info:
        load(**patch)
    return "\n".join(info.value.problems), str(info.value)


def test_serial_dilution_concentrations_by_hand():
    d = SerialDilution(top="100 nM", factor=3, points=4, replicates=1)
    assert d.concentrations == pytest.approx([1e-7, 1e-7 / 3, 1e-7 / 9, 1e-7 / 27])


def test_kinase_scheme_by_hand():
    # 2 µL DMSO series + 38 µL buffer = 5 % DMSO; 5 µL of that into a 25 µL reaction = 1 % DMSO.
    e = load()
    s = e.scheme("cpd")
    assert s.solvent_fraction == pytest.approx(0.01)
    assert s.intermediate[0] == pytest.approx(500e-9)   # 100 nM × 25/5
    assert s.source[0] == pytest.approx(10e-6)          # 100 nM / 1 %
    assert s.serial_transfer == pytest.approx(10.0)     # 20 µL diluent, 1:3 -> 10 µL carried
    assert s.source[1] / s.source[0] == pytest.approx(1 / 3)
    assert s.top_from_stock == pytest.approx((0.1, 99.9))  # 10 µM from 10 mM: 0.1 µL in 100 µL


def test_viability_scheme_by_hand():
    text = """
name: v
assay: cell_viability_ctg
compounds: [{name: cpd, stock: 10 mM, dilution: {top: 1 uM, factor: 2, points: 8, replicates: 3}}]
cell_lines: [{name: KM12, growth: adherent}]
controls: {vehicle: 3, blank: 3, minimum: 3}
volumes: {cells: 90 uL, compound: 10 uL}
plates: [{id: V1, cell_lines: [KM12]}]
"""
    e = parse_experiment(text)
    s = e.scheme("cpd")
    assert s.solvent_fraction == pytest.approx(0.005)   # 2/40 × 10/100
    assert s.source[0] == pytest.approx(200e-6)
    assert s.serial_transfer == pytest.approx(20.0)     # 1:2 with 20 µL diluent
    assert e.limit == 0.005


def test_wells_table_columns_and_counts():
    from labkit.tables import WELLS_COLUMNS

    t = load().wells_table()
    assert list(t.columns) == list(WELLS_COLUMNS)
    assert len(t) == 96
    assert (t.role == "sample").sum() == 20
    top = t[(t.role == "sample") & (t.point == 0)]
    assert top.conc_M.tolist() == pytest.approx([1e-7, 1e-7])
    assert set(t.loc[t.role == "vehicle", "target"]) == {"TRKA"}


@pytest.mark.parametrize("patch,expected", [
    (dict(compounds__0__dilution__points=1), "compounds[0].dilution.points: must be at least 2"),
    (dict(compounds__0__dilution__factor=1), "compounds[0].dilution.factor: must be greater than 1"),
    (dict(compounds__0__dilution__top="-1 nM"), "compounds[0].dilution.top: a concentration cannot be negative"),
    (dict(compounds__0__dilution__top="0 nM"), "compounds[0].dilution.top: must be a positive concentration"),
    (dict(compounds__0__stock="ten mM"), "compounds[0].stock: expected a concentration"),
    (dict(compounds__0__colour="red"), "compounds[0].colour: unknown field"),
    (dict(assay="elisa"), "assay: expected"),
    (dict(volumes={"intermediate_solvent": "4 uL", "intermediate_diluent": "36 uL"}),
     "final DMSO would be 2.00%, above the 1.00% limit"),
    (dict(volumes={"serial": "1.5 uL"}), "below the 1 µL pipette minimum"),
    (dict(compounds__0__dilution__top="2 mM"), "but the stock is only 10 mM"),
    (dict(controls={"vehicle": 1, "positive": 2}), "has 1 vehicle well(s); every plate needs at least 2"),
    (dict(controls={"vehicle": 2, "positive": 0}), "has 0 no_enzyme well(s)"),
    (dict(plates=[{"id": "P1", "targets": ["TRKX"]}]), "plates[0].targets[0]: unknown target 'TRKX'"),
    (dict(compounds__0__dilution__points=13), "does not fit in the 12 usable columns"),
    (dict(compounds__0__dilution__replicates=9), "too many wells for the plate"),
    (dict(plates=[{"id": "P1", "targets": ["TRKA"]}, {"id": "P1", "targets": ["TRKA"]}]), "duplicate plate id"),
])
def test_rejections_name_the_field(patch, expected):
    text, whole = problems(**patch)
    assert expected in text
    assert whole.startswith("test.yaml: ")


def test_error_names_the_line():
    bad = KINASE.replace("points: 10", "points: 1")
    with pytest.raises(LayoutError) as info:
        parse_experiment(bad, "f.yaml")
    assert info.value.problems == ["line 7: compounds[0].dilution.points: must be at least 2"]


def test_solvent_limit_for_cells_is_half_a_percent():
    text = """
name: v
assay: cell_viability_ctg
compounds: [{name: cpd, stock: 10 mM, dilution: {top: 1 uM}}]
cell_lines: [{name: KM12, growth: adherent}]
controls: {vehicle: 3, blank: 3}
volumes: {cells: 80 uL, compound: 20 uL}
plates: [{id: V1, cell_lines: [KM12]}]
"""
    with pytest.raises(LayoutError, match=r"final DMSO would be 1.00%, above the 0.50% limit"):
        parse_experiment(text)


EXPLICIT = """
name: explicit
assay: kinase_radiometric
compounds: [{name: cpd, stock: 10 mM, dilution: {top: 100 nM, points: 4, replicates: 1}}]
targets: [{name: TRKA}]
controls: {vehicle: 2, positive: 2}
plates:
  - id: P1
    wells:
      - {well: "A1:A4", role: sample, compound: cpd, target: TRKA}
      - {well: "B1:B2", role: vehicle, target: TRKA}
      - {well: "C1:C2", role: positive, target: TRKA}
"""


def test_explicit_wells_and_ranges():
    t = parse_experiment(EXPLICIT).wells_table()
    a = t[t.row == "A"].set_index("well")
    assert a.loc["A1", "conc_M"] == pytest.approx(1e-7)
    assert a.loc["A4", "point"] == 3
    assert (t.role == "vehicle").sum() == 2 and (t.role == "empty").sum() == 96 - 8


@pytest.mark.parametrize("extra,expected", [
    ('      - {well: "A2", role: vehicle, target: TRKA}', "well A2 is assigned twice"),
    ('      - {well: "I1", role: vehicle, target: TRKA}', "well I1 is off the 96-well plate"),
    ('      - {well: "A13", role: vehicle, target: TRKA}', "well A13 is off the 96-well plate"),
    ('      - {well: "D1:D5", role: sample, compound: cpd, target: TRKA}', "only 4 dilution points"),
    ('      - {well: "D1", role: sample, compound: nope, target: TRKA}', "unknown compound 'nope'"),
    ('      - {well: "Q1", role: vehicle}', "well Q1 is off the 96-well plate (rows A–H"),
    ('      - {well: "1A", role: vehicle}', "not a well name"),
])
def test_explicit_rejections(extra, expected):
    with pytest.raises(LayoutError) as info:
        parse_experiment(EXPLICIT + extra + "\n", "x.yaml")
    assert expected in str(info.value)


def test_edges_empty_and_buffer():
    text = KINASE.replace("{id: P1, format: 96, targets: [TRKA]}", "{id: P1, format: 96, edges: buffer, targets: [TRKA]}")
    text = text.replace("points: 10", "points: 8")
    t = parse_experiment(text).wells_table()
    edge = t[(t.row.isin(["A", "H"])) | (t.column.isin([1, 12]))]
    assert set(edge.role) == {"buffer"}
    assert (t.role == "sample").sum() == 16


def test_a_plate_problem_is_reported_once_against_its_own_plate():
    text = KINASE.replace("replicates: 2", "replicates: 9").replace(
        "  - {id: P1, format: 96, targets: [TRKA]}",
        "  - {id: P1, format: 96, targets: [TRKA]}\n  - {id: P2, format: 384, targets: [TRKA]}")
    with pytest.raises(LayoutError) as info:
        parse_experiment(text)
    assert len(info.value.problems) == 1
    assert "plates[0]: plate 'P1': too many wells for the plate: 9 dilution series need 9 rows" \
        in info.value.problems[0]
