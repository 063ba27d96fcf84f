import numpy as np
import pandas as pd
import pytest

from labkit.assays import get
from labkit.virtual import simulate_readout, true_response

KINASE_SIGNAL = get("kinase_radiometric").signal
VIABILITY_SIGNAL = get("cell_viability_ctg").signal


def test_true_response_is_half_window_at_ic50():
    mid = true_response(np.array([1.7e-9]), 1.7e-9, KINASE_SIGNAL)[0]
    assert mid == pytest.approx((KINASE_SIGNAL.top + KINASE_SIGNAL.bottom) / 2)
    assert true_response(np.array([0.0]), 1e-9, KINASE_SIGNAL)[0] == pytest.approx(KINASE_SIGNAL.top)
    # residual viability floor at saturating dose
    low = true_response(np.array([1e-3]), 1e-9, VIABILITY_SIGNAL)[0]
    assert low == pytest.approx(VIABILITY_SIGNAL.bottom + 0.03 * (VIABILITY_SIGNAL.top - VIABILITY_SIGNAL.bottom),
                                rel=1e-3)


def frame():
    return pd.DataFrame({"plate": ["P"] * 4, "well": ["A1", "A2", "A3", "A4"], "group": ["TRKA", "TRKA", "TRKA", ""],
                         "conc_M": [0.0, 1.7e-9, np.nan, np.nan], "active": [True, True, False, False],
                         "filled": [True, True, True, False]})


def test_kinase_readout_is_poisson_counts_and_reproducible():
    a = simulate_readout(frame(), "kinase_radiometric", seed=1, noise_cv=0.0)
    b = simulate_readout(frame(), "kinase_radiometric", seed=1, noise_cv=0.0)
    c = simulate_readout(frame(), "kinase_radiometric", seed=2, noise_cv=0.0)
    assert a.equals(b) and not a.equals(c)
    assert (a.value == a.value.round()).all()
    v = a.value.to_numpy()
    assert abs(v[0] - 24000) < 5 * np.sqrt(24000)   # vehicle
    assert abs(v[1] - 12175) < 5 * np.sqrt(12175)   # at IC50: half the window
    assert abs(v[2] - 350) < 5 * np.sqrt(350)       # no enzyme: background
    assert v[3] < 60                                # empty well


def test_unknown_group_is_refused():
    f = frame().assign(group=["XYZ", "XYZ", "", ""])
    with pytest.raises(KeyError, match="XYZ"):
        simulate_readout(f, "kinase_radiometric")


def test_process_noise_has_the_asked_cv():
    big = pd.concat([frame().iloc[:1]] * 4000, ignore_index=True)
    v = simulate_readout(big, "cell_viability_ctg", seed=3, noise_cv=0.08).value
    assert v.std() / v.mean() == pytest.approx(0.08, rel=0.1)


def test_kill_control_wells_read_as_background():
    """Cells that hold the kill control (staurosporine 10 uM) have no ATP: the well reads as the medium's background,
    like a blank, not as the floor of the assay compound's curve."""
    f = pd.DataFrame({"plate": ["P"] * 3, "well": ["A1", "A2", "A3"], "group": ["KM12"] * 3,
                      "conc_M": [0.0, 1e-5, 1e-5], "active": [True, True, True], "filled": [True] * 3,
                      "killed": [False, False, True]})
    v = simulate_readout(f, "cell_viability_ctg", seed=0, noise_cv=0.0).value.to_numpy()
    s = VIABILITY_SIGNAL
    assert v[0] == pytest.approx(s.top, abs=1)
    assert v[1] == pytest.approx(true_response(np.array([1e-5]), 17e-9, s)[0], abs=1)  # near the compound's floor
    assert v[1] > 10 * s.bottom
    assert v[2] == pytest.approx(s.bottom, abs=1)  # killed: background
