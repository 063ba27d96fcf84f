"""Bad input never becomes a wrong experiment, a lost file or a traceback (issue 15).

Every case runs the real `labkit` command in-process on real files and asserts what labkit promises:
exit code 2 (1 where a check failed rather than the input), a message that names the file and the field or line,
no traceback, the input files byte-for-byte unchanged, and no partial output (the output folder's listing is
what it was). Classes: layouts that silently mean something else, outputs that are lost or half written,
readouts that lose or duplicate data, hosts / hangs.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.cli import main
from labkit.errors import LabkitError, LayoutError

ROOT = Path(__file__).parent.parent
LAYOUTS = ROOT / "layouts"
READOUTS = ROOT / "tests" / "data" / "readout"
KINASE = (LAYOUTS / "kinase_panel.yaml").read_text(encoding="utf-8")
VIABILITY = (LAYOUTS / "viability_km12.yaml").read_text(encoding="utf-8")
MICROBETA = (READOUTS / "microbeta2_grid_2plates.csv").read_text(encoding="utf-8")
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def run(args: list, capsys) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `labkit args`."""
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return info.value.code, out, err


def digest(paths: list[Path]) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def listing(folder: Path) -> list[str]:
    """Every path under folder (relative), with file hashes: what 'nothing new, nothing changed' compares."""
    if not folder.exists():
        return []
    out = []
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        out.append(rel + ("/" if p.is_dir() else ":" + hashlib.sha256(p.read_bytes()).hexdigest()[:12]))
    return out


def refused(args: list, capsys, inputs: list[Path], out_dir: Path | None, *expected: str, code: int = 2) -> str:
    """Run, and assert the promise: exit code, message parts, no traceback, inputs unchanged, no new output."""
    before, files = digest(inputs), listing(out_dir) if out_dir is not None else None
    rc, _, err = run(args, capsys)
    assert rc == code, err
    assert "Traceback" not in err and not re.search(r"\w+(Error|Exception):", err), err  # no Python exception
    for part in expected:
        assert part in err, f"{part!r} not in {err!r}"
    assert digest(inputs) == before, "an input file changed"
    if out_dir is not None:
        assert listing(out_dir) == files, "the output folder changed"
    return err


