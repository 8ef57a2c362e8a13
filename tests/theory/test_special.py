"""Normal and bivariate normal CDFs against mpmath (relative accuracy, tails, rho = +-1).

References: mpmath.ncdf at 40 digits; Sheppard's orthant formula P(X <= 0, Y <= 0) = 1/4 + asin(rho)/(2 pi)
evaluated in mpmath (exact, so it probes rho -> -1 where the value vanishes); the rho = +-1 limits;
Plackett's identity Phi2 = Phi(h) Phi(k) + (1/2pi) int_0^{asin rho} exp(-(h^2+k^2-2hk sin t)/(2 cos^2 t)) dt
integrated by mpmath (see _mpmath_plackett); and scipy's Genz implementation in the bulk.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from beyond_collapse.theory.special import bivariate_normal_cdf, normal_cdf

RTOL = 1e-12  # the accuracy the module docstring states


def _mpmath_plackett(h, k, rho, dps):
    """Phi2(h, k; rho) by Plackett's identity in mpmath: Gauss-Legendre on 40 equal panels of
    [0, asin rho] plus panels shrinking geometrically towards both ends (where tail peaks sit)."""
    with mp.workdps(dps):
        hh, kk, r = mp.mpf(h), mp.mpf(k), mp.mpf(rho)
        a = mp.asin(r)
        pts = sorted(set(mp.linspace(0, a, 41)) | {a * (1 - mp.mpf(2) ** -j) for j in range(0, 40)}
                     | {a * mp.mpf(2) ** -j for j in range(1, 40)})
        f = lambda t: mp.exp(-(hh * hh + kk * kk - 2 * hh * kk * mp.sin(t)) / (2 * mp.cos(t) ** 2))  # noqa: E731
        return mp.ncdf(hh) * mp.ncdf(kk) + mp.sign(a) * mp.quad(f, pts, method="gauss-legendre", maxdegree=10) / (2 * mp.pi)


def _rel(got, ref):
    return abs(got - float(ref)) / float(ref)


@pytest.mark.parametrize("x", [-37.5, -30.0, -20.0, -12.7, -8.0, -5.0, -2.3, -1.0, -0.3, 0.0, 0.7, 3.0, 9.0])
def test_normal_cdf_relative_accuracy(x):
    with mp.workdps(40):
        assert _rel(normal_cdf(x), mp.ncdf(x)) < 4e-16


def test_known_far_tail_value():
    # NOTES.md: Phi2(-8, -9; 0.5) = 4.058e-24 (mpmath, 40 digits); scipy returns 0.0 there.
    # 4.0581021431132135073e-24: Plackett's identity in mpmath at 250 digits (tests' _mpmath_plackett, dps=250).
    assert _rel(bivariate_normal_cdf(-8.0, -9.0, 0.5), mp.mpf("4.0581021431132135073e-24")) < RTOL


@pytest.mark.parametrize("h, k, rho, value", [
    # Plackett's identity in mpmath at 400 digits (rho < 0 cancels ~140 digits), interval split
    # geometrically towards both ends: a*(1 - 2^-j), j < 50, and a*2^-j, j < 12 (a = asin rho).
    (-4.0, -4.0, -0.95, "8.4112723485638204342e-144"),
    (-9.0, -1.5, -0.7, "2.3332013309093990008e-47"),
    (-20.0, 5.0, -0.6, "2.2054728029562737281e-107"),
])
def test_negative_correlation_far_tails(h, k, rho, value):
    assert _rel(bivariate_normal_cdf(h, k, rho), mp.mpf(value)) < RTOL
    assert _rel(bivariate_normal_cdf(k, h, rho), mp.mpf(value)) < RTOL


RHOS_SHEPPARD = [-1 + 2.0**-40, -1 + 1e-12, -0.999999, -0.99, -0.9, -0.5, 0.0, 0.5, 0.99, 1 - 1e-12]


@pytest.mark.parametrize("rho", RHOS_SHEPPARD)
def test_sheppard_orthant_identity(rho):
    # P(X <= 0, Y <= 0) = 1/4 + asin(rho) / (2 pi): tends to 0 as rho -> -1 (e.g. 2.3e-7 at 1 - 2^-40),
    # where any formula of the type 1/4 - (...) loses all digits.
    with mp.workdps(40):
        ref = mp.mpf(1) / 4 + mp.asin(mp.mpf(rho)) / (2 * mp.pi)
    assert _rel(bivariate_normal_cdf(0.0, 0.0, rho), ref) < RTOL


@pytest.mark.parametrize("h, k", [(-30.0, -9.0), (-3.0, 2.0), (0.5, 0.5), (-8.0, 8.5), (4.0, -4.0), (0.1, -0.1)])
def test_degenerate_correlations(h, k):
    with mp.workdps(40):
        upper = mp.ncdf(min(h, k))
        lower = max(mp.mpf(0), mp.ncdf(h) - mp.ncdf(-k))  # P(-k <= X <= h)
    assert _rel(bivariate_normal_cdf(h, k, 1.0), upper) < RTOL
    if lower > 0:
        assert _rel(bivariate_normal_cdf(h, k, -1.0), lower) < RTOL
    else:
        assert bivariate_normal_cdf(h, k, -1.0) == 0.0


GRID = [(h, k, rho) for h in (-30.0, -9.0, -3.0, 0.0, 2.0) for k in (-9.0, -1.0, 0.5, 8.0) if h <= k
        for rho in (0.3, 0.9, 0.999, 1 - 1e-9)]


@pytest.mark.parametrize("h, k, rho", GRID)
def test_positive_correlation_grid_against_mpmath(h, k, rho):
    ref = _mpmath_plackett(h, k, rho, dps=30)
    assert _rel(bivariate_normal_cdf(h, k, rho), ref) < RTOL
    assert _rel(bivariate_normal_cdf(k, h, rho), ref) < RTOL


@pytest.mark.parametrize("h, k, rho", [(-3.0, -3.0, -0.5), (1.0, 1.0, -0.99), (-1.5, 2.0, -0.3), (0.7, -0.2, -0.9),
                                        (2.0, 3.0, -0.999), (-2.0, 2.5, -0.8)])
def test_negative_correlation_moderate_against_mpmath(h, k, rho):
    # 120 digits absorb Plackett's cancellation for these moderate arguments.
    ref = _mpmath_plackett(h, k, rho, dps=120)
    assert _rel(bivariate_normal_cdf(h, k, rho), ref) < RTOL


@given(st.floats(-6, 6), st.floats(-6, 6), st.floats(-0.99, 0.99))
def test_bulk_agrees_with_scipy_genz(h, k, rho):
    # scipy's Genz BVN is accurate to ~1e-15 absolute in the bulk (NOTES.md), not in the tails.
    ref = multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf([h, k])
    assert abs(bivariate_normal_cdf(h, k, rho) - ref) < 1e-13


@given(st.floats(-10, 10), st.floats(-10, 10), st.floats(-1, 1))
def test_complement_identity(h, k, rho):
    # P(X <= h, Y <= k) + P(X <= h, Y > k) = Phi(h), with P(X <= h, Y > k) = Phi2(h, -k; -rho).
    total = bivariate_normal_cdf(h, k, rho) + bivariate_normal_cdf(h, -k, -rho)
    assert total == pytest.approx(normal_cdf(h), rel=1e-13, abs=1e-300)


def test_broadcasting_infinities_and_validation():
    out = bivariate_normal_cdf(np.array([[-1.0], [0.0]]), np.array([0.0, 1.0, 2.0]), 0.5)
    assert out.shape == (2, 3)
    assert bivariate_normal_cdf(-np.inf, 1.0, 0.3) == 0.0
    assert bivariate_normal_cdf(np.inf, 1.0, 0.3) == pytest.approx(normal_cdf(1.0), rel=1e-15)
    assert bivariate_normal_cdf(0.4, np.inf, -0.3) == pytest.approx(normal_cdf(0.4), rel=1e-15)
    with pytest.raises(ValueError, match=r"rho must lie in \[-1, 1\]"):
        bivariate_normal_cdf(0.0, 0.0, 1.5)
    with pytest.raises(ValueError, match="h must not be NaN"):
        bivariate_normal_cdf(math.nan, 0.0, 0.5)
