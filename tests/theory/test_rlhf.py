"""RLHF-type pruning closed forms (eqs. (4), (14)-(19), Remark D.2, Thm. D.3, Props. E.3-E.5).

References: scipy.optimize.brentq on the defining inequalities, Monte Carlo of the generative
process (tolerances from the standard error), and a numerical solution of the N -> infinity
fixed-point system (43) of App. E.3 for the Gram structures b = -a and b = 0.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.optimize import brentq, fsolve
from scipy.special import expit

from beyond_collapse import (
    breakdown_bounds,
    breakdown_point,
    kept_probabilities,
    limit_accuracy,
    per_class_breakdown_points,
    per_class_condition,
    pooled_breakdown_point,
    pooled_condition,
    rlhf_from_kept,
)

# Keep rates bounded away from 0 where a root must exist strictly inside (0, 1).
rate = st.floats(0.01, 1.0)
slack = st.floats(0.01, 0.99)


def _root(f):
    return brentq(f, 0.0, 1.0, xtol=1e-15, rtol=1e-15)


@given(rate, rate)
def test_breakdown_point_is_root_of_thm_d3_inequality(phi, psi):
    # Thm. D.3 / eq. (19) at t -> 0: p* solves p psi = (1 - p) phi.
    expected = _root(lambda p: p * psi - (1 - p) * phi)
    assert breakdown_point(phi, psi) == pytest.approx(expected, rel=1e-12)


def test_breakdown_point_named_strategies_and_edges():
    # Sec. 3.2: no pruning (1, 1) -> 1/2; oracle pruning (1, 0) -> 1; only wrong labels kept -> 0.
    assert breakdown_point(1, 1) == 0.5
    assert breakdown_point(1, 0) == 1.0
    assert breakdown_point(0, 0.3) == 0.0
    np.testing.assert_allclose(breakdown_point(np.array([1.0, 0.5]), np.array([[0.25], [1.0]])),
                               [[0.8, 2 / 3], [0.5, 1 / 3]], rtol=1e-15)
    with pytest.raises(ValueError, match="nothing survives"):
        breakdown_point(0, 0)
    with pytest.raises(ValueError, match=r"phi must lie in \[0, 1\]"):
        breakdown_point(1.5, 0.2)
    with pytest.raises(ValueError, match="psi must not be NaN"):
        breakdown_point(1, float("nan"))


@given(rate, rate, slack)
def test_breakdown_bounds_solve_prop_e5_condition(phi, psi, t):
    # Prop. E.5 / eq. (55): (p01 + p10) / (p00 + p11) < (1 - t)/(1 + t) below p-*(t); the mirror
    # inequality (1 - t) bad > (1 + t) good above p+*(t). Solved numerically on the kept probabilities.
    def ratio(p):
        kept = kept_probabilities(p, phi, phi, psi, psi)
        return (kept[0, 1] + kept[1, 0]), (kept[0, 0] + kept[1, 1])

    lo = _root(lambda p: (1 + t) * ratio(p)[0] - (1 - t) * ratio(p)[1])
    hi = _root(lambda p: (1 - t) * ratio(p)[0] - (1 + t) * ratio(p)[1])
    p_minus, p_plus = breakdown_bounds(phi, psi, t)
    assert p_minus == pytest.approx(lo, rel=1e-10, abs=1e-14)
    assert p_plus == pytest.approx(hi, rel=1e-10, abs=1e-14)
    assert p_minus <= breakdown_point(phi, psi) <= p_plus


def test_breakdown_bounds_no_pruning_matches_app_d6():
    # App. D.6: with no pruning, p-*(t) = 1/2 - t/2 (and by symmetry p+*(t) = 1/2 + t/2).
    t = np.array([0.1, 0.3, 0.7])
    p_minus, p_plus = breakdown_bounds(1.0, 1.0, t)
    np.testing.assert_allclose(p_minus, 0.5 - t / 2, rtol=1e-15)
    np.testing.assert_allclose(p_plus, 0.5 + t / 2, rtol=1e-15)
    with pytest.raises(ValueError, match=r"t must lie in \(0, 1\)"):
        breakdown_bounds(1.0, 0.5, 0.0)


def _simulate(n, reps, p, phi0, phi1, psi01, psi10, rng):
    """Draw the generative process of eqs. (14)-(15): y, then y' (flip w.p. p), then q."""
    y = rng.random((reps, n)) < 0.5
    flip = rng.random((reps, n)) < p
    y_syn = y ^ flip
    keep_prob = np.where(~flip, np.where(y, phi1, phi0), np.where(y, psi10, psi01))
    q = rng.random((reps, n)) < keep_prob
    counts = np.empty((reps, 2, 2))
    for k in (0, 1):
        for l in (0, 1):
            counts[:, k, l] = (q & (y == k) & (y_syn == l)).sum(axis=1)
    return counts