def replaced(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


# --- layouts that silently mean something else ---------------------------------------------------------------

LAYOUT_CASES = [
    # (id, base, old, new, expected in the message (with {line} = line of `new`))
    ("duplicate-top-level-key", KINASE, "plates:\n", "plates:\n  - {id: X-1, format: 96, targets: [TRKA]}\nplates:\n",
     ["duplicate key 'plates'"]),
    ("duplicate-key-in-flow-mapping", KINASE, "{top: 100 nM,", "{top: 100 nM, top: 10 nM,", ["duplicate key 'top'"]),
    ("duplicate-volume", VIABILITY, "{cells: 90 uL,", "{cells: 90 uL, cells: 9 uL,", ["duplicate key 'cells'"]),
    ("nan-stock", KINASE, "stock: 10 mM", "stock: .nan", ["line {line}: compounds[0].stock", "finite"]),
    ("inf-top", KINASE, "top: 100 nM", "top: .inf", ["compounds[0].dilution.top", "finite"]),
    ("huge-volume", KINASE, "enzyme_mix: 10 uL", "enzyme_mix: 1e400 uL", ["line {line}: volumes.enzyme_mix", "finite"]),
    ("huge-bare-number", KINASE, "atp_mix: 10 uL", "atp_mix: 1e400", ["line {line}: volumes.atp_mix", "finite"]),
    ("negative-stop", KINASE, "stop: 25 uL", "stop: -25 uL", ["line {line}: volumes.stop", "cannot be negative"]),
    ("bad-unit-in-volumes", KINASE, "compound: 5 uL", "compound: 5 uM", ["line {line}: volumes.compound",
                                                                         "unknown volume unit"]),
    ("unknown-volume-field", KINASE, "stop: 25 uL", "stopp: 25 uL", ["line {line}: volumes.stopp", "unknown field"]),
    ("negative-enzyme", KINASE, "enzyme: 2 nM, substrate: poly(Glu4-Tyr), atp: 10 uM}\n  - {name: TRKB",
     "enzyme: -2 nM, substrate: poly(Glu4-Tyr), atp: 10 uM}\n  - {name: TRKB", ["targets[0].enzyme", "negative"]),
    ("zero-intermediate", KINASE, "filter_transfer: 40 uL",
     "filter_transfer: 40 uL\n  intermediate_solvent: 0 uL\n  intermediate_diluent: 0 uL",
     ["volumes.intermediate_solvent: must be more than 0", "volumes.intermediate_diluent"]),
    ("zero-compound-volume", VIABILITY, "compound: 10 uL", "compound: 0 uL", ["volumes.compound: must be more than 0"]),
    ("negative-cells", VIABILITY, "cells: 90 uL", "cells: -90 uL", ["line {line}: volumes.cells", "negative"]),
    ("inf-condition", KINASE, "reaction_min: 40", "reaction_min: .inf", ["conditions.reaction_min", "finite"]),
    ("nan-factor", KINASE, "factor: 3,", "factor: .nan,", ["compounds[0].dilution.factor", "finite"]),
    ("ratio-not-one-to-n", KINASE, "factor: 3,", "factor: 2:3,", ["compounds[0].dilution.factor", "1:N"]),
    ("ratio-below-one", KINASE, "factor: 3,", "factor: 1:0.5,", ["compounds[0].dilution.factor", "greater than 1"]),
    ("sexagesimal-points", KINASE, "points: 10,", "points: 1:30,", ["compounds[0].dilution.points"]),
]


@pytest.mark.parametrize("case", LAYOUT_CASES, ids=[c[0] for c in LAYOUT_CASES])
@pytest.mark.parametrize("command", ["validate", "protocol"])
def test_bad_layout_is_refused_with_file_line_and_field(case, command, tmp_path, capsys):
    _, base, old, new, expected = case
    text = replaced(base, old, new)
    layout = tmp_path / "bad.yaml"
    layout.write_text(text, encoding="utf-8")
    line = line_of(text, new.strip().splitlines()[0])
    out = tmp_path / "out"
    args = (["layout", "validate", layout] if command == "validate"
            else ["protocol", layout, "--robot", "flex", "-o", out / "p.py"])
    refused(args, capsys, [layout], out, str(layout), *(e.format(line=line) for e in expected))


def test_validation_goes_on_after_a_failing_file(tmp_path, capsys):
    zero = tmp_path / "zero.yaml"
    zero.write_text(replaced(KINASE, "filter_transfer: 40 uL", "filter_transfer: 40 uL\n  intermediate_solvent: 0 uL"
                             "\n  intermediate_diluent: 0 uL"), encoding="utf-8")
    rc, out, err = run(["layout", "validate", zero, LAYOUTS / "viability_km12.yaml"], capsys)
    assert rc == 2 and str(zero) in err and "Traceback" not in err
    assert "viability_km12.yaml: ok" in out


def test_one_to_n_is_a_dilution_factor_and_never_base_60(tmp_path):
    from labkit.layout.io import parse_experiment

    for written in ("1:2", "1/2", "'1:2'", "2", "2.0"):
        exp = parse_experiment(replaced(KINASE, "factor: 3,", f"factor: {written},"), "x.yaml")
        assert exp.compounds[0].dilution.factor == 2.0, written  # YAML 1.1 would read 1:2 as 62


def test_yaml_1_1_words_stay_text(tmp_path):
    from labkit.layout.io import dump_yaml, parse_experiment

    exp = parse_experiment(replaced(KINASE, "name: entrectinib\n", "name: no\n"), "x.yaml")
    assert exp.compounds[0].name == "no"  # YAML 1.1: False, which would fail as a name
    again = parse_experiment(dump_yaml(exp), "y.yaml")
    assert again == exp


_SCALARS = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.sampled_from([".nan", ".inf", "-.inf", "1e400", "-1", "1:2", "0x10", "0o7", "~", "null", "yes", "no",
                     "1_000", "2001-01-01", "[1, 2]", "{a: 1}", "*a", "&a 1", "!!python/none", "'", '"', "|", "- x",
                     "10 mM mM", "10 µL", "NaN uL", "inf uL", "1e-400 uL", "-0 uL"]))
_FIELDS = ["stock: 10 mM", "top: 100 nM", "factor: 3,", "points: 10,", "compound: 5 uL", "stop: 25 uL",
           "reaction_min: 40", "id: KIN-1", "name: entrectinib", "controls: {vehicle: 4"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(_FIELDS), value=_SCALARS)
