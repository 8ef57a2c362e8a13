"""Tests of beyond_collapse.audit.phase: rates and intervals against exact binomial computations,
p* against Thm. 3.2 in exact rationals, the posterior side against quadrature, rank correlations
against scipy.stats and against closed forms for the bivariate normal."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from beyond_collapse.audit.phase import (
    agreement, breakdown_ratio, count_table, flags_from_counts, kendall_standard_error, kendall_tau_b, observed_outcome,
    phase_point, phase_point_from_counts, rank_correlation, spearman,
)
from beyond_collapse.theory import breakdown_point

cell = st.integers(min_value=0, max_value=30)


@given(cell, cell, cell, cell)
def test_rates_and_intervals_match_scipy_binomtest(ck, cd, wk, wd):
    """Each rate is k/n with the exact (Clopper-Pearson) interval of scipy.stats.binomtest."""
    if ck + wk == 0:
        with pytest.raises(ValueError, match="pruned|empty"):
            phase_point_from_counts(dict(correct_kept=ck, correct_dropped=cd, wrong_kept=wk, wrong_dropped=wd),
                                    n_draws=1000)
        return
    pt = phase_point_from_counts(dict(correct_kept=ck, correct_dropped=cd, wrong_kept=wk, wrong_dropped=wd),
                                 n_draws=1000)
    n = ck + cd + wk + wd
    for rate, k, m in ((pt.p, wk + wd, n), (pt.phi, ck, ck + cd), (pt.psi, wk, wk + wd)):
        assert (rate.successes, rate.trials) == (k, m)
        if m == 0:
            assert rate.estimate is None and (rate.ci_low, rate.ci_high) == (0.0, 1.0)
            continue
        assert rate.estimate == pytest.approx(k / m, abs=1e-15)
        ci = stats.binomtest(k, m).proportion_ci(confidence_level=0.95, method="exact")
        assert rate.ci_low == pytest.approx(ci.low, abs=1e-9)
        assert rate.ci_high == pytest.approx(ci.high, abs=1e-9)


@given(st.integers(1, 30), st.integers(0, 30), st.integers(0, 30), st.integers(1, 30))
def test_p_star_and_margin_are_thm_3_2_in_exact_rationals(ck, cd, wk, wd):
    pt = phase_point_from_counts(dict(correct_kept=ck, correct_dropped=cd, wrong_kept=wk, wrong_dropped=wd),
                                 n_draws=1000)
    phi, psi = Fraction(ck, ck + cd), Fraction(wk, wk + wd)
    p = Fraction(wk + wd, ck + cd + wk + wd)
    p_star = phi / (phi + psi)  # Thm. 3.2: 1 / (1 + psi/phi)
    assert pt.p_star == pytest.approx(float(p_star), rel=1e-14)
    assert pt.margin == pytest.approx(float(p_star - p), abs=1e-14)
    if psi > 0:
        assert pt.ratio == pytest.approx(float(psi / phi), rel=1e-14)
    lo, hi = pt.ratio_interval
    assert lo <= hi


def test_exact_coverage_by_enumeration_of_every_outcome():
    """Exact coverage over the multinomial of the 2x2 cells (n = 12: all 455 outcomes enumerated):
    every interval covers its true rate with probability >= 95% (Clopper-Pearson is conservative)."""
    n, p, phi, psi = 12, 0.3, 0.7, 0.2
    probs = [(1 - p) * phi, (1 - p) * (1 - phi), p * psi, p * (1 - psi)]
    covered = {"p": 0.0, "phi": 0.0, "psi": 0.0}
    total = 0.0
    for ck, cd, wk in itertools.product(range(n + 1), repeat=3):
        wd = n - ck - cd - wk
        if wd < 0:
            continue
        prob = stats.multinomial.pmf([ck, cd, wk, wd], n, probs)
        total += prob
        if ck + wk == 0:  # nothing kept: the estimator refuses, count as not covered
            continue
        pt = phase_point_from_counts(dict(correct_kept=ck, correct_dropped=cd, wrong_kept=wk, wrong_dropped=wd),
                                     n_draws=1000)
        for name, truth in (("p", p), ("phi", phi), ("psi", psi)):
            r = getattr(pt, name)
            covered[name] += prob * (r.ci_low <= truth <= r.ci_high)
    assert total == pytest.approx(1.0, abs=1e-12)
    nothing_kept = (1 - probs[0] - probs[2]) ** n
    for name, cov in covered.items():
        assert cov + nothing_kept >= 0.95, (name, cov)


def test_posterior_probability_against_quadrature():
    """P(p < p*) under independent Beta posteriors (Jeffreys prior): the Monte Carlo value against
    E_{phi,psi}[F_p(phi / (phi + psi))] by 2-D quadrature (scipy.integrate.dblquad); tolerance 4 MC s.e."""
    counts = dict(correct_kept=14, correct_dropped=6, wrong_kept=9, wrong_dropped=11)
    n_draws = 40_000
    pt = phase_point_from_counts(counts, n_draws=n_draws, seed=3)
    a = 0.5
    post_p = stats.beta(a + 20, a + 20)  # 20 wrong of 40
    post_phi = stats.beta(a + 14, a + 6)
    post_psi = stats.beta(a + 9, a + 11)
    ref, _ = integrate.dblquad(lambda psi, phi: post_p.cdf(phi / (phi + psi)) * post_phi.pdf(phi) * post_psi.pdf(psi),
                               0, 1, 0, 1, epsabs=1e-8)
    se = math.sqrt(ref * (1 - ref) / n_draws)
    assert abs(pt.prob_p_below_p_star - ref) < 4 * se


def test_side_of_the_transition():
    improves = phase_point_from_counts(dict(correct_kept=300, correct_dropped=100, wrong_kept=20, wrong_dropped=580))
    collapses = phase_point_from_counts(dict(correct_kept=50, correct_dropped=350, wrong_kept=300, wrong_dropped=300))
    # p = 0.5, phi = psi = 0.5: p* = 1/2 = p exactly, so neither side is decided
    undecided = phase_point_from_counts(dict(correct_kept=100, correct_dropped=100, wrong_kept=100, wrong_dropped=100))
    assert improves.side == "improves" and improves.margin > 0
    assert collapses.side == "collapses" and collapses.margin < 0
    assert undecided.side == "undecided" and undecided.margin == pytest.approx(0.0, abs=1e-15)
    lo, hi = undecided.margin_interval
    assert lo < 0 < hi


@given(cell, cell, cell, cell)
def test_counts_round_trip(ck, cd, wk, wd):
    correct, kept = flags_from_counts(ck, cd, wk, wd)
    assert count_table(correct, kept) == dict(correct_kept=ck, correct_dropped=cd, wrong_kept=wk, wrong_dropped=wd)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="correct_kept"):
        flags_from_counts(-1, 0, 0, 0)
    with pytest.raises(ValueError, match="wrong_dropped"):
        phase_point_from_counts(dict(correct_kept=1, correct_dropped=0, wrong_kept=0))
    with pytest.raises(ValueError, match="same length"):
        phase_point([1, 0, 1], [1, 1])
    with pytest.raises(ValueError, match="not binary"):
        phase_point([1, 0, 2], [1, 1, 0])
    with pytest.raises(ValueError, match="method"):
        rank_correlation([1, 2, 3], [1, 2, 3], method="pearson")
    with pytest.raises(ValueError, match="NaN"):
        spearman([1, 2, np.nan], [1, 2, 3])
    with pytest.raises(ValueError, match="side"):
        agreement("maybe", "better")
    with pytest.raises(ValueError, match="se"):
        observed_outcome(0.1, -1.0)


@given(st.floats(0.001, 0.999), st.floats(0.01, 1.0))
def test_breakdown_ratio_is_where_p_equals_p_star(p, phi):
    """On the curve psi/phi = (1-p)/p, Thm. 3.2's p* (theory.breakdown_point) equals p."""
    psi = breakdown_ratio(p) * phi
    if psi > 1:  # psi is a probability
        return
    assert breakdown_point(phi, psi) == pytest.approx(p, rel=1e-12)