def test_kept_probabilities_match_monte_carlo():
    rng = np.random.default_rng(1)
    params = (0.3, 0.9, 0.6, 0.2, 0.5)  # p, phi0, phi1, psi01, psi10: every class different
    n = 400_000
    counts = _simulate(n, 1, *params, rng)[0]
    expected = kept_probabilities(*params)
    # Each count is Binomial(n, p_kl): standard error sqrt(p_kl (1 - p_kl) / n).
    se = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(counts / n - expected) < 5 * se)
    # Eq. (4): the symmetric strategy is the special case.
    sym = kept_probabilities(0.3, 0.8, 0.8, 0.1, 0.1)
    np.testing.assert_allclose(sym, [[0.7 * 0.8 / 2, 0.3 * 0.1 / 2], [0.3 * 0.1 / 2, 0.7 * 0.8 / 2]], rtol=1e-15)
    assert kept_probabilities(np.zeros((3, 1)), 1, 1, 1, np.ones(4)).shape == (3, 4, 2, 2)


@pytest.mark.parametrize("p_over_p_star, expected", [(0.8, 1.0), (1.2, 0.0)])
def test_limit_accuracy_against_simulated_survivor_counts(p_over_p_star, expected):
    # Props. E.3 / E.5: the model is perfectly accurate iff more good than bad examples survive.
    # At N = 20000 away from p*, every replicate lands on the predicted side.
    phi, psi = 0.9, 0.3
    p = p_over_p_star * breakdown_point(phi, psi)
    counts = _simulate(20_000, 50, p, phi, phi, psi, psi, np.random.default_rng(2))
    good = counts[:, 0, 0] + counts[:, 1, 1]
    bad = counts[:, 0, 1] + counts[:, 1, 0]
    assert np.mean(good > bad) == expected == limit_accuracy(p, phi, psi)


def test_limit_accuracy_at_breakdown_point_is_one_half():
    # At p = p* the good-minus-bad count is a symmetric random walk: P(good > bad) + P(tie)/2 = 1/2.
    phi, psi = 0.5, 0.5  # p* = 1/2 exactly representable
    assert breakdown_point(phi, psi) == 0.5
    reps = 4000
    counts = _simulate(2000, reps, 0.5, phi, phi, psi, psi, np.random.default_rng(3))
    good = counts[:, 0, 0] + counts[:, 1, 1]
    bad = counts[:, 0, 1] + counts[:, 1, 0]
    freq = np.mean((good > bad) + 0.5 * (good == bad))
    assert abs(freq - limit_accuracy(0.5, phi, psi)) < 4 * np.sqrt(0.25 / reps)
    assert limit_accuracy(0.5, phi, psi) == 0.5
    np.testing.assert_array_equal(limit_accuracy([0.0, 0.49, 0.51, 1.0], 1.0, 1.0), [1.0, 1.0, 0.0, 0.0])
    assert limit_accuracy(1.0, 1.0, 0.0) == 0.5  # nothing survives: w = 0 predicts one class


@given(rate, rate, st.floats(0.01, 0.99))
def test_rlhf_from_kept_inverts_eq_18(phi, psi, p):
    kept = kept_probabilities(p, phi, phi, psi, psi)
    p_back, phi_back, psi_back = rlhf_from_kept(kept[0, 0], kept[0, 1], p=p)
    assert (p_back, phi_back, psi_back) == pytest.approx((p, phi, psi), rel=1e-12)
    # Without p: a representative with phi = psi giving the same kept probabilities (Remark D.2
    # is a bijection only at fixed p) and hence the same limit accuracy.
    p_rep, phi_rep, psi_rep = rlhf_from_kept(kept[0, 0], kept[0, 1])
    assert phi_rep == psi_rep
    np.testing.assert_allclose(kept_probabilities(p_rep, phi_rep, phi_rep, psi_rep, psi_rep), kept, rtol=1e-12)
    assume(abs(p * psi - (1 - p) * phi) > 1e-9)
    assert limit_accuracy(p_rep, phi_rep, psi_rep) == limit_accuracy(p, phi, psi)