def test_garbage_scalars_never_crash(field, value):
    """Any text in any field: a valid experiment or a LayoutError; never another exception."""
    from labkit.layout.io import parse_experiment

    key, _, rest = field.partition(": ")
    tail = "," if rest.endswith(",") else ""
    text = KINASE.replace(field, f"{key}: {value}{tail}", 1)
    try:
        exp = parse_experiment(text, "fuzz.yaml")
    except LayoutError as exc:
        assert "fuzz.yaml" in str(exc)
        return
    exp.wells_table()  # a layout that validates can be placed


# --- outputs that are lost or half written -----------------------------------------------------------------


def test_protocol_into_a_missing_folder_creates_it(tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "p.py"
    rc, _, err = run(["protocol", LAYOUTS / "dilution_tutorial.yaml", "--robot", "flex", "-o", out], capsys)
    assert rc == 0, err
    assert out.read_text(encoding="utf-8").startswith("from opentrons") or "opentrons" in out.read_text()
    assert [p.name for p in out.parent.iterdir()] == ["p.py"]  # no temporary file left


def test_protocol_through_a_file_is_refused(tmp_path, capsys):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder")
    refused(["protocol", LAYOUTS / "dilution_tutorial.yaml", "-o", blocker / "p.py"], capsys, [blocker], tmp_path,
            str(blocker), "is a file, not a folder")


@pytest.mark.skipif(AS_ROOT, reason="root writes into read-only folders; permissions cannot be tested as root")
def test_protocol_into_a_read_only_folder_is_refused(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        refused(["protocol", LAYOUTS / "dilution_tutorial.yaml", "-o", ro / "p.py"], capsys, [], ro,
                "read-only")
    finally:
        ro.chmod(0o755)


def test_protocol_over_a_hard_link_to_the_layout_is_refused(tmp_path, capsys):
    layout = tmp_path / "l.yaml"
    shutil.copy(LAYOUTS / "dilution_tutorial.yaml", layout)
    link = tmp_path / "out.py"
    os.link(layout, link)  # another name for the same file: a path comparison misses it
    refused(["protocol", layout, "-o", link], capsys, [layout], tmp_path, "never overwritten")


def test_import_over_a_hard_link_to_the_readout_is_refused(tmp_path, capsys):
    raw = tmp_path / "counts.csv"
    raw.write_text(MICROBETA, encoding="utf-8")
    link = tmp_path / "sub" / "tidy.csv"
    link.parent.mkdir()
    os.link(raw, link)
    refused(["import", raw, "-o", link], capsys, [raw], tmp_path, "never overwritten")


def test_protocol_all_writes_nothing_when_one_layout_is_broken(tmp_path, capsys, monkeypatch):
    shutil.copytree(LAYOUTS, tmp_path / "layouts")
    shutil.copytree(ROOT / "protocols", tmp_path / "protocols")
    broken = tmp_path / "layouts" / "zz_broken.yaml"  # sorted last: every other protocol is generated first
    broken.write_text(replaced(VIABILITY, "cells: 90 uL", "cells: -90 uL"), encoding="utf-8")
    for p in (tmp_path / "protocols").glob("*.py"):
        p.write_text("# stale protocol\n")  # if --all wrote anything, these would change
    monkeypatch.chdir(tmp_path)
    inputs = sorted((tmp_path / "layouts").glob("*.yaml"))
    refused(["protocol", "--all"], capsys, inputs, tmp_path / "protocols", "zz_broken.yaml", "volumes.cells",
            "no protocol was written")


def test_layout_show_png_names_stay_in_the_folder(tmp_path, capsys):
    layout = tmp_path / "l.yaml"
    layout.write_text(replaced(KINASE, "id: KIN-1,", "id: 'x/../../../escaped',"), encoding="utf-8")
    maps = tmp_path / "deep" / "maps"
    rc, out, err = run(["layout", "show", layout, "--png", maps], capsys)
    assert rc == 0, err
    names = sorted(p.name for p in maps.iterdir())
    assert names == ["l_KIN-2.png", "l_x_.._.._.._escaped.png"]
    assert [p for p in tmp_path.rglob("*.png") if maps not in p.parents] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "l.yaml"]


def test_analyze_where_a_subfolder_name_is_a_file_writes_nothing(tmp_path, capsys):
    readout = tmp_path / "counts.csv"
    readout.write_text(MICROBETA, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "curves").write_text("a file where labkit puts a folder")
    (out / "results.csv").write_text("previous results, must survive\n")
    err = refused(["analyze", readout, "--layout", LAYOUTS / "kinase_panel.yaml", "-o", out], capsys,
                  [readout, LAYOUTS / "kinase_panel.yaml"], out, str(out / "curves"), "nothing was written")
    assert "is a file" in err


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    from labkit.safety import atomic_path, atomic_write_text

    target = atomic_write_text(tmp_path / "r.csv", "old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half of the new fi")
            raise RuntimeError("disk full")
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["r.csv"]


def test_fit_on_a_header_only_table_is_bad_input(tmp_path, capsys):
    table = tmp_path / "doses.csv"
    table.write_text("conc,resp\n")
    refused(["fit", table, "--conc", "conc", "--response", "resp", "-o", tmp_path / "out" / "ic50.csv"], capsys,
            [table], tmp_path, str(table), "no rows")


# --- readouts that lose or duplicate data ----------------------------------------------------------------------

def _cut_after_row_d(text: str) -> str:
    lines = text.split("\n")
    i = next(i for i, ln in enumerate(lines) if ln.startswith("D,4101"))
    return "\n".join(lines[:i + 1]) + "\n"  # ends cleanly: no half line to give it away


def _blank_plate_2(text: str) -> str:
    head, tail = text.split("Plate,2", 1)
    return head + "Plate,2" + re.sub(r"^([A-H]),[0-9,]+$", lambda m: m.group(1) + "," * 12, tail, flags=re.M)


def _plate_1_twice(text: str) -> str:
    p1, p2 = text.index("Plate,1"), text.index("Plate,2")
    return text[:p2] + text[p1:p2] + text[p2:]


def _topcount_rows_a_to_d(text: str) -> str:
    return "\n".join(ln for ln in text.split("\n") if not re.match(r"^\s*[E-H]\s", ln)) + "\n"


@pytest.mark.parametrize("name, make, source", [
    ("microbeta", _cut_after_row_d, "microbeta2_grid_2plates.csv"),
    ("topcount", _topcount_rows_a_to_d, "topcount_plate_96.001"),
])
def test_a_grid_short_of_its_rows_is_an_error_unless_partial(name, make, source, tmp_path, capsys):
    raw = tmp_path / f"short_{source}"
    raw.write_bytes(make((READOUTS / source).read_text(encoding="utf-8")).encode("utf-8"))
    out = tmp_path / "out"
    refused(["import", raw, "-o", out / "t.csv"], capsys, [raw], out, str(raw), "short of its format's rows",
            "--partial", "rows A-D only")
    rc, _, err = run(["import", raw, "--partial", "-o", out / "t.csv"], capsys)
    assert rc == 0, err
    import pandas as pd

    assert set(pd.read_csv(out / "t.csv")["row"]) <= set("ABCD")


def test_an_all_blank_plate_is_kept_as_missing_and_analyze_reports_it_failed(tmp_path, capsys):
    from labkit.readout import read

    raw = tmp_path / "counts.csv"
    raw.write_text(_blank_plate_2(MICROBETA), encoding="utf-8")
    df = read(raw)
    plate2 = df[df["plate"] == "KIN-TRKA-02"]
    assert len(plate2) == 96 and (plate2["flag"] == "missing").all() and plate2["value"].isna().all()
    rc, out, err = run(["analyze", raw, "--layout", LAYOUTS / "kinase_panel.yaml", "-o", tmp_path / "out",
                        "--plate-map", "KIN-TRKA-01=KIN-1", "--plate-map", "KIN-TRKA-02=KIN-2"], capsys)
    assert rc == 0, err
    assert "plate KIN-2: 96 wells read, 96 excluded" in out and "QC FAIL" in out
    assert "plate KIN-2 FAILED" in out
    import pandas as pd

    plates = pd.read_csv(tmp_path / "out" / "plates.csv")
    row = plates[plates["plate"] == "KIN-2"].iloc[0]
    assert row["missing"] == 96 and not row["qc_pass"]
    results = pd.read_csv(tmp_path / "out" / "results.csv")
    assert {"ROS1", "ALK"} <= set(results["target"])  # its curves are reported (with no points), not absent


def test_an_all_blank_plate_of_a_generic_grid_file_is_kept_as_missing(tmp_path):
    from labkit.readout import read

    text = (READOUTS / "grid_2plates_blocks.csv").read_text(encoding="utf-8")
    head, tail = text.split("Plate: P2", 1)
    raw = tmp_path / "two.csv"
    raw.write_text(head + "Plate: P2" + re.sub(r"^([A-H]),[0-9.,]+$", lambda m: m.group(1) + "," * 12, tail,
                                               flags=re.M), encoding="utf-8")
    df = read(raw)
    assert df.groupby("plate")["flag"].agg(lambda f: sorted(set(f))).to_dict() == {"P1": ["ok"], "P2": ["missing"]}
    assert (df["plate"] == "P2").sum() == 96


def test_the_same_plate_pasted_twice_is_an_error_unless_a_read_is_chosen(tmp_path, capsys):
    raw = tmp_path / "counts.csv"
    raw.write_text(_plate_1_twice(MICROBETA), encoding="utf-8")
    out = tmp_path / "out"
    refused(["analyze", raw, "--layout", LAYOUTS / "kinase_panel.yaml", "-o", out], capsys, [raw], out, str(raw),
            "2 reads", "'CCPM1 (2)'", "--read")
    refused(["analyze", raw, "--read", "CCPM9", "--layout", LAYOUTS / "kinase_panel.yaml", "-o", out], capsys,
            [raw], out, str(raw), "--read 'CCPM9' is not a read of this file")


def test_the_same_plate_in_two_files_is_an_error(tmp_path, capsys):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    text = MICROBETA.replace('="KIN-TRKA-01"', "KIN-1").replace('="KIN-TRKA-02"', "KIN-2")
    a.write_text(text, encoding="utf-8")
    b.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    refused(["analyze", a, b, "--layout", LAYOUTS / "kinase_panel.yaml", "-o", out], capsys, [a, b], out,
            "more than one reading", "a.csv", "b.csv")


def test_a_luminescence_export_on_a_radiometric_layout_is_refused_unless_forced(tmp_path, capsys):
    raw = tmp_path / "ctg.csv"
    shutil.copy(READOUTS / "envision_lum_96_ovrflw.csv", raw)
    out = tmp_path / "out"
    refused(["analyze", raw, "--layout", LAYOUTS / "kinase_panel.yaml", "--plate-map", "CTG-96-A=KIN-1", "-o", out],
            capsys, [raw], out, str(raw), "unit", "not what a kinase_radiometric read-out gives", "--force")


def test_plate_barcodes_that_name_no_layout_plate_are_refused(tmp_path, capsys):
    raw = tmp_path / "counts.csv"
    raw.write_text(MICROBETA, encoding="utf-8")
    out = tmp_path / "out"
    refused(["analyze", raw, "--layout", LAYOUTS / "kinase_panel.yaml", "-o", out], capsys, [raw], out, str(raw),
            "KIN-TRKA-01 (counts.csv)", "not plates of this layout", "--plate-map", "--force")


def test_force_turns_the_unit_refusal_into_a_note():
    import pandas as pd

    from labkit.analysis.pipeline import check_readout_fits
    from labkit.errors import ReadoutError

    joined = pd.DataFrame({"unit": ["RLU", "RLU"]})
    with pytest.raises(ReadoutError):
        check_readout_fits(joined, "kinase_radiometric", ["x.csv"], force=False)
    assert "RLU" in check_readout_fits(joined, "kinase_radiometric", ["x.csv"], force=True)[0]
    assert check_readout_fits(pd.DataFrame({"unit": ["CCPM"]}), "kinase_radiometric", ["x"], force=False) == []


# --- hosts and hangs ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1/robot", "", "[::1", "127.0.0.1:31950:31950", "ftp://robot",
                                  "robot local"])
