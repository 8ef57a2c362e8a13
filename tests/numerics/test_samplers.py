"""Samplers against their defining laws: moments and rates by Monte Carlo with standard-error
tolerances, angles by construction, supervised-pruning rates against bivariate-normal orthant
probabilities computed with scipy.stats.multivariate_normal (an independent route)."""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy.stats import multivariate_normal, norm

from beyond_collapse.numerics.samplers import (
    angle_directions, flip_labels, linear_generator, linear_pruner, mixture_mean, rlhf_prune,
    sample_gaussian_mixture, sample_supervised_dataset, sample_supervised_pruning,
)

Z = 4.5  # standard errors allowed: with ~40 MC checks a false failure has probability < 1e-3


def assert_within_se(estimate, expected, se, z=Z):
    assert abs(estimate - expected) <= z * se, (estimate, expected, se)


def test_mixture_moments():
    rng = np.random.default_rng(1)
    n, d, mu_norm = 100_000, 8, 0.6
    X, y = sample_gaussian_mixture(n, d=d, mu_norm=mu_norm, rng=rng)
    assert X.shape == (n, d) and y.dtype == np.int8
    assert_within_se(y.mean(), 0.5, 0.5 / np.sqrt(n))
    sq = (X**2).sum(axis=1)
    assert_within_se(sq.mean(), 1.0, sq.std() / np.sqrt(n))  # E||x||^2 = ||mu||^2 + tr(Sigma) = 1
    s2 = (1 - mu_norm**2) / d
    resid = X - np.outer(2.0 * y - 1, mixture_mean(d, mu_norm))
    assert_within_se(resid.mean(axis=0).max(), 0.0, np.sqrt(s2 / n) * 1.5)  # max of 8: a little extra slack
    cov = resid.T @ resid / n
    # sample covariance entries of Gaussians: var(s_ij) = s2^2 (1 + [i = j]) / n
    assert np.all(np.abs(cov - s2 * np.eye(d)) <= Z * s2 * np.sqrt(2.0 / n))


def test_mixture_explicit_mean_and_seed_reproducible():
    mu = np.array([0.0, 0.15, 0.0])
    X1, y1 = sample_gaussian_mixture(50, mu=mu, noise_std=1 / np.sqrt(3), rng=np.random.default_rng(5))
    X2, y2 = sample_gaussian_mixture(50, mu=mu, noise_std=1 / np.sqrt(3), rng=np.random.default_rng(5))
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    X3, _ = sample_gaussian_mixture(50, mu=mu, noise_std=1 / np.sqrt(3), rng=np.random.default_rng(6))
    assert not np.array_equal(X1, X3)


def test_flip_labels_rate():
    rng = np.random.default_rng(2)
    y = (rng.random(200_000) < 0.5).astype(np.int8)
    p = 0.3
    ys = flip_labels(y, p, rng=rng)
    assert_within_se(np.mean(ys != y), p, np.sqrt(p * (1 - p) / y.size))
    assert set(np.unique(ys)) <= {0, 1}


def test_rlhf_prune_cell_rates_match_eq14():
    """N_kl / N -> p_kl of eq. (14) with class-dependent phi_k, psi_kl."""
    rng = np.random.default_rng(3)
    n, p = 400_000, 0.35
    phi, psi = (0.9, 0.6), (0.2, 0.45)  # (phi_0, phi_1), (psi_01, psi_10)
    y = (rng.random(n) < 0.5).astype(np.int8)
    ys = flip_labels(y, p, rng=rng)
    q = rlhf_prune(y, ys, phi=phi, psi=psi, rng=rng)
    expected = {(0, 0): (1 - p) * phi[0] / 2, (1, 1): (1 - p) * phi[1] / 2,
                (0, 1): p * psi[0] / 2, (1, 0): p * psi[1] / 2}
    for (k, l), pk in expected.items():
        freq = np.mean((y == k) & (ys == l) & (q == 1))
        assert_within_se(freq, pk, np.sqrt(pk * (1 - pk) / n))


def test_rlhf_prune_extremes_are_deterministic():
    rng = np.random.default_rng(4)
    y = np.array([0, 1, 0, 1, 1], dtype=np.int8)
    ys = np.array([0, 1, 1, 0, 1], dtype=np.int8)
    assert rlhf_prune(y, ys, phi=1, psi=0, rng=rng).tolist() == [1, 1, 0, 0, 1]  # oracle
    assert rlhf_prune(y, ys, phi=1, psi=1, rng=rng).tolist() == [1] * 5  # no pruning