def test_rlhf_from_kept_rejects_impossible_inputs():
    with pytest.raises(ValueError, match="kept fraction"):
        rlhf_from_kept(0.4, 0.2)
    with pytest.raises(ValueError, match="phi = .* > 1"):
        rlhf_from_kept(0.45, 0.01, p=0.2)
    with pytest.raises(ValueError, match="not identifiable"):
        rlhf_from_kept(0.0, 0.0)


def _solve_fixed_point(kept, a, b, lam=1.0):
    """Solve the N -> infinity system (43) for (B, D), with N_kl / gamma -> p_kl / lambda."""
    n00, n01, n10, n11 = kept[0, 0], kept[0, 1], kept[1, 0], kept[1, 1]

    def residual(v):
        B, D = v
        return [
            B - expit((a * n11 + b * n01 - a * (n11 + n10) * B - b * (n01 + n00) * D) / lam),
            D - expit((b * n11 + a * n01 - b * (n11 + n10) * B - a * (n01 + n00) * D) / lam),
        ]

    for start in ([0.5, 0.5], [0.9, 0.1], [0.1, 0.9]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a poor start is retried from the next one
            sol = fsolve(residual, start, xtol=1e-13)
        if np.max(np.abs(residual(sol))) < 1e-11:
            return sol
    raise AssertionError(f"no fixed point found for kept = {kept.tolist()}")


params = st.tuples(st.floats(0.0, 0.99), rate, rate, rate, rate)


@given(params)
def test_pooled_condition_matches_fixed_point_b_equals_minus_a(args):
    # Prop. E.3 (b = -a): B > 1/2 > D = A (perfect accuracy) iff p01 + p10 < p00 + p11.
    kept = kept_probabilities(*args)
    good, bad = kept[0, 0] + kept[1, 1], kept[0, 1] + kept[1, 0]
    assume(abs(good - bad) > 1e-6)
    B, D = _solve_fixed_point(kept, a=5.0, b=-5.0)
    assert pooled_condition(kept) == (B > 0.5 > D)
    p, phi0, phi1, psi01, psi10 = args
    assert pooled_condition(kept) == (p < pooled_breakdown_point(phi0, phi1, psi01, psi10))


@given(params)
def test_per_class_condition_matches_fixed_point_b_zero(args):
    # Prop. E.4 (b = 0): class 1 learned (A < 1/2 < B) iff p10 < p11; class 0 (D < 1/2 < C) iff p01 < p00.
    kept = kept_probabilities(*args)
    assume(abs(kept[1, 1] - kept[1, 0]) > 1e-6 and abs(kept[0, 0] - kept[0, 1]) > 1e-6)
    B, D = _solve_fixed_point(kept, a=5.0, b=0.0)
    cond = per_class_condition(kept)
    assert cond[1] == (B > 0.5) and cond[0] == (D < 0.5)
    p, phi0, phi1, psi01, psi10 = args
    star0, star1 = per_class_breakdown_points(phi0, phi1, psi01, psi10)
    assert list(cond) == [p < star0, p < star1]


@given(rate, rate, st.floats(0.01, 0.99), slack)
def test_symmetric_case_reduces_to_p_star(phi, psi, p, t):
    # With phi0 = phi1, psi01 = psi10 both Gram structures give Thm. 3.2's p*, and with slack t the
    # pooled condition holds exactly below p-*(t) (eq. (19)).
    assert pooled_breakdown_point(phi, phi, psi, psi) == pytest.approx(breakdown_point(phi, psi), rel=1e-14)
    assert per_class_breakdown_points(phi, phi, psi, psi) == pytest.approx((breakdown_point(phi, psi),) * 2, rel=1e-14)
    kept = kept_probabilities(p, phi, phi, psi, psi)
    p_minus, _ = breakdown_bounds(phi, psi, t)
    assume(abs(p - p_minus) > 1e-9)
    assert pooled_condition(kept, t=t) == (p < p_minus)


def test_conditions_validate_kept_shape():
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2, 2\)"):
        pooled_condition(np.ones(3) / 8)
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\)"):
        per_class_condition(kept_probabilities(0.1, 1, 1, 0, 0), t=1.0)
