import math

import pytest
from hypothesis import given, strategies as st

from labkit.units import format_microlitres, format_molar, parse_microlitres, parse_molar, si_conc


@pytest.mark.parametrize("text,value", [("10 mM", 0.01), ("100 nM", 1e-7), ("1.5uM", 1.5e-6), ("3 µM", 3e-6),
                                        ("250 pM", 2.5e-10), ("2e-3 M", 0.002), (0.5, 0.5)])
def test_parse_molar(text, value):
    assert parse_molar(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize("text,value", [("50 uL", 50.0), ("50 µL", 50.0), ("1.5 mL", 1500.0), ("250 nL", 0.25),
                                        (12, 12.0)])
def test_parse_microlitres(text, value):
    assert parse_microlitres(text) == pytest.approx(value)


@pytest.mark.parametrize("bad", ["ten mM", "10 mg", "", "mM", True, None])
def test_parse_rejects(bad):
    with pytest.raises(ValueError):
        parse_molar(bad)


def test_format_picks_readable_unit():
    assert format_molar(1e-8) == "10 nM"
    assert format_molar(0.01) == "10 mM"
    assert format_microlitres(25.0) == "25 uL"
    assert si_conc(1.7e-9) == "1.7 nM"
    assert si_conc(math.nan) == "—"


@given(st.floats(min_value=1e-15, max_value=10, allow_nan=False))
def test_molar_round_trip_exact(x):
    assert parse_molar(format_molar(x)) == x


@given(st.floats(min_value=1e-3, max_value=1e5, allow_nan=False))
def test_volume_round_trip_exact(x):
    assert parse_microlitres(format_microlitres(x)) == x