@given(
    tg=st.floats(0.0, np.pi), tp=st.floats(0.0, np.pi), u=st.floats(0.0, 1.0),
    d=st.integers(3, 12),
)
def test_angle_directions_realise_the_angles(tg, tp, u, d):
    low, high = abs(tg - tp), min(tg + tp, 2 * np.pi - tg - tp)
    t = low + u * (high - low)
    mu = mixture_mean(d, 0.3)
    wg, wp = angle_directions(mu, theta_gen=tg, theta_prune=tp, theta=t)
    m = mu / np.linalg.norm(mu)
    assert np.isclose(np.linalg.norm(wg), 1, atol=1e-12) and np.isclose(np.linalg.norm(wp), 1, atol=1e-12)
    # compare cosines, not arccos (arccos amplifies round-off near 0 and pi)
    assert np.allclose([wg @ m, wp @ m, wg @ wp], np.cos([tg, tp, t]), atol=1e-9)


def test_angle_directions_rejects_unrealisable_triangle():
    with pytest.raises(ValueError, match="theta must lie in"):
        angle_directions(mixture_mean(5, 0.3), theta_gen=0.2, theta_prune=0.3, theta=1.0)
    with pytest.raises(ValueError, match="theta_gen"):
        angle_directions(mixture_mean(5, 0.3), theta_gen=4.0, theta_prune=0.3, theta=1.0)


def test_linear_generator_and_pruner_follow_eq5():
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -2.0]])
    y_syn = linear_generator(X, np.array([1.0, 0.0]))
    assert y_syn.tolist() == [1, 0, 1]
    # signed label times x.w_prune = (+1)(2), (-1)(0.5), (+1)(-2)
    assert linear_pruner(X, y_syn, np.array([0.0, 1.0])).tolist() == [1, 0, 0]


def supervised_reference(d, mu_norm, tg, tp, t):
    """p, phi, psi of supervised pruning via Phi_2 from scipy.stats.multivariate_normal.

    Given y = 1, U_g = eta.w_gen and U_p = eta.w_prune are standard normals with correlation
    cos(theta); y' = 1 iff U_g > -k cos(theta_gen), kept iff the pruner's sign matches y', with
    k = mu_norm sqrt(d / (1 - mu_norm^2)). The mixture's symmetry makes the y = 0 case identical.
    """
    k = mu_norm * np.sqrt(d / (1 - mu_norm**2))
    a_g, a_p, rho = k * np.cos(tg), k * np.cos(tp), np.cos(t)
    phi2 = multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf
    p = norm.cdf(-a_g)
    phi = phi2([a_p, a_g]) / norm.cdf(a_g)  # P(U_p > -a_p, U_g > -a_g) / P(U_g > -a_g)
    psi = phi2([-a_p, -a_g]) / norm.cdf(-a_g)  # P(U_p < -a_p, U_g < -a_g) / P(U_g < -a_g)
    return p, phi, psi


@pytest.mark.parametrize("angles", [(0.9, 0.4, 0.7), (1.3, 0.6, 1.9), (0.5, 1.2, 0.9), (1.0, 0.0, 1.0)])
def test_sample_supervised_pruning_rates(angles):
    d, mu_norm, n = 20, 0.25, 300_000
    p, phi, psi = supervised_reference(d, mu_norm, *angles)
    y, ys, q = sample_supervised_pruning(n, d=d, mu_norm=mu_norm, theta_gen=angles[0],
                                         theta_prune=angles[1], theta=angles[2],
                                         rng=np.random.default_rng(7))
    assert y.dtype == ys.dtype == q.dtype == np.int8
    assert_within_se(np.mean(ys != y), p, np.sqrt(p * (1 - p) / n))
    right, wrong = ys == y, ys != y
    assert_within_se(q[right].mean(), phi, np.sqrt(phi * (1 - phi) / right.sum()))
    assert_within_se(q[wrong].mean(), psi, np.sqrt(psi * (1 - psi) / wrong.sum()))
    for k in (0, 1):  # symmetric pruner: phi_0 = phi_1, psi_01 = psi_10
        cell = right & (y == k)
        assert_within_se(q[cell].mean(), phi, np.sqrt(phi * (1 - phi) / cell.sum()))


