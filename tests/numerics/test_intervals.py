"""Binomial intervals against independent computations: mpmath root-finding on the binomial CDF,
scipy.stats.binomtest, and simulated coverage."""

import mpmath
import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy.stats import binomtest

from beyond_collapse.numerics.intervals import clopper_pearson, significant_sign, wilson



def _cp_mpmath(k: int, n: int, conf: float) -> tuple[float, float]:
    """Clopper-Pearson by inverting the binomial CDF itself (no Beta quantile), at 40 digits.

    low solves P(X >= k; n, p) = alpha/2, high solves P(X <= k; n, p) = alpha/2, where the tails are
    summed term by term; bisection keeps this independent of the Beta-quantile route under test.
    """
    alpha = mpmath.mpf(1 - conf)  # conf is a binary float; its exact value is what clopper_pearson sees

    def upper_tail(p):
        return mpmath.fsum(mpmath.binomial(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1))

    def lower_tail(p):
        return mpmath.fsum(mpmath.binomial(n, j) * p**j * (1 - p) ** (n - j) for j in range(0, k + 1))

    def bisect(f, target, increasing):
        lo, hi = mpmath.mpf(0), mpmath.mpf(1)
        for _ in range(64):  # 2^-64 ~ 5e-20: far below the 1e-10 relative tolerance
            mid = (lo + hi) / 2
            if (f(mid) < target) == increasing:
                lo = mid
            else:
                hi = mid
        return float((lo + hi) / 2)

    with mpmath.workdps(40):
        low = 0.0 if k == 0 else bisect(upper_tail, alpha / 2, increasing=True)
        high = 1.0 if k == n else bisect(lower_tail, alpha / 2, increasing=False)
    return low, high


@pytest.mark.parametrize(
    "k,n,conf",
    [(0, 1, 0.95), (1, 1, 0.95), (0, 20, 0.95), (1, 20, 0.95), (7, 20, 0.9), (20, 20, 0.99),
     (3, 60, 0.95), (30, 60, 0.95), (59, 60, 0.8)],
)
def test_clopper_pearson_matches_mpmath_inversion(k, n, conf):
    low, high = clopper_pearson(k, n, conf)
    ref_low, ref_high = _cp_mpmath(k, n, conf)
    # betaincinv is accurate to a few ulps times the condition number; 1e-10 relative leaves room.
    assert low == pytest.approx(ref_low, rel=1e-10, abs=1e-300)
    assert high == pytest.approx(ref_high, rel=1e-10, abs=1e-300)


@given(n=st.integers(1, 2000), frac=st.floats(0, 1), conf=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_intervals_match_scipy_binomtest(n, frac, conf):
    k = int(round(frac * n))
    ref = binomtest(k, n).proportion_ci(confidence_level=conf, method="exact")
    low, high = clopper_pearson(k, n, conf)
    # scipy finds the bounds with a root finder on the CDF (tolerance ~1e-14), not betaincinv.
    assert low == pytest.approx(ref.low, rel=1e-9, abs=1e-14)
    assert high == pytest.approx(ref.high, rel=1e-9, abs=1e-14)
    ref_w = binomtest(k, n).proportion_ci(confidence_level=conf, method="wilson")
    w_low, w_high = wilson(k, n, conf)
    assert w_low == pytest.approx(ref_w.low, rel=1e-12, abs=1e-15)
    assert w_high == pytest.approx(ref_w.high, rel=1e-12, abs=1e-15)
    # The Wilson interval is the score-test inversion: its ends solve |k/n - p| = z sqrt(p(1-p)/n).
    z = 1.959963984540054 if conf == 0.95 else None
    if z is not None and 0 < k < n:
        for p in (w_low, w_high):
            assert abs(k / n - p) == pytest.approx(z * np.sqrt(p * (1 - p) / n), rel=1e-9)


def test_broadcasting_and_empty_group():
    k = np.array([[0, 1], [2, 3]])
    low, high = clopper_pearson(k, 3)
    assert low.shape == (2, 2)
    for i in range(2):
        for j in range(2):
            assert (low[i, j], high[i, j]) == clopper_pearson(int(k[i, j]), 3)
    assert clopper_pearson(0, 0) == (0.0, 1.0)
    assert wilson(0, 0) == (0.0, 1.0)


def test_clopper_pearson_coverage_by_enumeration():
    # Exact coverage of CP at p = 0.3, n = 50: sum of binomial pmf over k whose interval holds p.
    # The enumeration is exact; CP guarantees >= 95% for every p.
    from scipy.stats import binom

    n, p = 50, 0.3
    ks = np.arange(n + 1)
    low, high = clopper_pearson(ks, n)
    coverage = binom.pmf(ks[(low <= p) & (p <= high)], n, p).sum()
    assert 0.95 <= coverage < 0.99


@pytest.mark.parametrize("k,n,conf", [(-1, 5, 0.95), (6, 5, 0.95), (1.5, 5, 0.95), (1, 5, 1.0), (np.nan, 5, 0.95)])
def test_bad_input_raises(k, n, conf):
    with pytest.raises(ValueError):
        clopper_pearson(k, n, conf)
    with pytest.raises(ValueError):
        wilson(k, n, conf)


@pytest.mark.parametrize("difference,se,z,sign", [
    (0.05, 0.02, 2.0, 1), (-0.05, 0.02, 2.0, -1), (0.04, 0.02, 2.0, 0), (-0.04, 0.02, 2.0, 0),  # exactly z se: not beyond
    (0.03, 0.02, 1.0, 1), (1e-9, 0.0, 2.0, 1), (0.0, 0.0, 2.0, 0), (-1e-9, 0.0, 2.0, -1),
])
def test_significant_sign_compares_the_difference_with_z_standard_errors(difference, se, z, sign):
    assert significant_sign(difference, se, z) == sign


@pytest.mark.parametrize("args,match", [((0.1, -1.0), "se"), ((0.1, 0.1, 0.0), "z"), ((float("nan"), 0.1), "difference|NaN")])
def test_significant_sign_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        significant_sign(*args)
