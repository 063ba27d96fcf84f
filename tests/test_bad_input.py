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
import subprocess
import sys
import tempfile
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


def _alias_bomb(levels: int = 9) -> str:
    """A 'billion laughs' block: each level lists the one before nine times (9 ** 9 values when expanded)."""
    out = ["description:", "  - &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    out += [f"  - &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("command", ["validate", "protocol"])
def test_an_alias_bomb_is_refused_at_the_alias_that_crosses_the_cap(command, tmp_path, capsys):
    text = replaced(KINASE, KINASE[KINASE.index("description:"):KINASE.index("compounds:")], _alias_bomb())
    layout = tmp_path / "bomb.yaml"
    layout.write_text(text, encoding="utf-8")
    line = line_of(text, "&l5")  # l0..l4 expand to 74,732 values; the first *l4 of l5 crosses 100,000
    out = tmp_path / "out"
    args = (["layout", "validate", layout] if command == "validate"
            else ["protocol", layout, "--robot", "flex", "-o", out / "p.py"])
    refused(args, capsys, [layout], out, f"{layout}:{line}", "aliases expand this document to more than 100,000",
            "*l4")


@pytest.mark.parametrize("loop", ["description: &d [x, *d]\n", "description: &d {x: 1, y: *d}\n"])
def test_an_alias_inside_its_own_anchor_is_refused(loop, tmp_path, capsys):
    text = replaced(KINASE, KINASE[KINASE.index("description:"):KINASE.index("compounds:")], loop)
    layout = tmp_path / "loop.yaml"
    layout.write_text(text, encoding="utf-8")
    refused(["layout", "validate", layout], capsys, [layout], None, f"{layout}:{line_of(text, '*d')}",
            "alias *d refers to the node it is inside")


def test_anchors_that_share_a_value_still_work(tmp_path):
    from labkit.layout.io import parse_experiment

    shared = KINASE.replace("{name: TRKA, enzyme: 2 nM,", "{name: TRKA, enzyme: &enz 2 nM,", 1)
    shared = shared.replace("{name: TRKB, enzyme: 2 nM,", "{name: TRKB, enzyme: *enz,", 1)
    assert shared.count("*enz") == 1
    assert parse_experiment(shared, "s.yaml") == parse_experiment(KINASE, "k.yaml")


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


def _unprivileged() -> list[str] | None:
    """A command prefix that runs a program as an unprivileged user, or None when there is no way to."""
    if not AS_ROOT:
        return []  # already unprivileged: permissions apply
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    # the probe runs this interpreter and imports labkit: a Python whose files root alone may read (some pyenv
    # builds) cannot run as that user at all
    probe = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                            "import labkit.cli"], capture_output=True, cwd=tempfile.gettempdir())
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] if probe.returncode == 0 else None


RUN_AS = _unprivileged()


@pytest.fixture
def shared_tmp():
    """A temporary folder the unprivileged user can read (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="labkit-ro-"))
    folder.chmod(0o755)
    yield folder
    for p in [folder, *folder.rglob("*")]:
        if p.is_dir():
            p.chmod(0o755)
    shutil.rmtree(folder)


@pytest.mark.skipif(RUN_AS is None, reason="tests run as root and this Python cannot run as uid 65534 "
                                           "(no setpriv, or its files are root's only), so a folder cannot be "
                                           "made read-only for the test")
@pytest.mark.parametrize("command", ["protocol", "import", "analyze"])
def test_output_into_a_read_only_folder_is_refused(command, shared_tmp):
    """The real CLI, run as an unprivileged user (setpriv) into a folder it may not write: exit 2, no files."""
    layout = shared_tmp / "kinase.yaml"
    shutil.copy(LAYOUTS / "kinase_panel.yaml", layout)
    raw = shared_tmp / "counts.csv"
    raw.write_text(MICROBETA, encoding="utf-8")
    ro = shared_tmp / "ro"
    ro.mkdir()
    (ro / "results.csv").write_text("previous results\n")
    ro.chmod(0o555)  # owned by root: read-only for uid 65534
    args = {"protocol": ["protocol", layout, "-o", ro / "p.py"],
            "import": ["import", raw, "-o", ro / "t.csv"],
            "analyze": ["analyze", raw, "--layout", layout, "--plate-map", "KIN-TRKA-01=KIN-1", "--plate-map",
                        "KIN-TRKA-02=KIN-2", "-o", ro / "sub"]}[command]
    before, files = digest([layout, raw]), listing(ro)
    env = {**os.environ, "HOME": str(shared_tmp), "MPLCONFIGDIR": str(shared_tmp / "mpl")}
    proc = subprocess.run([*RUN_AS, sys.executable, "-c", "import sys; from labkit.cli import main; main(sys.argv[1:])",
                           *map(str, args)], capture_output=True, text=True, cwd=shared_tmp, env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and str(ro) in proc.stderr and "read-only" in proc.stderr, proc.stderr
    assert digest([layout, raw]) == before and listing(ro) == files


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


def test_demo_into_a_path_through_a_file_is_refused_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "out"
    blocker.write_text("a file where the demo's folder would go")
    refused(["demo", "-o", blocker / "demo"], capsys, [blocker], tmp_path, str(blocker), "is a file, not a folder")


def test_demo_files_are_written_atomically(tmp_path):
    """The demo's own writers (plate maps, virtual instrument files) replace a file in one rename or not at all."""
    import pandas as pd

    from labkit.layout.io import load_experiment
    from labkit.layout.render import plate_png
    from labkit.readout.writers import write_microbeta

    exp = load_experiment(LAYOUTS / "kinase_panel.yaml")
    (tmp_path / "map.png").mkdir()  # a folder where the file goes: the final rename fails
    with pytest.raises(LabkitError, match="cannot write the file"):
        plate_png(exp, "KIN-1", tmp_path / "map.png")
    values = pd.DataFrame({"plate": "P1", "well": ["A1", "H12"], "value": [10.0, 20.0]})
    (tmp_path / "counts.txt").mkdir()
    with pytest.raises(LabkitError, match="cannot write the file"):
        write_microbeta(values, tmp_path / "counts.txt", plate_format=96)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counts.txt", "map.png"]  # no temporary file left
    assert write_microbeta(values, tmp_path / "ok.txt", plate_format=96).read_text().startswith("PerkinElmer")


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