def test_upload_refuses_an_address_that_is_not_host_port(host, tmp_path, capsys):
    protocol = tmp_path / "p.py"
    shutil.copy(ROOT / "protocols" / "dilution_tutorial_ot2.py", protocol)
    t0 = time.monotonic()
    refused(["upload", protocol, "--host", host], capsys, [protocol], tmp_path, "--host", "HOST:PORT")
    assert time.monotonic() - t0 < 5  # refused before any connection attempt


def test_upload_refuses_a_port_out_of_range(tmp_path, capsys):
    protocol = tmp_path / "p.py"
    shutil.copy(ROOT / "protocols" / "dilution_tutorial_ot2.py", protocol)
    refused(["upload", protocol, "--host", "127.0.0.1", "--port", "70000"], capsys, [protocol], tmp_path,
            "--port", "70000", "1-65535")


def test_simulate_stops_a_protocol_that_sleeps_forever(tmp_path, capsys):
    protocol = tmp_path / "sleepy.py"
    protocol.write_text('import time\nrequirements = {"robotType": "OT-2", "apiLevel": "2.20"}\n'
                        "def run(ctx):\n    time.sleep(10 ** 6)\n")
    t0 = time.monotonic()
    err = refused(["simulate", protocol, "--timeout", "3"], capsys, [protocol], tmp_path, str(protocol),
                  "did not finish within 3 s", "--timeout", code=1)
    assert time.monotonic() - t0 < 60, err


