"""Helpers of the registry's checks, against references computed another way."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy.special import expit

from beyond_collapse.proofs_check.checks_finite import accuracy_41, fit_groups, residual_31
from beyond_collapse.numerics.kkt import solve_limit_system
from beyond_collapse.proofs_check.checks_numeric import _good_minus_bad_positive
from beyond_collapse.proofs_check.checks_simulation import _mixture_rates


@pytest.mark.parametrize("N,pg,pb", [(1, 0.5, 0.3), (7, 0.45, 0.35), (12, 0.2, 0.6)])
def test_good_minus_bad_probability_matches_trinomial_enumeration(N, pg, pb):
    # reference: sum of multinomial probabilities over all (good, bad) counts with good > bad
    ref = 0.0
    for g in range(N + 1):
        for b in range(N + 1 - g):
            if g > b:
                ref += math.comb(N, g) * math.comb(N - g, b) * pg**g * pb**b * (1 - pg - pb) ** (N - g - b)
    assert _good_minus_bad_positive(N, pg, pb) == pytest.approx(ref, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("n,a,b", [((1.0, 0.2, 0.3, 0.9), 0.5, -0.5), ((3.0, 5.0, 0.1, 2.0), 0.3, 0.0),
                                   ((40.0, 1.0, 1.0, 40.0), 0.9, 0.2), ((0.02, 0.05, 0.01, 0.03), 0.2, -0.1)])
def test_limit_solution_solves_eq_43_typed_independently(n, a, b):
    A, B, C, D = solve_limit_system(n, a, b)
    n11, n10, n01, n00 = n
    # eq. (43) with the corrected second line, typed here from the paper (gamma absorbed in n)
    rB = B - expit(a * n11 + b * n01 - a * (n11 + n10) * B - b * (n01 + n00) * D)
    rD = D - expit(b * n11 + a * n01 - b * (n11 + n10) * B - a * (n01 + n00) * D)
    assert abs(rB) < 1e-12 and abs(rD) < 1e-12
    assert A == pytest.approx(1 - B, abs=1e-15) and C == pytest.approx(1 - D, abs=1e-15)


def test_fit_groups_recovers_eq_31_and_eq_41_on_a_hand_sized_case():
    counts = (3, 1, 2, 4)
    r = fit_groups(counts, 0.4, -0.1, 0.2, n_pruned=2)
    assert r["gamma"] == pytest.approx(12 * 0.2)
    assert r["spread"] < 1e-8 and r["rep_err"] < 1e-10
    assert residual_31(r["abcd"], counts, 0.4, -0.1, r["gamma"]) < 1e-10
    # the accuracy formula on the script letters equals a direct count of correctly signed groups
    script = r["gamma"] * r["abcd"]
    assert accuracy_41(script, counts) == pytest.approx(r["acc_actual"], abs=1e-15)


def test_fit_groups_with_an_empty_group():
    r = fit_groups((2, 0, 1, 3), 0.5, 0.0, 0.5)
    assert np.isnan(r["abcd"][1])
    assert residual_31(r["abcd"], (2, 0, 1, 3), 0.5, 0.0, r["gamma"]) < 1e-10


def _bvn_mpmath(h, k, rho):
    """P(X <= h, Y <= k), correlation rho: integral of phi(y) Phi((h - rho y)/sqrt(1-rho^2)) over y <= k,
    mpmath quadrature at 30 digits."""
    with mpmath.workdps(30):
        s = mpmath.sqrt(1 - rho**2)
        f = lambda y: mpmath.npdf(y) * mpmath.ncdf((h - rho * y) / s)  # noqa: E731
        return float(mpmath.quad(f, [-mpmath.inf, k]))


@pytest.mark.parametrize("angles,mu,d", [((1.0, 0.5, 0.9), 0.1, 100), ((0.3, 1.2, 1.0), 0.5, 4), ((2.0, 0.7, 1.6), 0.2, 50)])
def test_mixture_rates_match_mpmath_quadrature(angles, mu, d):
    tg, tp, th = angles
    kappa = mu * math.sqrt(d / (1 - mu**2))  # corrected threshold scale, App. D.6
    c1, c2, rho = -kappa * math.cos(tp), -kappa * math.cos(tg), math.cos(th)
    P12 = _bvn_mpmath(c1, c2, rho)
    P1, P2 = float(mpmath.ncdf(c1)), float(mpmath.ncdf(c2))
    phi_ref = (1 - P1 - P2 + P12) / (1 - P2)
    psi_ref = P12 / P2
    phi, psi = _mixture_rates(tg, tp, th, mu, d)
    # scipy's bivariate CDF (Genz) is accurate to ~1e-8 absolute in the bulk
    assert phi == pytest.approx(phi_ref, abs=1e-7) and psi == pytest.approx(psi_ref, abs=1e-7)


@pytest.mark.parametrize("args,match", [(((1, 1, 1), 0.5, 0.0), "four counts"), (((1, 1, 1, 1), 1.2, 0.0), "a must"),
                                        (((1, 1, 1, 1), 0.5, 0.7), "b must"), (((-1, 1, 1, 1), 0.5, 0.0), "n must")])
def test_limit_solver_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        solve_limit_system(*args)


def test_fit_groups_rejects_bad_counts():
    with pytest.raises(ValueError, match="counts must be"):
        fit_groups((1, 2, 3), 0.5, 0.0, 0.1)