@pytest.mark.parametrize("fixture, wells, stop", [
    ("bad_short_trilux_list.txt", 48, "plate 1: 48 wells, the list stops at D12"),
    ("bad_short_topcount_columns.001", 156, "plate 1 (repeat 2): 60 wells, the position list stops at E12"),
    ("bad_short_topcount_list.csv", 90, "plate 1051017: 90 wells, the list stops at H6"),
])
def test_a_counter_list_that_stops_short_is_an_error_unless_partial(fixture, wells, stop, tmp_path, capsys):
    raw = tmp_path / fixture
    shutil.copy(READOUTS / fixture, raw)
    out = tmp_path / "out"
    last = len(raw.read_bytes().splitlines())  # the list ends cleanly on its last line
    refused(["import", raw, "-o", out / "t.csv"], capsys, [raw], out, f"{raw}:{last}", stop,
            "stops short of its format's last well", "--partial")
    rc, _, err = run(["import", raw, "--partial", "-o", out / "t.csv"], capsys)
    assert rc == 0, err
    import pandas as pd

    assert len(pd.read_csv(out / "t.csv")) == wells


def test_whole_counter_lists_and_counting_areas_are_not_short():
    from labkit.readout import read

    assert len(read(READOUTS / "trilux_list_positions.txt")) == 96
    assert len(read(READOUTS / "topcount_columns.001")) == 192
    df = read(READOUTS / "topcount_list.csv")  # plate 2: columns 1-6 counted in every row, ending at H6
    assert df.groupby("plate").size().to_dict() == {"1051017": 96, "1051018": 48}


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


CTG = READOUTS / "mars_lum_96.csv"  # read by allotropy without a fallback note
TRILUX = READOUTS / "trilux_list_positions.txt"


def _command(command: str, readouts: list[Path], layout: Path, out: Path, *extra: str) -> list:
    if command == "import":
        return ["import", *readouts, "--layout", layout, *extra, "-o", out / "joined.csv"]
    return ["analyze", *readouts, "--layout", layout, *extra, "-o", out]


@pytest.mark.parametrize("command", ["import", "analyze"])
def test_import_and_analyze_refuse_a_unit_the_assay_cannot_give(command, tmp_path, capsys):
    raw = tmp_path / "ctg.csv"
    shutil.copy(CTG, raw)
    out = tmp_path / "out"
    refused(_command(command, [raw], LAYOUTS / "kinase_panel.yaml", out, "--plate-map", "KM12_P1=KIN-1"),
            capsys, [raw], out, str(raw), "in RLU", "not what a kinase_radiometric read-out gives", "--force")


@pytest.mark.parametrize("command", ["import", "analyze"])
def test_import_and_analyze_refuse_barcodes_that_name_no_layout_plate(command, tmp_path, capsys):
    raw = tmp_path / "counts.csv"
    raw.write_text(MICROBETA, encoding="utf-8")
    out = tmp_path / "out"
    refused(_command(command, [raw], LAYOUTS / "kinase_panel.yaml", out), capsys, [raw], out, str(raw),
            "KIN-TRKA-01 (counts.csv)", "not plates of this layout", "--plate-map", "--force")


