"""The sympy derivations of App. E / D.6 / Sec. 3.4 against independent computations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st
from scipy import stats
from scipy.special import expit

from beyond_collapse.theory import breakdown_bounds, breakdown_point
from beyond_collapse.theory.derivations import GROUPS, derivation, derivation_steps, sym
from beyond_collapse.theory.derivations_doc import render_derivations

ROOT = Path(__file__).resolve().parents[2]
unit = st.floats(0.01, 0.99)


def _f(key, *names, which="derived"):
    s = sym()
    return sp.lambdify([s[n] for n in names], getattr(derivation(key), which), "numpy")


@settings(max_examples=30)
@given(unit, unit, unit)
def test_derived_thresholds_equal_theory_closed_forms(phi, psi, t):
    lo, hi = breakdown_bounds(phi, psi, t)
    assert _f("D3.p_minus", "phi", "psi", "t")(phi, psi, t) == pytest.approx(lo, rel=1e-12)
    assert _f("D3.p_plus", "phi", "psi", "t")(phi, psi, t) == pytest.approx(hi, rel=1e-12)
    assert _f("D3.p_star", "phi", "psi")(phi, psi) == pytest.approx(breakdown_point(phi, psi), rel=1e-12)


def test_derived_fixed_point_holds_at_an_actual_ridge_logistic_fit():
    from beyond_collapse.proofs_check.checks_finite import fit_groups

    counts, a, b, lam = (4, 2, 3, 5), 0.6, -0.3, 0.05
    r = fit_groups(counts, a, b, lam)
    s = sym()
    names = [s[f"N{g}"] for g in GROUPS] + [s["a"], s["b"]] + [s[x] for x in "ABCD"]
    args = sp.lambdify(names, derivation("E1.fixed_point").derived, "numpy")(*counts, a, b, *r["abcd"])
    assert np.allclose(r["gamma"] * r["abcd"], expit(np.array(args)), rtol=0, atol=1e-10)


def test_printed_43_fails_and_corrected_holds_numerically():
    # derived - printed D line = -b (N11 + N10) B + 2 b N10 B = b (N10 - N11) B, over gamma
    s = sym()
    point = {s["a"]: 0.7, s["b"]: -0.4, s["gamma"]: 3.0, s["Bc"]: 0.6, s["Dc"]: 0.3,
             s["N11"]: 5, s["N10"]: 2, s["N01"]: 1, s["N00"]: 4}
    step = derivation("E3.collapsed")
    diff = float((step.derived[1] - step.printed[1]).subs(point))
    assert diff == pytest.approx(-0.4 * (2 - 5) * 0.6 / 3.0, rel=1e-12)
    assert derivation("E3.collapsed_corrected").equal


@pytest.mark.parametrize("tg,tp,th", [(0.3, 0.2, 0.4), (1.0, 0.5, 0.9), (2.0, 0.7, 1.6), (1.2, 1.9, 2.2)])
def test_isotropic_rates_match_scipy_trivariate_orthants(tg, tp, th):
    # reference: scipy's multivariate normal CDF (Genz) for P(U > 0, +-V > 0, +-W > 0)
    def orthant(signs):
        c = np.array([[1, np.cos(tg), np.cos(tp)], [np.cos(tg), 1, np.cos(th)], [np.cos(tp), np.cos(th), 1]])
        sgn = np.array(signs, float)
        return stats.multivariate_normal(np.zeros(3), c * np.outer(sgn, sgn), abseps=1e-7).cdf(np.zeros(3))

    p11, p10 = orthant((1, 1, 1)), orthant((1, -1, -1))
    phi = p11 / (0.5 - tg / (2 * np.pi))
    psi = p10 / (tg / (2 * np.pi))
    # Genz quasi-Monte Carlo with abseps 1e-7 on each orthant; divided by P(U>0, +-V>0) >= 0.05 here
    assert _f("S34.phi", "th_gen", "th_prune", "th")(tg, tp, th) == pytest.approx(phi, abs=5e-6)
    assert _f("S34.psi", "th_gen", "th_prune", "th")(tg, tp, th) == pytest.approx(psi, abs=5e-6)


def test_printed_psi_is_at_least_one():
    step = derivation("D6.psi")
    f = sp.lambdify(sorted(step.printed.free_symbols, key=str), step.printed, "numpy")
    c1, c2, rho = -0.4, 0.3, 0.5
    P12 = stats.multivariate_normal([0, 0], [[1, rho], [rho, 1]]).cdf([c1, c2])
    assert f(stats.norm.cdf(c1), stats.norm.cdf(c2), P12) > 1


def test_every_step_is_rendered_and_the_committed_doc_is_current():
    text = render_derivations()
    for s in derivation_steps():
        assert f"## {s.key}" in text
    assert (ROOT / "docs" / "derivations.md").read_text() == text


def test_unknown_key_raises():
    with pytest.raises(ValueError, match="E3.collapsed"):
        derivation("nope")
