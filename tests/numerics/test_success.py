"""success_probability (Prop. E.3's event under App. D.3 sampling) against exact enumeration,
mpmath, the central limit theorem at N = 1e9, and simulation."""

from fractions import Fraction
from math import comb

import mpmath as mp
import numpy as np
import pytest
from scipy.stats import norm

from beyond_collapse.numerics import success_probability
from beyond_collapse.numerics import success as success_module


def _enumerate(n, r, w):
    """Exact P(W < R) and P(W >= R) for (R, W, other) ~ Multinomial(n; r, w, 1 - r - w), in rationals."""
    r, w = Fraction(r), Fraction(w)
    o = 1 - r - w
    win = Fraction(0)
    for R in range(n + 1):
        for W in range(min(R, n - R + 1)):
            win += comb(n, R) * comb(n - R, W) * r**R * w**W * o ** (n - R - W)
    return win, 1 - win


@pytest.mark.parametrize(
    "n,p,phi,psi,phi1,psi10",
    [(0, 0.3, 0.8, 0.4, None, None), (1, 0.3, 0.8, 0.4, None, None), (2, 0.5, 1.0, 1.0, None, None),
     (7, 0.3, 0.8, 0.4, None, None), (20, 0.45, 0.5, 0.5, None, None), (25, 0.6, 0.9, 0.2, None, None),
     (30, 0.2, 0.3, 1.0, 0.7, 0.1), (30, 0.5, 1.0, 0.0, None, None), (12, 0.0, 0.5, 0.5, None, None)],
)
def test_matches_exact_enumeration(n, p, phi, psi, phi1, psi10):
    got = success_probability(n, p, phi, psi, phi1=phi1, psi10=psi10)
    ph1 = phi if phi1 is None else phi1
    ps10 = psi if psi10 is None else psi10
    win, lose = _enumerate(n, (phi + ph1) * (1 - p) / 2, (psi + ps10) * p / 2)
    assert got.probability == pytest.approx(float(win), rel=1e-13, abs=0)
    if lose > 0:
        assert got.log_failure == pytest.approx(np.log(float(lose)), rel=1e-13, abs=1e-14)
    else:
        assert got.log_failure == -np.inf


