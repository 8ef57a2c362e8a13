"""Closed-form accuracies against Monte Carlo (standard-error tolerance), against the bivariate
normal CDF of scipy.stats.multivariate_normal (an independent route), and against known limits."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.integrate import quad
from scipy.stats import multivariate_normal, norm

from beyond_collapse.numerics.bayes import accuracy_vs_bayes, bayes_accuracy, mixture_accuracy
from beyond_collapse.numerics.samplers import mixture_mean, sample_gaussian_mixture


def direction(theta, d, axis=3):
    """Unit vector at angle theta from e_1, in the (e_1, e_axis) plane."""
    w = np.zeros(d)
    w[0], w[axis] = np.cos(theta), np.sin(theta)
    return w


def test_accuracy_vs_bayes_matches_monte_carlo():
    rng = np.random.default_rng(11)
    d, mu_norm, n = 12, 0.35, 200_000
    mu = mixture_mean(d, mu_norm)
    X, y = sample_gaussian_mixture(n, mu=mu, rng=rng)
    bayes = X @ mu > 0
    W = np.stack([direction(t, d) * s for t, s in [(0.05, 1), (0.6, 3.0), (1.4, 0.2), (2.2, 1), (3.1, 7)]])
    W[2] += 0.05 * rng.standard_normal(d)  # a direction outside the (e_1, e_4) plane too
    exact = accuracy_vs_bayes(W, mu=mu)
    assert exact.shape == (5,)
    for w, acc in zip(W, exact):
        mc = np.mean((X @ w > 0) == bayes)
        assert abs(mc - acc) <= 4.5 * np.sqrt(acc * (1 - acc) / n) + 1e-12, (mc, acc)


def test_mixture_accuracy_matches_monte_carlo():
    rng = np.random.default_rng(12)
    d, tau, n = 50, 0.15, 200_000
    w_star = np.ones(d) / np.sqrt(d)
    X, y = sample_gaussian_mixture(n, mu=tau * w_star, noise_std=1 / np.sqrt(d), rng=rng)
    for w in (w_star, w_star + 0.2 * rng.standard_normal(d), -w_star + 0.1 * rng.standard_normal(d)):
        acc = mixture_accuracy(w, mu=tau * w_star, noise_std=1 / np.sqrt(d))
        mc = np.mean((X @ w > 0) == (y == 1))
        assert abs(mc - acc) <= 4.5 * np.sqrt(acc * (1 - acc) / n), (mc, acc)


def orthant_sum_by_quadrature(theta, b):
    """P(U > -a, V > -b) + P(U < -a, V < -b), U = cos(theta) V + sin(theta) Z, a = b cos(theta):
    integrate over V with scipy.integrate.quad (an independent route to the Owen's T form).
    U > -a iff Z > -cos(theta) (b + V) / sin(theta); the integrand steps at V = -b over a width
    ~ sin(theta), so that stretch is integrated separately."""
    rho, s = np.cos(theta), np.sin(theta)
    edge = -b + 50 * s

    def upper(v):
        return norm.pdf(v) * norm.cdf(rho * (b + v) / s)

    def lower(v):
        return norm.pdf(v) * norm.cdf(-rho * (b + v) / s)

    opts = dict(epsabs=1e-14, epsrel=1e-13, limit=200)
    total = quad(upper, -b, edge, **opts)[0] + quad(upper, edge, np.inf, **opts)[0]
    total += quad(lower, -np.inf, -b - 50 * s, **opts)[0] + quad(lower, -b - 50 * s, -b, **opts)[0]
    return total


@settings(max_examples=20)  # each example runs four adaptive quadratures
@given(theta=st.floats(1e-6, np.pi - 1e-6), b=st.floats(0.01, 6.0))
def test_accuracy_vs_bayes_equals_orthant_sum(theta, b):
    d = 6
    mu = mixture_mean(d, 0.5)
    ref = orthant_sum_by_quadrature(theta, b)
    # owens_t is good to ~1e-15; quad's error bound here is ~1e-12
    assert accuracy_vs_bayes(direction(theta, d), mu=mu, noise_std=0.5 / b) == pytest.approx(ref, abs=1e-10)


def test_accuracy_vs_bayes_equals_scipy_bivariate_normal():
    """acc = 1 - Phi(a) - Phi(b) + 2 Phi_2(a, b; rho) with Phi_2 from scipy's multivariate_normal (Genz)."""
    d = 6
    mu = mixture_mean(d, 0.5)
    for theta, b in [(0.3, 0.5), (1.2, 2.0), (2.0, 1.0), (2.9, 4.0)]:
        rho = np.cos(theta)
        a = b * rho
        phi2 = multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf([a, b])
        ref = 1.0 - norm.cdf(a) - norm.cdf(b) + 2 * phi2
        # scipy's 2-D Genz integration is accurate to ~1e-8 absolute at default settings
        assert accuracy_vs_bayes(direction(theta, d), mu=mu, noise_std=0.5 / b) == pytest.approx(ref, abs=1e-7)


@given(theta=st.floats(0.0, np.pi))
def test_accuracy_vs_bayes_centred_limit(theta):
    """b -> 0: two half-spaces through the origin under a centred Gaussian agree w.p. 1 - theta/pi."""
    d = 4
    acc = accuracy_vs_bayes(direction(theta, d), mu=mixture_mean(d, 1e-10))
    assert acc == pytest.approx(1 - theta / np.pi, abs=1e-9)


def test_accuracy_symmetries_and_special_points():
    d = 7
    mu = mixture_mean(d, 0.4)
    w = direction(0.8, d) + 0.1
    assert accuracy_vs_bayes(-w, mu=mu) == pytest.approx(1 - accuracy_vs_bayes(w, mu=mu), abs=1e-15)
    assert accuracy_vs_bayes(17.0 * w, mu=mu) == pytest.approx(accuracy_vs_bayes(w, mu=mu), abs=1e-15)
    assert accuracy_vs_bayes(mu, mu=mu) == 1.0
    assert accuracy_vs_bayes(-mu, mu=mu) == 0.0
    assert accuracy_vs_bayes(direction(np.pi / 2, d), mu=mu) == 0.5
    assert accuracy_vs_bayes(np.zeros(d), mu=mu) == 0.5
    assert mixture_accuracy(np.zeros(d), mu=mu) == 0.5
    # the Bayes direction attains the Bayes accuracy Phi(||mu|| / s), s^2 = (1 - 0.16) / 7
    assert mixture_accuracy(mu, mu=mu) == pytest.approx(norm.cdf(0.4 / np.sqrt(0.84 / 7)), rel=1e-15)


def test_bayes_accuracy_of_section4():
    # mpmath.mp.dps = 30; mpmath.ncdf(0.15 * mpmath.sqrt(108)) = 0.940483550771496074...
    assert bayes_accuracy(mu_norm=0.15, noise_std=1 / np.sqrt(108)) == pytest.approx(0.940483550771496074, rel=1e-14)


def test_bad_input():
    mu = mixture_mean(3, 0.2)
    with pytest.raises(ValueError, match="last dimension"):
        accuracy_vs_bayes(np.ones(4), mu=mu)
    with pytest.raises(ValueError, match="non-zero"):
        accuracy_vs_bayes(np.ones(3), mu=np.zeros(3))
    with pytest.raises(ValueError, match="noise_std"):
        mixture_accuracy(np.ones(3), mu=mu, noise_std=-1.0)