@pytest.mark.parametrize("angles", [(0.9, 0.4, 0.7), (2.0, 0.7, 1.6)])
def test_sample_supervised_pruning_isotropic_rates(angles):
    """Isotropic data (Sec. 3.4): each cell is an orthant probability of three Gaussian projections,
    P(u.x > 0, v.x > 0, w.x > 0) = (2 pi - sum of the three pairwise angles) / (4 pi)."""
    tg, tp, t = angles
    n = 300_000
    y, ys, q = sample_supervised_pruning(n, d=7, mu_norm=0.6, theta_gen=tg, theta_prune=tp, theta=t,
                                         rng=np.random.default_rng(9), data="isotropic")
    both_positive = lambda a: (np.pi - a) / (2 * np.pi)  # noqa: E731  P(u.x > 0, v.x > 0), angle a
    p = tg / np.pi
    phi = (2 * np.pi - tg - tp - t) / (4 * np.pi) / both_positive(tg)  # y = y' = 1 and kept
    # y = 1, y' = 0 and kept (x.w_prune < 0): angles to -w_gen and -w_prune
    psi = (2 * np.pi - (np.pi - tg) - (np.pi - tp) - t) / (4 * np.pi) / (tg / (2 * np.pi))
    assert_within_se(np.mean(y), 0.5, np.sqrt(0.25 / n))
    assert_within_se(np.mean(ys != y), p, np.sqrt(p * (1 - p) / n))
    for k in (0, 1):  # the isotropic law is symmetric in the two classes too
        right, wrong = (y == k) & (ys == k), (y == k) & (ys != k)
        assert_within_se(q[right].mean(), phi, np.sqrt(phi * (1 - phi) / right.sum()))
        assert_within_se(q[wrong].mean(), psi, np.sqrt(psi * (1 - psi) / wrong.sum()))


def test_supervised_dataset_matches_reference_rates():
    """The full-X sampler (used to fit) has the same label law as the O(n) one."""
    d, mu_norm, n, angles = 30, 0.3, 60_000, (1.1, 0.5, 1.2)
    p, phi, psi = supervised_reference(d, mu_norm, *angles)
    X, y, ys, q = sample_supervised_dataset(n, d=d, mu_norm=mu_norm, theta_gen=angles[0],
                                            theta_prune=angles[1], theta=angles[2],
                                            rng=np.random.default_rng(8))
    assert X.shape == (n, d)
    assert_within_se(np.mean(ys != y), p, np.sqrt(p * (1 - p) / n))
    right, wrong = ys == y, ys != y
    assert_within_se(q[right].mean(), phi, np.sqrt(phi * (1 - phi) / right.sum()))
    assert_within_se(q[wrong].mean(), psi, np.sqrt(psi * (1 - psi) / wrong.sum()))


@pytest.mark.parametrize("angles", [(1.1, 0.5, 1.2), (2.0, 0.4, 2.3)])
def test_isotropic_dataset_matches_orthant_rates(angles):
    """x ~ N(0, I/d), true label 1[x.mu > 0]: p = theta_gen/pi and, by Plackett's trivariate orthant
    formula P(U>0, V>0, W>0) = 1/8 + (asin r12 + asin r13 + asin r23)/(4 pi),
    phi = (2 pi - tg - tp - t) / (2 (pi - tg)), psi = (tg + tp - t) / (2 tg)."""
    tg, tp, t = angles
    n = 60_000
    X, y, ys, q = sample_supervised_dataset(n, d=10, mu_norm=0.5, theta_gen=tg, theta_prune=tp, theta=t,
                                            rng=np.random.default_rng(9), data="isotropic")
    p = tg / np.pi
    phi = (2 * np.pi - tg - tp - t) / (2 * (np.pi - tg))
    psi = (tg + tp - t) / (2 * tg)
    assert_within_se(np.mean(ys != y), p, np.sqrt(p * (1 - p) / n))
    right, wrong = ys == y, ys != y
    assert_within_se(q[right].mean(), phi, np.sqrt(phi * (1 - phi) / right.sum()))
    assert_within_se(q[wrong].mean(), psi, np.sqrt(psi * (1 - psi) / wrong.sum()))


@pytest.mark.parametrize("call, match", [
    (lambda: sample_gaussian_mixture(10, d=3, mu_norm=1.2, rng=np.random.default_rng()), "mu_norm"),
    (lambda: sample_gaussian_mixture(-1, d=3, mu_norm=0.2, rng=np.random.default_rng()), "n must"),
    (lambda: sample_gaussian_mixture(10, d=3, mu_norm=0.2, rng=0), "rng"),
    (lambda: flip_labels(np.zeros(3), 1.5, rng=np.random.default_rng()), "p must"),
    (lambda: rlhf_prune(np.zeros(3), np.zeros(3), phi=1.2, psi=0, rng=np.random.default_rng()), "phi"),
    (lambda: rlhf_prune(np.zeros(3), np.full(3, 2), phi=1, psi=0, rng=np.random.default_rng()), "y_syn"),
    (lambda: sample_supervised_pruning(10, d=2, mu_norm=0.2, theta_gen=1, theta_prune=1, theta=1,
                                       rng=np.random.default_rng()), "d must"),
])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