def test_observed_outcome_and_agreement_truth_table():
    assert observed_outcome(0.05, 0.02) == "better"
    assert observed_outcome(-0.05, 0.02) == "worse"
    assert observed_outcome(0.03, 0.02) == "no significant difference"
    assert observed_outcome(0.0, 0.0) == "no significant difference"
    assert agreement("improves", "better") == "yes"
    assert agreement("collapses", "worse") == "yes"
    assert agreement("improves", "worse") == "no"
    assert agreement("collapses", "better") == "no"
    assert agreement("undecided", "better") == "unresolved"
    assert agreement("improves", "no significant difference") == "unresolved"


small_ints = st.lists(st.integers(0, 6), min_size=3, max_size=40)


@given(small_ints, st.randoms(use_true_random=False))
def test_rank_correlations_with_ties_and_constant_input(xs, rnd):
    """Estimates are scipy's; a constant variable gives NaN for both, with no warning escaping."""
    x = np.array(xs, dtype=float)
    y = np.array([v + rnd.randint(-3, 3) for v in xs], dtype=float)
    if np.ptp(x) == 0 or np.ptp(y) == 0:  # a constant variable: both undefined
        assert np.isnan(spearman(x, y)) and np.isnan(kendall_tau_b(x, y))
        assert np.isnan(kendall_standard_error(x, y))
        return
    assert -1 <= spearman(x, y) <= 1 and -1 <= kendall_tau_b(x, y) <= 1
    # tau-b from its definition over all pairs, exact in rationals
    pairs = list(itertools.combinations(range(len(x)), 2))
    sgn = lambda v: int(v > 0) - int(v < 0)  # noqa: E731
    s = sum(sgn(x[i] - x[j]) * sgn(y[i] - y[j]) for i, j in pairs)
    n1 = sum(x[i] == x[j] for i, j in pairs)
    n2 = sum(y[i] == y[j] for i, j in pairs)
    n0 = len(pairs)
    assert kendall_tau_b(x, y) == pytest.approx(s / math.sqrt((n0 - n1) * (n0 - n2)), abs=1e-12)


