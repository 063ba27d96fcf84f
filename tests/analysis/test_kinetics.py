"""Forward kinetics of a radiometric kinase well (labkit.analysis.kinetics): the virtual reader's science."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import lambertw

from labkit.analysis import kinetics
from labkit.analysis.morrison import fractional_activity
from labkit.errors import LabkitError

nM, uM = 1e-9, 1e-6
BASE = dict(atp=20 * uM, km_atp=20 * uM, substrate=300 * uM, km_substrate=50 * uM, kcat=5.0)


def test_product_matches_the_integrated_michaelis_menten_equation():
    """Substrate saturating, no inhibitor: Km ln(A0/A) + (A0 - A) = kcat E t, solved with Lambert W."""
    e, a0, km, kcat = 1 * nM, 10 * uM, 20 * uM, 5.0
    t = np.array([600.0, 3600.0, 3 * 3600.0])  # ~7 % to ~90 % of the ATP used
    p = kinetics.product_formed(enzyme=e, atp=a0, km_atp=km, substrate=1.0, km_substrate=1e-12, kcat=kcat,
                                time_s=t)
    a = km * np.real(lambertw(a0 / km * np.exp((a0 - kcat * e * t) / km)))
    np.testing.assert_allclose(p, a0 - a, rtol=1e-4)
    assert (np.diff(p / t) < 0).all()  # depletion bends the progress curve


def test_initial_rates_follow_morrison_with_ki_app_from_atp_competition():
    i = np.array([0.0, 0.01, 0.1, 1.0, 10.0]) * nM
    e, ki = 0.05 * nM, 0.05 * nM
    p = kinetics.product_formed(enzyme=e, inhibitor=i, ki=ki, time_s=30.0, **BASE)
    ki_app = ki * (1 + BASE["atp"] / BASE["km_atp"])
    np.testing.assert_allclose(p / p[0], fractional_activity(i, e, ki_app), rtol=1e-4)  # 30 s: ~0.1 % ATP used
    # no inhibitor (ki = inf or i = 0) gives the same product
    p_inf = kinetics.product_formed(enzyme=e, inhibitor=1 * nM, ki=np.inf, time_s=30.0, **BASE)
    assert p_inf == pytest.approx(p[0])


def test_atp_depletion_weakens_an_atp_competitive_inhibitor_only_slightly_in_the_linear_range():
    i = np.array([0.0, 0.2]) * nM
    short = kinetics.product_formed(enzyme=0.05 * nM, inhibitor=i, ki=0.05 * nM, time_s=60.0, **BASE)
    long = kinetics.product_formed(enzyme=2 * nM, inhibitor=i, ki=0.05 * nM, time_s=3 * 3600.0, **BASE)
    # far beyond the linear range the inhibited well catches up with the vehicle (ATP runs out in both)
    assert long[1] / long[0] > short[1] / short[0] + 0.1


def test_slow_binding_needs_preincubation_and_converges_to_equilibrium():
    i = np.array([0.0, 0.1, 1.0]) * nM
    common = dict(enzyme=0.05 * nM, inhibitor=i, ki=0.05 * nM, time_s=3600.0, **BASE)
    eq = kinetics.product_formed(**common)
    frac = {pre: (lambda p: p / p[0])(kinetics.product_formed(kon=1e6, preincubation_s=pre, **common))
            for pre in (0.0, 1800.0, 6 * 3600.0)}
    # longer pre-incubation: more inhibition at every concentration
    assert (frac[1800.0][1:] < frac[0.0][1:]).all() and (frac[6 * 3600.0][1:] < frac[1800.0][1:]).all()
    # fast binding (kon 1e9) behaves as binding at equilibrium
    fast = kinetics.product_formed(kon=1e9, preincubation_s=600.0, **common)
    np.testing.assert_allclose(fast / fast[0], eq / eq[0], rtol=2e-3)


def test_cpm_helpers_and_units():
    # 0.2 mg/mL poly(Glu4-Tyr): 0.2 g/L / 679.66 g/mol per tyrosine ~ 294 µM tyrosine
    assert kinetics.poly_glu_tyr_molar(0.2) == pytest.approx(0.2 / (4 * 129.12 + 163.18))
    sa = kinetics.specific_activity(1.0, 500.0, efficiency=0.5)
    assert sa == pytest.approx(2.22e6 * 0.5 / 500.0)
    assert kinetics.specific_activity(1.0, 500.0, efficiency=0.5, days_since_reference=25.34) == pytest.approx(sa / 2)
    cpm = kinetics.expected_cpm(1 * uM, volume_ul=25.0, cpm_per_pmol=100.0, spotted_fraction=0.8, capture=0.5,
                                background_cpm=150.0)
    assert cpm == pytest.approx(25 * 100 * 0.8 * 0.5 + 150)  # 1 µM in 25 µL = 25 pmol
    assert kinetics.total_counts_cpm(20 * uM, volume_ul=25.0, cpm_per_pmol=100.0) == pytest.approx(50000.0)


def test_noise_helpers_have_the_stated_statistics():
    rng = np.random.default_rng(3)
    f = kinetics.dispense_factor(rng, 200_000, 0.05)
    assert (f > 0).all() and f.mean() == pytest.approx(1.0, abs=1e-3) and f.std() == pytest.approx(0.05, rel=0.02)
    assert (kinetics.dispense_factor(rng, 5, 0.0) == 1.0).all()
    c = kinetics.counting_noise(rng, np.full(200_000, 400.0), count_min=2.0)
    assert c.mean() == pytest.approx(400.0, rel=0.01) and c.var() == pytest.approx(200.0, rel=0.03)


def test_bad_inputs_name_the_field():
    with pytest.raises(LabkitError, match="km_atp"):
        kinetics.product_formed(enzyme=1 * nM, atp=10 * uM, km_atp=0.0, substrate=1e-4, km_substrate=1e-5, kcat=1,
                                time_s=60)
    with pytest.raises(LabkitError, match="enzyme"):
        kinetics.product_formed(enzyme=-1.0, atp=10 * uM, km_atp=1e-5, substrate=1e-4, km_substrate=1e-5, kcat=1,
                                time_s=60)
    with pytest.raises(LabkitError, match="kon"):
        kinetics.product_formed(enzyme=1 * nM, kon=-1.0, inhibitor=1 * nM, ki=1 * nM, time_s=60, **BASE)
    with pytest.raises(LabkitError, match="CV"):
        kinetics.dispense_factor(np.random.default_rng(0), 3, -0.1)
    with pytest.raises(LabkitError, match="poly"):
        kinetics.poly_glu_tyr_molar(-1)
