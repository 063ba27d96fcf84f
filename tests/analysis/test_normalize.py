"""Normalization to on-plate controls: formulas, per-group controls, plate-level fallback, errors, exclusions."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

sys.path.insert(0, str(Path(__file__).parents[1] / "data" / "analysis"))
from analysis_synth import KINASE, VIABILITY, joined_table  # noqa: E402

from labkit.analysis.normalize import assay_spec, normalize  # noqa: E402
from labkit.errors import LabkitError  # noqa: E402


def tiny(assay=KINASE, values=None, groups=("TRKA",), low="positive", shared_low=False, flags=None):
    """A hand-made joined table: per group 2 vehicle, 2 low control and 3 sample wells."""
    gcol = "target" if assay == KINASE else "cell_line"
    rows = []
    k = 0
    for g in groups:
        for role, conc, n in (("vehicle", np.nan, 2), (low, np.nan, 2), ("sample", 1e-8, 3)):
            for _ in range(n):
                if role == low and shared_low:
                    continue
                k += 1
                rows.append({"plate": "P1", "well": f"A{k}", "row": "A", "column": k, "role": role,
                             "compound": "cpd" if role == "sample" else "", "conc_M": conc,
                             "point": 0 if role == "sample" else -1, "replicate": 1 if role == "sample" else 0,
                             "target": g if gcol == "target" else "", "cell_line": g if gcol == "cell_line" else "",
                             "source": "x.csv", "value": 0.0, "unit": "CPM", "read": "", "flag": "ok"})
    if shared_low:
        for _ in range(2):
            k += 1
            rows.append({"plate": "P1", "well": f"A{k}", "row": "A", "column": k, "role": low, "compound": "",
                         "conc_M": np.nan, "point": -1, "replicate": 0, "target": "", "cell_line": "",
                         "source": "x.csv", "value": 0.0, "unit": "RLU", "read": "", "flag": "ok"})
    df = pd.DataFrame(rows)
    if values is not None:
        df["value"] = values
    if flags:
        for i, f in flags.items():
            df.loc[i, "flag"] = f
            df.loc[i, "value"] = np.nan
    return df


def test_kinase_formula_by_hand():
    # vehicle 10000/12000 (mean 11000), no-enzyme 900/1100 (mean 1000); samples 11000, 6000, 1000
    df = tiny(values=[10000, 12000, 900, 1100, 11000, 6000, 1000])
    out = normalize(df, KINASE).data
    s = out[out["role"] == "sample"]
    assert s["pct_inhibition"].tolist() == pytest.approx([0.0, 50.0, 100.0])
    assert s["pct_activity"].tolist() == pytest.approx([100.0, 50.0, 0.0])
    assert s["response"].tolist() == pytest.approx([100.0, 50.0, 0.0])
    v = out[out["role"] == "vehicle"]["response"]
    assert v.mean() == pytest.approx(100.0) and v.tolist() == pytest.approx([90.0, 110.0])


def test_viability_formula_by_hand():
    # vehicle 200000/220000 (mean 210000), blank 900/1100 (mean 1000); sample 105500 -> 50 %
    df = tiny(VIABILITY, values=[200000, 220000, 900, 1100, 105500, 1000, 210000], low="blank", groups=("KM12",))
    out = normalize(df, VIABILITY).data
    assert out.loc[out["role"] == "sample", "pct_viability"].tolist() == pytest.approx([50.0, 0.0, 100.0])
    assert "pct_inhibition" not in out


def test_each_target_uses_its_own_controls():
    # TRKA window 20000 -> 400, ROS1 window 5000 -> 200: a shared normalisation would be wrong for both
    df = tiny(values=[20000, 20000, 400, 400, 10200, 10200, 10200, 5000, 5000, 200, 200, 2600, 2600, 2600],
              groups=("TRKA", "ROS1"))
    norm = normalize(df, KINASE)
    s = norm.data[norm.data["role"] == "sample"]
    assert s["pct_inhibition"].tolist() == pytest.approx([50.0] * 6)
    assert set(norm.controls["scope"]) == {"group"}
    assert not norm.notes


def test_shared_plate_blank_is_used_and_said():
    df = tiny(VIABILITY, groups=("KM12", "IMS-M2"), low="blank", shared_low=True,
              values=[100000, 100000, 50500, 50500, 50500, 200000, 200000, 100500, 100500, 100500, 1000, 1000])
    norm = normalize(df, VIABILITY)
    s = norm.data[norm.data["role"] == "sample"]
    assert s["pct_viability"].tolist() == pytest.approx([50.0] * 6)
    blank = norm.controls[norm.controls["role"] == "blank"]
    assert set(blank["scope"]) == {"plate"} and set(blank["cell_line"]) == {"KM12", "IMS-M2"}
    assert len(norm.notes) == 2 and all("shared blank" in n for n in norm.notes)
    assert any("IMS-M2" in n for n in norm.notes)


def test_missing_control_names_plate_and_group():
    df = tiny(groups=("TRKA", "ALK"), values=[9000, 9000, 300, 300, 5000, 5000, 5000] * 2)
    df = df[~((df["target"] == "ALK") & (df["role"] == "positive"))]
    with pytest.raises(LabkitError) as exc:
        normalize(df, KINASE)
    text = str(exc.value)
    assert "P1" in text and "ALK" in text and "no_enzyme" in text and "TRKA" not in text


def test_all_controls_flagged_is_an_error_not_a_zero():
    df = tiny(values=[10000, 12000, 900, 1100, 11000, 6000, 1000], flags={0: "overflow", 1: "overflow"})
    with pytest.raises(LabkitError, match="all 2 vehicle control wells are flagged"):
        normalize(df, KINASE)


def test_flagged_wells_are_excluded_and_counted_never_zero():
    df = tiny(values=[10000, 12000, 900, 1100, 11000, 6000, 1000], flags={5: "overflow", 2: "missing"})
    df.loc[3, "value"] = 1000.0  # the remaining no-enzyme well
    norm = normalize(df, KINASE)
    out = norm.data
    assert len(out) == len(df)  # nothing dropped
    assert out.loc[5, "excluded"] == "overflow" and np.isnan(out.loc[5, "response"])
    assert out.loc[2, "excluded"] == "missing"
    ctl = norm.controls.set_index("role")
    # the table's old role name 'positive' is read as no_enzyme (a kinase layout's old name for it)
    assert ctl.loc["no_enzyme", "n"] == 1 and ctl.loc["no_enzyme", "n_excluded"] == 1
    assert ctl.loc["no_enzyme", "mean"] == 1000.0
    assert any("overflow" in n and "A6" in n for n in norm.notes)


def test_ok_flag_with_nan_value_counts_as_missing():
    df = tiny(values=[10000, 12000, 900, 1100, np.nan, 6000, 1000])
    out = normalize(df, KINASE).data
    assert out.loc[4, "excluded"] == "missing" and np.isnan(out.loc[4, "response"])


def test_assay_spec_and_errors():
    assert assay_spec("kinase_radiometric").group_col == "target"
    assert assay_spec("cell_viability_ctg").low_role == "blank"
    with pytest.raises(LabkitError, match="unknown assay kind"):
        assay_spec("dilution_plate")
    with pytest.raises(LabkitError, match="lacks column"):
        normalize(tiny().drop(columns=["flag"]), KINASE)


def test_realistic_384_plate_controls_normalise_to_100_and_0():
    df = joined_table(plates={"P1": ["TRKA", "TRKB", "ROS1"]}, seed=4)
    norm = normalize(df, KINASE)
    d = norm.data
    for g in ("TRKA", "TRKB", "ROS1"):
        assert d[(d["role"] == "vehicle") & (d["target"] == g)]["response"].mean() == pytest.approx(100.0)
        assert d[(d["role"] == "no_enzyme") & (d["target"] == g)]["response"].mean() == pytest.approx(0.0, abs=1e-9)
    assert d.loc[d["role"] == "unassigned", "response"].isna().all()  # no controls of their own: not normalised


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(0.01, 1000.0), offset=st.floats(-1e4, 1e4), seed=st.integers(0, 1000))
def test_response_is_invariant_to_the_instrument_gain_and_offset(scale, offset, seed):
    df = joined_table(fmt=96, plates={"P1": ["TRKA"]}, n_vehicle=4, n_low=4, seed=seed)
    base = normalize(df, KINASE).data["response"].to_numpy()
    moved = df.assign(value=df["value"] * scale + offset)
    again = normalize(moved, KINASE).data["response"].to_numpy()
    np.testing.assert_allclose(again, base, rtol=1e-7, atol=1e-7 * 100)
