"""success_probability(condition="per-class") (Prop. E.4's event N10 < N11 and N01 < N00 under the
multinomial sampling of App. D.3) against brute-force enumeration, mpmath, simulation and the
N -> infinity limits of theory.rlhf; and the numba array path of the pooled event against the
scalar incomplete-beta route."""

from fractions import Fraction
from math import factorial

import mpmath as mp
import numpy as np
import pytest

from beyond_collapse.numerics import success_probability
from beyond_collapse.numerics import success as success_module
from beyond_collapse.theory import (kept_probabilities, per_class_breakdown_points, per_class_condition,
                                   pooled_breakdown_point, pooled_condition)


def _cells(p, phi0, phi1, psi01, psi10):
    return [Fraction(x) for x in (phi0 * (1 - p) / 2, psi01 * p / 2, psi10 * p / 2, phi1 * (1 - p) / 2)]


def _enumerate_per_class(n, cells):
    """Exact P(N10 < N11 and N01 < N00): every multinomial outcome (N00, N01, N10, N11, discarded)."""
    p00, p01, p10, p11 = cells
    other = 1 - p00 - p01 - p10 - p11
    win = Fraction(0)
    for n00 in range(n + 1):
        for n01 in range(min(n00, n - n00 + 1)):
            for n11 in range(n - n00 - n01 + 1):
                for n10 in range(min(n11, n - n00 - n01 - n11 + 1)):
                    rest = n - n00 - n01 - n10 - n11
                    coef = factorial(n) // (factorial(n00) * factorial(n01) * factorial(n10) * factorial(n11)
                                            * factorial(rest))
                    win += coef * p00**n00 * p01**n01 * p10**n10 * p11**n11 * other**rest
    return win


@pytest.mark.parametrize(
    "n,p,phi0,phi1,psi01,psi10",
    [(0, 0.3, 0.8, 0.8, 0.4, 0.4), (1, 0.3, 0.8, 0.8, 0.4, 0.4), (2, 0.5, 1.0, 1.0, 1.0, 1.0),
     (9, 0.3, 0.8, 0.6, 0.4, 0.2), (12, 0.45, 0.9, 0.5, 0.5, 0.7), (11, 0.5, 1.0, 0.3, 0.0, 0.9),
     (10, 0.0, 0.5, 0.7, 0.5, 0.5), (10, 0.4, 0.0, 0.9, 0.3, 0.3), (12, 0.6, 1.0, 1.0, 0.2, 0.9)],
)
def test_matches_brute_force_enumeration(n, p, phi0, phi1, psi01, psi10):
    got = success_probability(n, p, phi0, psi01, phi1=phi1, psi10=psi10, condition="per-class")
    win = _enumerate_per_class(n, _cells(p, phi0, phi1, psi01, psi10))
    assert got.probability == pytest.approx(float(win), rel=1e-13, abs=0)
    if win < 1:
        assert got.log_failure == pytest.approx(np.log(float(1 - win)), rel=1e-13, abs=1e-14)
    else:
        assert got.log_failure == -np.inf