def test_errors_are_labkit_errors():
    assert issubclass(LayoutError, LabkitError)


def test_staged_outputs_move_in_all_together_or_not_at_all(tmp_path):
    from labkit.safety import staged_dir

    out = tmp_path / "out"
    out.mkdir()
    (out / "curves").write_text("a file where a folder must go")
    before = listing(out)
    with pytest.raises(LabkitError, match="nothing was written"):
        with staged_dir(out) as stage:
            (stage / "results.csv").write_text("new\n")
            (stage / "curves").mkdir()
            (stage / "curves" / "a.png").write_bytes(b"png")
    assert listing(out) == before  # results.csv was not moved in alone; no staging folder left
    with staged_dir(out / "fresh") as stage:
        (stage / "sub").mkdir()
        (stage / "sub" / "a.txt").write_text("a")
        (stage / "b.txt").write_text("b")
    assert listing(out / "fresh")[0] == "b.txt:" + hashlib.sha256(b"b").hexdigest()[:12]
    assert sorted(p.name for p in (out / "fresh").iterdir()) == ["b.txt", "sub"]


@pytest.mark.parametrize("command", ["import", "fit"])
def test_an_output_path_through_a_file_or_onto_a_folder_is_refused(command, tmp_path, capsys):
    raw = tmp_path / "in.csv"
    if command == "import":
        raw.write_text(MICROBETA, encoding="utf-8")
        base = ["import", raw]
    else:
        raw.write_text("conc,resp\n0,100\n1,90\n10,50\n100,10\n1000,2\n")
        base = ["fit", raw, "--conc", "conc", "--response", "resp"]
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    refused([*base, "-o", blocker / "out.csv"], capsys, [raw, blocker], tmp_path, "is a file, not a folder")
    (tmp_path / "folder").mkdir()
    refused([*base, "-o", tmp_path / "folder"], capsys, [raw, blocker], tmp_path, "is a directory")


def test_a_plan_error_names_the_layout_file(tmp_path, capsys):
    plates = "".join(f"  - {{id: K{i}, format: 96, targets: [TRKA]}}\n" for i in range(8))
    layout = tmp_path / "big.yaml"
    layout.write_text(KINASE[:KINASE.index("plates:\n")] + "plates:\n" + plates, encoding="utf-8")
    out = tmp_path / "out"
    refused(["protocol", layout, "-o", out / "p.py"], capsys, [layout], out, f"labkit: error: {layout}",
            "over-assigned")
    refused(["protocol", layout, "--print-plan"], capsys, [layout], out, f"labkit: error: {layout}")


@settings(max_examples=200, deadline=None)
@given(host=st.text(max_size=40), port=st.one_of(st.none(), st.integers(-10, 100_000)))
def test_any_address_text_is_parsed_or_refused_never_crashes(host, port):
    from labkit.upload import parse_address

    try:
        name, p = parse_address(host, port)
    except LabkitError as exc:
        assert exc.exit_code == 2 and exc.field in ("--host", "--port")
        return
    assert 1 <= p <= 65535 and name and not any(c in name for c in "/?#@ ")