def test_kendall_standard_error_matches_the_null_variance():
    """Under independence and without ties var(tau) = 2(2n + 5) / (9 n (n - 1)) (Kendall 1938); the
    U-statistic standard error estimates its square root. Mean over 100 samples of n = 200: within 3%
    (the estimate's own spread is about 5% per sample, so 0.5% for the mean)."""
    rng = np.random.default_rng(5)
    n = 200
    exact = math.sqrt(2 * (2 * n + 5) / (9 * n * (n - 1)))
    ses = [kendall_standard_error(*rng.standard_normal((2, n))) for _ in range(100)]
    assert np.mean(ses) == pytest.approx(exact, rel=0.03)


REFERENCE_300 = {"spearman": (0.4450331978687671, 0.3541090643220167, 0.5376228784263126),
                 "kendall": (0.31274596913925845, 0.24581899743882085, 0.37967294083969605)}


def test_rank_correlation_reproduces_the_previous_implementation():
    """The hand-written ranks and tau-b that scipy replaced (issue 14) gave these values, computed at
    commit 1fb772b with: z = default_rng(7).standard_normal((300, 2)) after one draw of shape (50, 2);
    z[:, 1] += 0.5 z[:, 0]; z = round(z, 1) (ties); rank_correlation(..., n_boot=300, seed=3)."""
    rng = np.random.default_rng(7)
    rng.standard_normal((50, 2))
    z = rng.standard_normal((300, 2))
    z[:, 1] += 0.5 * z[:, 0]
    z = np.round(z, 1)
    for method, ref in REFERENCE_300.items():
        c = rank_correlation(z[:, 0], z[:, 1], method=method, n_boot=300, seed=3)
        assert (c.estimate, c.ci_low, c.ci_high) == pytest.approx(ref, rel=1e-12, abs=1e-14), method


def test_kendall_interval_covers_the_bivariate_normal_tau():
    """Bivariate normal with correlation rho: Kendall's tau = (2/pi) arcsin(rho) (Greiner's relation).
    200 samples of n = 60; a 95% interval covers in about 95% of them (binomial s.e. 1.5%)."""
    rng = np.random.default_rng(11)
    rho = 0.6
    tau = 2 / math.pi * math.asin(rho)
    cov = 0
    for _ in range(200):
        z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=60)
        c = rank_correlation(z[:, 0], z[:, 1], method="kendall")
        cov += c.ci_low <= tau <= c.ci_high
    assert 0.90 <= cov / 200 <= 0.99


def test_spearman_bootstrap_interval_covers_the_bivariate_normal_rho_s():
    """Spearman's rho_s = (6/pi) arcsin(rho/2) for the bivariate normal (Pearson 1907). 100 samples of
    n = 80, 200 resamples each: the percentile interval covers in about 95% (s.e. 2.2%; allow 3.5 s.e.)."""
    rng = np.random.default_rng(12)
    rho = 0.5
    rho_s = 6 / math.pi * math.asin(rho / 2)
    cov = 0
    for i in range(100):
        z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=80)
        c = rank_correlation(z[:, 0], z[:, 1], method="spearman", n_boot=200, seed=i)
        assert c.ci_low <= c.estimate <= c.ci_high
        cov += c.ci_low <= rho_s <= c.ci_high
    assert 0.87 <= cov / 100 <= 1.0