def test_deep_tails_match_mpmath():
    # N = 150. At p = 0.02 failure is the rare side (~1e-29: 1 - P(success) is 0 in float64, so
    # only the separate failure sum gives it); at p = 0.9 success is (~1e-23). Reference: mpmath (30 digits)
    # of the sum over every (M1, M0) of the multinomial weight times both classes' binomial tails.
    mp.mp.dps = 30
    n = 150
    fact = [mp.factorial(k) for k in range(n + 1)]
    for p, phi0, phi1, psi01, psi10 in [(0.02, 1.0, 0.9, 1.0, 0.5), (0.9, 0.9, 1.0, 0.7, 0.8)]:
        p00, p01, p10, p11 = (mp.mpf(x) for x in (phi0 * (1 - p) / 2, psi01 * p / 2, psi10 * p / 2, phi1 * (1 - p) / 2))
        s1, s0 = p10 + p11, p00 + p01

        def tail(m, q, win):  # P(Bin(m, q) <= ceil(m/2) - 1) (win) or its complement, summed directly
            js = range((m + 1) // 2) if win else range((m + 1) // 2, m + 1)
            return mp.fsum(fact[m] / (fact[j] * fact[m - j]) * q**j * (1 - q) ** (m - j) for j in js)

        w1, l1 = ([tail(m, p10 / s1, win) for m in range(n + 1)] for win in (True, False))
        w0, l0 = ([tail(m, p01 / s0, win) for m in range(n + 1)] for win in (True, False))
        pow1 = [s1**m for m in range(n + 1)]
        pow0 = [s0**m for m in range(n + 1)]
        powr = [(1 - s1 - s0) ** m for m in range(n + 1)]
        succ, fail = [], []
        for m1 in range(n + 1):
            for m0 in range(n - m1 + 1):
                weight = fact[n] / (fact[m1] * fact[m0] * fact[n - m1 - m0]) * pow1[m1] * pow0[m0] * powr[n - m1 - m0]
                succ.append(weight * w1[m1] * w0[m0])
                fail.append(weight * (l1[m1] + w1[m1] * l0[m0]))  # no 1 - (1 - tiny) at 30 digits
        succ, fail = mp.fsum(succ), mp.fsum(fail)
        got = success_probability(n, p, phi0, psi01, phi1=phi1, psi10=psi10, condition="per-class")
        small = min(succ, fail)  # summed to 30 significant digits; the other side is 1 - small
        assert float(mp.log(small)) < -45  # a deep tail: below float64's resolution of 1 - P
        ref_s = mp.log(succ) if succ is small else mp.log1p(-fail)
        ref_f = mp.log(fail) if fail is small else mp.log1p(-succ)
        assert got.log_success == pytest.approx(float(ref_s), rel=1e-12, abs=1e-300)
        assert got.log_failure == pytest.approx(float(ref_f), rel=1e-12, abs=1e-300)


def test_truncated_walk_matches_the_full_double_sum():
    # _nb_joint stops its walks 60 nats below the largest term; the full (M1, M0) double sum over
    # the same tail tables (numpy, every term) must agree, in the bulk and in deep tails.
    from scipy.special import logsumexp

    rng = np.random.default_rng(3)
    n = 150
    for _ in range(10):
        p, phi0, phi1, psi01, psi10 = rng.random(5)
        p = float(rng.choice([p, 0.002, 0.998]))
        p00, p01, p10, p11 = phi0 * (1 - p) / 2, psi01 * p / 2, psi10 * p / 2, phi1 * (1 - p) / 2
        s1, s0 = p10 + p11, p00 + p01
        u = min(s0 / (1 - s1), 1.0)
        t1, f1 = success_module._tail_tables(n, p10 / s1)
        t0, f0 = success_module._tail_tables(n, p01 / s0)
        m = np.arange(n + 1.0)
        lp1 = success_module._binom_logpmf(m, n, s1)
        rows_ss, rows_sf = [], []
        for m1 in range(n + 1):
            lp0 = success_module._binom_logpmf(m[: n - m1 + 1], n - m1, u)
            rows_ss.append(lp1[m1] + t1[m1] + logsumexp(lp0 + t0[: n - m1 + 1]))
            rows_sf.append(lp1[m1] + t1[m1] + logsumexp(lp0 + f0[: n - m1 + 1]))
        log_s, log_f = success_module._complement(
            logsumexp(rows_ss), np.logaddexp(logsumexp(lp1 + f1), logsumexp(rows_sf)))
        got = success_probability(n, p, phi0, psi01, phi1=phi1, psi10=psi10, condition="per-class")
        assert got.log_success == pytest.approx(log_s, rel=1e-12, abs=1e-300)
        assert got.log_failure == pytest.approx(log_f, rel=1e-12, abs=1e-300)


def test_no_errors_kept_fails_only_when_a_class_keeps_nothing():
    # p = 0 (no wrong labels): success iff N11 >= 1 and N00 >= 1, so P(failure) = 2 (1/2)^N for
    # phi = 1 (each example is a kept 0 or a kept 1): exp(-1039) at N = 1500, below float64.
    n = 1500
    got = success_probability(n, 0.0, 1.0, 0.5, condition="per-class")
    assert got.log_failure == pytest.approx((1 - n) * np.log(2.0), rel=1e-14)


@pytest.mark.parametrize("n,p", [(2000, 0.48), (3000, 0.50)])
def test_matches_simulation(n, p):
    phi0, phi1, psi01, psi10 = 0.9, 0.6, 0.5, 0.6  # per-class p* = (0.643, 0.5)
    rng = np.random.default_rng(5)
    cells = kept_probabilities(p, phi0, phi1, psi01, psi10).ravel()  # p00, p01, p10, p11
    draws = rng.multinomial(n, np.append(cells, 1 - cells.sum()), size=200_000)
    mc = np.mean((draws[:, 2] < draws[:, 3]) & (draws[:, 1] < draws[:, 0]))
    se = np.sqrt(mc * (1 - mc) / draws.shape[0])
    got = success_probability(n, p, phi0, psi01, phi1=phi1, psi10=psi10, condition="per-class").probability
    assert 0.05 < got < 0.95  # the transition, where simulation is informative
    assert abs(got - mc) <= 5 * se


def test_limits_on_either_side_of_the_per_class_breakdown_point():
    # phi = (0.9, 0.5), psi = (0.4, 0.6): per-class p* = (0.692, 0.455), pooled p* = 0.583.
    phi0, phi1, psi01, psi10 = 0.9, 0.5, 0.4, 0.6
    p_star = min(per_class_breakdown_points(phi0, phi1, psi01, psi10))
    assert pooled_breakdown_point(phi0, phi1, psi01, psi10) > p_star + 0.1
    ns = [100, 1000, 10000]

    def prob(p, condition):
        return success_probability(ns, p, phi0, psi01, phi1=phi1, psi10=psi10, condition=condition)

    below = prob(p_star - 0.05, "per-class")
    assert np.all(np.diff(below.probability) > 0) and below.log_failure[-1] < np.log(1e-6)
    # docs/ERRATA.md (Sec. E.4 / Prop. E.5): at p = 0.505 the pooled condition (55) holds with
    # t = 0.1 but class 1's does not; only the pooled event's probability tends to 1.
    p = 0.505
    kept = kept_probabilities(p, phi0, phi1, psi01, psi10)
    assert pooled_condition(kept, 0.1) and not per_class_condition(kept, 0.1).all()
    above = prob(p, "per-class")
    assert np.all(np.diff(above.probability) < 0) and above.probability[-1] < 1e-6
    pooled = prob(p, "pooled")
    assert pooled.log_failure[-1] < np.log(1e-6)
    # The per-class event is a sub-event of the pooled one at every N.
    assert np.all(above.probability <= pooled.probability)


def test_symmetric_breakdown_point_limit_is_one_quarter():
    # Symmetric rates at p = p*: N11 - N10 and N00 - N01 have mean 0 and covariance
    # -N (p11 - p10)(p00 - p01) = 0, so each class wins w.p. -> 1/2 independently and the
    # per-class event has limit 1/4 (the pooled one 1/2). Each win probability is 1/2 minus half
    # the tie probability ~ 1/(sqrt(2 pi) sd), sd = sqrt(N (p11 + p10)).
    phi, psi = 0.8, 0.4
    p = phi / (phi + psi)
    n = 20000
    sd = np.sqrt(n * (phi * (1 - p) + psi * p) / 2)
    win = 0.5 - 0.5 / (np.sqrt(2 * np.pi) * sd)
    got = success_probability(n, p, phi, psi, condition="per-class").probability
    assert got == pytest.approx(win**2, abs=2e-3)
    assert abs(got - 0.25) > 1e-3  # the finite-N tie correction is visible
    assert success_probability(n, p, phi, psi).probability == pytest.approx(win, abs=2e-3)


def test_broadcasts_and_agrees_with_scalar_calls():
    ns, ps = np.array([[30], [400]]), np.array([0.2, 0.4, 0.55])
    got = success_probability(ns, ps, 0.9, 0.5, phi1=0.6, psi10=0.7, condition="per-class")
    assert got.probability.shape == (2, 3)
    one = success_probability(400, 0.4, 0.9, 0.5, phi1=0.6, psi10=0.7, condition="per-class")
    assert got.log_failure[1, 1] == one.log_failure


@pytest.mark.parametrize(
    "n,p,psi",
    [(50, 0.3, 0.5), (1000, 0.05, 0.5), (1000, 0.55, 0.5), (20_000, 0.52, 0.5), (30_000, 0.45, 0.5),
     (300_000, 0.2, 0.9), (1_000_000, 0.5, 0.5), (2_000_000, 0.59, 0.5)],
)
def test_array_path_matches_scalar_route(n, p, psi):
    # The numba path (tail by recurrence) against the scalar route (incomplete beta per K, grid
    # scans, trapezoid): two computations of the same sum; log P(failure) spans -2 to -1e5 here.
    got = success_probability([n, n], [p, p], 0.6, psi)
    log_s, log_f = success_module._log_success_failure(float(n), 0.6 * (1 - p), psi * p)
    assert got.log_failure[0] == pytest.approx(log_f, rel=1e-12)
    assert got.log_success[0] == pytest.approx(log_s, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(
    "args,kwargs,match",
    [((10, 0.1, 0.5, 0.5), {"condition": "both"}, "condition must be one of"),
     ((2_000_000, 0.1, 0.5, 0.5), {"condition": "per-class"}, "n must be <= 1000000"),
     ((10, 0.1, 0.5, 0.5), {"condition": "per-class", "phi1": 1.5}, "phi1 must lie in")],
)
def test_bad_input_raises(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        success_probability(*args, **kwargs)
