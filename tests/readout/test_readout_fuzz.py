"""Mangled fixtures: read() either returns a valid readout table or raises ReadoutError, nothing else.

LABKIT_FUZZ_EXAMPLES=500 runs a longer search per fixture (default 8 keeps the test suite fast).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.errors import ReadoutError
from labkit.readout import read
from labkit.tables import FLAGS, READOUT_COLUMNS

DATA = Path(__file__).parents[1] / "data" / "readout"
FIXTURES = sorted(p.name for p in DATA.iterdir() if p.suffix not in (".py", ".md"))
CONTENT = {name: (DATA / name).read_bytes() for name in FIXTURES}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@st.composite
def mangled(draw, name):
    data = bytearray(CONTENT[name])
    n = len(data)
    kind = draw(st.sampled_from(["truncate", "delete", "insert", "flip", "line", "dup", "sep"]))
    if n == 0:
        kind = "insert"
    if kind == "truncate":
        data = data[:draw(st.integers(0, n))]
    elif kind == "delete":
        a = draw(st.integers(0, n))
        data = data[:a] + data[draw(st.integers(a, min(n, a + 200))):]
    elif kind == "insert":
        at = draw(st.integers(0, n))
        data = data[:at] + draw(st.binary(min_size=1, max_size=40)) + data[at:]
    elif kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, n - 1))] = draw(st.integers(0, 255))
    else:
        lines = bytes(data).split(b"\n")
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "line":
            lines[i] = draw(st.sampled_from([b"", b"OVRFLW", b"A,1,2,3", b",1,2,3,4,5,6,7,8,9,10,11,12",
                                             b"Plate: X", b"Well,Value", b"\x00\x01", b"=\"\"\"", b";;;;",
                                             draw(st.text(max_size=60)).encode("utf-8", "replace")]))
        elif kind == "dup":
            lines.insert(i, lines[i])
        else:
            lines[i] = lines[i].replace(b",", b";").replace(b"\t", b",")
        data = bytearray(b"\n".join(lines))
    return bytes(data)


@pytest.mark.filterwarnings("ignore::labkit.readout.ReadoutWarning")
@pytest.mark.parametrize("name", FIXTURES)
@settings(max_examples=int(os.environ.get("LABKIT_FUZZ_EXAMPLES", "8")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_mangled_fixture_reads_or_raises_readout_error(workdir, name, data):
    mangled_bytes = data.draw(mangled(name))
    path = workdir / name
    path.write_bytes(mangled_bytes)
    try:
        df = read(path)
    except ReadoutError as err:
        assert err.file is not None and name in str(err)
        return
    assert list(df.columns) == list(READOUT_COLUMNS)
    assert len(df) > 0
    assert set(df["flag"]) <= set(FLAGS)
    assert df.loc[df["flag"] != "ok", "value"].isna().all()