def test_deep_failure_matches_mpmath():
    # P(failure) ~ 1e-459, far below float64's range. Reference: mpmath at 30 digits of
    # sum_K P(K) P(W >= ceil(K/2) | K) with K ~ Bin(n, r + w), W | K ~ Bin(K, w / (r + w)).
    n, p, phi, psi = 300, 1e-4, 0.99, 1.0
    mp.mp.dps = 30
    r, w = mp.mpf(phi) * (1 - mp.mpf(p)), mp.mpf(psi) * mp.mpf(p)
    s, q = r + w, w / (r + w)
    fail = mp.fsum(
        mp.binomial(n, K) * s**K * (1 - s) ** (n - K)
        * mp.fsum(mp.binomial(K, W) * q**W * (1 - q) ** (K - W) for W in range((K + 1) // 2, K + 1))
        for K in range(n + 1))
    got = success_probability(n, p, phi, psi)
    assert float(mp.log(fail)) < -1000  # the deep-tail route, not scipy, is exercised
    assert got.log_failure == pytest.approx(float(mp.log(fail)), rel=1e-13)
    assert got.probability == 1.0


def test_binomial_log_tail_matches_mpmath_far_below_underflow():
    # log P(Bin(n, q) > k): mpmath sum of the pmf at 40 digits
    mp.mp.dps = 40
    for k, n, q in [(600, 1000, 0.3), (5500, 10000, 0.45), (9000, 10000, 0.5), (60, 100, 0.1)]:
        ref = mp.log(mp.fsum(mp.binomial(n, j) * mp.mpf(q) ** j * (1 - mp.mpf(q)) ** (n - j) for j in range(k + 1, n + 1)))
        assert success_module._binom_logsf(k, n, q) == pytest.approx(float(ref), rel=2e-14)


def test_binomial_log_pmf_matches_mpmath_on_both_paths():
    """Loader's log-pmf, one numba kernel behind the numpy ufunc and the jitted sums: against
    log(C(n, k) q^k (1 - q)^(n - k)) at 50 digits, from k = 0 to n and N up to 1e9, where
    lgamma differences would lose six digits."""
    mp.mp.dps = 50
    cases = [(0, 10, 0.3), (10, 10, 0.3), (3, 10, 0.3), (7, 100, 0.999), (500_000_123, 10**9, 0.5),
             (1, 10**9, 1e-9), (123_456, 10**6, 0.2), (2.5, 7, 0.4)]  # real k: the odd-K terms use (K - 1) / 2
    k, n, q = (np.array(v, dtype=float) for v in zip(*cases))
    got = success_module._binom_logpmf(k, n, q)
    for (kk, nn, qq), g in zip(cases, got):
        kk, nn, qq = mp.mpf(kk), mp.mpf(nn), mp.mpf(qq)
        ref = mp.loggamma(nn + 1) - mp.loggamma(kk + 1) - mp.loggamma(nn - kk + 1) + kk * mp.log(qq) + (nn - kk) * mp.log1p(-qq)
        assert g == pytest.approx(float(ref), rel=1e-13, abs=1e-13), (kk, nn, qq)
        assert success_module._nb_logpmf(float(kk), float(nn), float(qq)) == g  # the same kernel


def test_trapezoid_route_matches_exact_window_route(monkeypatch):
    # Above N = 2e4 the support is summed exactly if small, else by the trapezoid rule: force both.
    args = (2e6, 0.45, 0.8, 0.97)
    monkeypatch.setattr(success_module, "_WINDOW_EXACT", 10**7)
    exact = success_probability(*args)
    monkeypatch.setattr(success_module, "_WINDOW_EXACT", 10)
    trap = success_probability(*args)
    assert trap.log_success == pytest.approx(exact.log_success, rel=1e-12)
    assert trap.log_failure == pytest.approx(exact.log_failure, rel=1e-12)


def test_clt_at_one_billion():
    # X_i = 1[kept wrong] - 1[kept right]; failure = sum X_i >= 0. At N = 1e9 the CLT (with its
    # O(1/sqrt(N)) Edgeworth correction ~ 1e-5 here) fixes P(failure) near the threshold.
    n, p, phi = 1e9, 0.45, 0.8
    psi = phi * (1 - p) / p * (1 - 4e-5)
    r, w = phi * (1 - p), psi * p
    mean, var = w - r, w + r - (w - r) ** 2
    z = -n * mean / np.sqrt(n * var)
    got = success_probability(n, p, phi, psi)
    assert np.exp(got.log_failure) == pytest.approx(norm.sf(z), rel=2e-3)
    assert got.probability + np.exp(got.log_failure) == pytest.approx(1.0, abs=1e-13)


@pytest.mark.parametrize("n,psi", [(3000, 0.861), (100_000, 0.8933)])  # P(success) ~ 0.85 for both
def test_matches_simulation(n, psi):
    rng = np.random.default_rng(11)
    p, phi = 0.4, 0.6
    r, w = phi * (1 - p), psi * p
    draws = rng.multinomial(n, [r, w, 1 - r - w], size=200_000)
    mc = np.mean(draws[:, 1] < draws[:, 0])
    se = np.sqrt(mc * (1 - mc) / draws.shape[0])
    got = success_probability(n, p, phi, psi).probability
    assert abs(got - mc) <= 5 * se


def test_broadcasts():
    got = success_probability(np.array([[10], [20]]), [0.1, 0.3, 0.5], 0.9, 0.5)
    assert got.probability.shape == (2, 3)
    win, _ = _enumerate(20, 0.9 * 0.7, 0.5 * 0.3)
    assert got.probability[1, 1] == pytest.approx(float(win), rel=1e-13)


@pytest.mark.parametrize(
    "args,kwargs,match",
    [((10.5, 0.1, 0.5, 0.5), {}, "n must be a non-negative integer"),
     ((-1, 0.1, 0.5, 0.5), {}, "n must be a non-negative integer"),
     ((10, 1.1, 0.5, 0.5), {}, "p must lie in"),
     ((10, 0.1, -0.5, 0.5), {}, "phi must lie in"),
     ((10, 0.1, 0.5, 0.5), {"psi10": 2.0}, "psi10 must lie in")],
)
def test_bad_input_raises(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        success_probability(*args, **kwargs)