def test_import_with_force_or_a_plate_map_joins_and_says_how(tmp_path, capsys):
    import pandas as pd

    raw = tmp_path / "ctg.csv"
    shutil.copy(CTG, raw)
    rc, _, err = run(["import", raw, "--layout", LAYOUTS / "kinase_panel.yaml", "--plate-map", "KM12_P1=KIN-1",
                      "--force", "-o", tmp_path / "j.csv"], capsys)
    assert rc == 0, err
    assert "note: the readout is in RLU" in err and "as --plate-map says: KM12_P1 -> KIN-1" in err
    joined = pd.read_csv(tmp_path / "j.csv")
    assert set(joined["plate"]) == {"KIN-1"} and set(joined["readout_plate"]) == {"KM12_P1"}
    refused(["import", raw, "--force", "-o", tmp_path / "x.csv"], capsys, [raw], tmp_path,
            "--force only makes sense with --layout")


@pytest.mark.parametrize("command", ["import", "analyze"])
def test_numbered_plates_are_not_joined_by_guess(command, tmp_path, capsys):
    raw = tmp_path / "trilux.txt"  # one plate, numbered 1, no barcode; the kinase layout has KIN-1 and KIN-2
    shutil.copy(TRILUX, raw)
    out = tmp_path / "out"
    refused(_command(command, [raw], LAYOUTS / "kinase_panel.yaml", out), capsys, [raw], out, str(raw),
            "numbered, not named", "1 numbered plate(s) but the layout has 2 plate(s)", "--plate-map 1=KIN-1")


def test_numbered_plates_from_several_files_need_a_plate_map(tmp_path, capsys):
    import pandas as pd

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    shutil.copy(TRILUX, a)
    b.write_text(TRILUX.read_text(encoding="utf-8").replace("\t60\n", "\t61\n"), encoding="utf-8")
    out = tmp_path / "out"
    layout = LAYOUTS / "kinase_panel.yaml"
    refused(["analyze", a, b, "--layout", layout, "-o", out], capsys, [a, b], out, "a.txt", "b.txt",
            "from 2 files", "--plate-map a.txt#1=KIN-1")
    rc, stdout, err = run(["analyze", b, a, "--layout", layout, "--plate-map", "a.txt#1=KIN-1", "--plate-map",
                           "b.txt#1=KIN-2", "-o", out], capsys)
    assert rc == 0, err
    assert "as --plate-map says: b.txt#1 -> KIN-2, a.txt#1 -> KIN-1" in stdout
    data = pd.read_csv(out / "data.csv")
    assert data.groupby("plate")["readout_plate"].agg(set).to_dict() == {"KIN-1": {"a.txt#1"},
                                                                        "KIN-2": {"b.txt#1"}}


def test_numbered_plates_join_by_number_only_when_it_is_unambiguous():
    import pandas as pd

    from labkit.readout.join import join_checked

    wells = pd.DataFrame({"plate": ["P-A", "P-B"], "well": ["A1", "A1"], "row": ["A", "A"], "column": [1, 1],
                          "role": ["vehicle"] * 2, "compound": [""] * 2, "conc_M": [0.0] * 2, "point": [0] * 2,
                          "replicate": [1] * 2, "target": ["T"] * 2, "cell_line": [""] * 2})

    def readout(*plates: str) -> pd.DataFrame:
        return pd.DataFrame({"source": "r.csv", "plate": list(plates), "well": "A1", "row": "A", "column": 1,
                             "value": 1.0, "unit": "CPM", "read": "", "flag": "ok"})

    with pytest.warns(UserWarning, match="by number: plate n is the layout's n-th plate: 1 -> P-A, 2 -> P-B"):
        joined, notes = join_checked([("r.csv", readout("1", "2"))], wells, "kinase_radiometric")
    assert joined.set_index("readout_plate")["plate"].to_dict() == {"1": "P-A", "2": "P-B"}
    with pytest.raises(LabkitError, match="they are 2, 1 in the file, not 1 to 2 in order"):
        join_checked([("r.csv", readout("2", "1"))], wells, "kinase_radiometric")
    with pytest.raises(LabkitError, match="3 numbered plate.s. but the layout has 2"):
        join_checked([("r.csv", readout("1", "2", "3"))], wells, "kinase_radiometric")
    with pytest.warns(UserWarning, match="in file order .--force.: 2 -> P-A, 1 -> P-B"):
        joined, _ = join_checked([("r.csv", readout("2", "1"))], wells, "kinase_radiometric", force=True)


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
    plates = "".join(f"  - {{id: K{i}, format: 384, targets: [TRKA]}}\n" for i in range(8))
    layout = tmp_path / "big.yaml"
    layout.write_text(KINASE[:KINASE.index("plates:\n")] + "plates:\n" + plates, encoding="utf-8")
    out = tmp_path / "out"
    refused(["protocol", layout, "-o", out / "p.py"], capsys, [layout], out, f"labkit: error: {layout}",
            "96-well plates only")
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
