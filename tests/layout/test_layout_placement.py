"""Property tests: any valid generated spec lays out without overlap and round-trips through YAML."""

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from labkit.errors import LayoutError
from labkit.layout.io import dump_yaml, parse_experiment
from labkit.tables import PLATE_FORMATS

names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
                min_size=1, max_size=12)


@st.composite
def specs(draw):
    assay = draw(st.sampled_from(["kinase_radiometric", "cell_viability_ctg"]))
    fmt = draw(st.sampled_from([96, 384]))
    edges = draw(st.sampled_from(["use", "empty", "buffer"]))
    n_cpd = draw(st.integers(1, 2))
    cpd_names = draw(st.lists(names, min_size=n_cpd, max_size=n_cpd, unique=True))
    compounds = [{"name": n, "stock": "10 mM", "role": draw(st.sampled_from(["sample", "reference"])),
                  "dilution": {"top": f"{draw(st.integers(1, 999))} nM", "factor": draw(st.sampled_from([2, 3, 4, 10])),
                               "points": draw(st.integers(2, 12)), "replicates": draw(st.integers(1, 3))}}
                 for n in cpd_names]
    groups = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    kw = "targets" if assay == "kinase_radiometric" else "cell_lines"
    group_items = ([{"name": g} for g in groups] if kw == "targets"
                   else [{"name": g, "growth": draw(st.sampled_from(["adherent", "suspension"]))} for g in groups])
    # kinase: the no-enzyme control under its name or its old one (positive), total-counts wells or none
    second = draw(st.sampled_from(["no_enzyme", "positive"])) if kw == "targets" else "blank"
    controls = {"vehicle": draw(st.integers(2, 4)), second: draw(st.integers(2, 4)), "minimum": 2}
    if kw == "targets":
        controls["total_counts"] = draw(st.integers(0, 2))
    plate = {"id": draw(names), "format": fmt, "edges": edges, kw: groups}
    if draw(st.booleans()):
        plate["series_per_row"] = draw(st.integers(1, 3))
    return {"name": draw(names), "assay": assay, "compounds": compounds, kw: group_items, "controls": controls,
            "plates": [plate]}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_valid_specs_place_without_overlap_and_round_trip(spec):
    from labkit.yaml_safe import dump  # YAML 1.2 quoting: PyYAML's 1.1 dumper leaves e.g. '0E0' bare

    try:
        exp = parse_experiment(dump(spec))
    except LayoutError as exc:
        # the only acceptable refusal of a generated spec is a plate that is too small for it
        assert "too many wells" in str(exc) or "does not fit" in str(exc), str(exc)
        assume(False)
        return
    t = exp.wells_table()
    plate = exp.plates[0]
    rows, cols = PLATE_FORMATS[plate.format]
    assert len(t) == rows * cols
    assert not t.duplicated(["plate", "well"]).any()
    # every requested series point and control well is placed exactly once
    groups = plate.targets or plate.cell_lines
    kind = "target" if plate.targets else "cell_line"
    for c in exp.compounds:
        placed = t[(t.compound == c.name)]
        assert len(placed) == len(groups) * c.dilution.replicates * c.dilution.points
        assert set(placed.role) == {c.role}
    # a kinase layout's `positive` wells are its no_enzyme wells (the old name, read with a deprecation note)
    legacy = {"positive": "no_enzyme"} if exp.assay == "kinase_radiometric" else {}
    for role in ("vehicle", "positive", "no_enzyme", "blank", "total_counts"):
        asked = getattr(exp.controls, role) + sum(getattr(exp.controls, old) for old, new in legacy.items()
                                                  if new == role)
        assert (t.role == role).sum() == (0 if role in legacy else len(groups) * asked)
        assert set(t.loc[t.role == role, kind]) <= set(groups)
    if plate.edges != "use":
        edge = t[t.row.isin([t.row.min(), t.row.max()]) | t.column.isin([1, cols])]
        assert set(edge.role) <= {"empty", "buffer"}
    # YAML round trip gives the same experiment and the same wells
    again = parse_experiment(dump_yaml(exp))
    assert again == exp
    assert again.wells_table().equals(t)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_is_accepted_or_refused_cleanly(text):
    try:
        parse_experiment(text, "fuzz.yaml")
    except LayoutError as exc:
        assert str(exc).startswith("fuzz.yaml")


def test_seed_layouts_validate():
    from pathlib import Path

    from labkit.layout.io import load_experiment

    seeds = sorted(Path(__file__).parents[2].joinpath("layouts").glob("*.yaml"))
    assert len(seeds) >= 4
    kinds = set()
    formats = set()
    for path in seeds:
        exp = load_experiment(path)
        kinds.add(exp.assay)
        formats |= {p.format for p in exp.plates}
        t = exp.wells_table()
        for plate in exp.plates:
            sub = t[t.plate == plate.id]
            if exp.assay == "kinase_radiometric":
                assert (sub.role == "vehicle").sum() >= 2 and (sub.role == "no_enzyme").sum() >= 2
            if exp.assay == "kinase_adpglo":
                assert (sub.role == "vehicle").sum() >= 2 and (sub.role == "positive").sum() >= 2
            if exp.assay == "cell_viability_ctg":  # 0 % = blank (no-cell) or kill-control wells, as declared
                assert exp.low_control in ("blank", "kill")
                assert (sub.role == "vehicle").sum() >= 2 and (sub.role == exp.low_control).sum() >= 2
    assert kinds == {"kinase_radiometric", "cell_viability_ctg", "dilution_plate", "kinase_adpglo"}
    assert 384 in formats


def test_kinase_seed_covers_the_panel():
    from pathlib import Path

    from labkit.layout.io import load_experiment

    exp = load_experiment(Path(__file__).parents[2] / "layouts" / "kinase_panel.yaml")
    t = exp.wells_table()
    assert set(t.target) - {""} == {"TRKA", "TRKB", "TRKC", "ROS1", "ALK"}
    concs = t.loc[t.role == "sample", "conc_M"]
    # brackets the sub-nanomolar to ~10 nM IC50s of the seeds
    assert concs.min() < 0.1e-9 / 10 and concs.max() >= 10e-9 * 5
