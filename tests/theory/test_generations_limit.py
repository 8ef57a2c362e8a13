"""The limit map of iterated retraining (theory.generations, docs/generations.md) against independent routes:
sympy for the effective breakdown point, brentq for the basin boundary, a sampler Monte Carlo for the
margin, and brute-force iteration for the fixed points."""

import math

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import brentq
from scipy.stats import norm

from beyond_collapse.theory import breakdown_point, limit_accuracy
from beyond_collapse.theory.generations import (
    critical_angle, effective_breakdown_point, limit_fixed_points, limit_step, limit_trajectory, margin_rate,
    mixture_error_rate, mixture_snr,
)


def test_effective_breakdown_point_is_the_root_of_the_margin_symbolically():
    p, phi, psi, a = sp.symbols("p phi psi alpha", positive=True)
    delta = (1 - a) * (p * psi - (1 - p) * phi) - a
    root = sp.solve(sp.Eq(delta, 0), p)
    assert len(root) == 1
    expected = (a + (1 - a) * phi) / ((1 - a) * (phi + psi))
    assert sp.simplify(root[0] - expected) == 0
    # the margin is increasing in p (so below the root it is negative: Bayes side)
    assert sp.simplify(sp.diff(delta, p) - (1 - a) * (phi + psi)) == 0


@pytest.mark.parametrize("phi,psi,alpha", [(1.0, 0.25, 0.0), (0.4, 1.0, 0.0), (0.4, 1.0, 0.2), (0.9, 0.7, 0.1)])
def test_effective_breakdown_point_vs_brentq_and_thm32(phi, psi, alpha):
    p_eff = effective_breakdown_point(phi, psi, alpha)
    if alpha == 0:
        assert p_eff == pytest.approx(breakdown_point(phi, psi), rel=1e-15)
    if p_eff < 1:
        root = brentq(lambda p: margin_rate(p, phi, psi, alpha), 0.0, 1.0, xtol=1e-15)
        assert root == pytest.approx(p_eff, abs=1e-12)
        assert limit_step(p_eff - 1e-6, phi, psi, alpha) == 1.0
        assert limit_step(p_eff + 1e-6, phi, psi, alpha) == 0.0


def test_limit_step_agrees_with_limit_accuracy_without_real_data():
    grid = np.linspace(0, 1, 41)
    for phi, psi in [(1.0, 0.3), (0.5, 1.0), (1.0, 1.0)]:
        np.testing.assert_array_equal(limit_step(grid, phi, psi, 0.0), limit_accuracy(grid, phi, psi))


def test_margin_rate_vs_sampler_monte_carlo():
    """Mean of (kept wrong - kept right - real) per example from the package's samplers."""
    from beyond_collapse.numerics.samplers import flip_labels, rlhf_prune

    rng = np.random.default_rng(7)
    n, p, phi, psi, alpha = 200_000, 0.35, 0.6, 0.9, 0.25
    n_real = int(alpha * n)
    y = (rng.random(n - n_real) < 0.5).astype(np.int8)
    y_syn = flip_labels(y, p, rng=rng)
    q = rlhf_prune(y, y_syn, phi=phi, psi=psi, rng=rng).astype(bool)
    per_example = np.zeros(n)
    per_example[:n - n_real] = np.where(q, np.where(y_syn != y, 1.0, -1.0), 0.0)
    per_example[n - n_real:] = -1.0
    se = per_example.std() / math.sqrt(n)
    assert abs(per_example.mean() - margin_rate(p, phi, psi, alpha)) < 4 * se


def test_mixture_error_rate_vs_sampler():
    from beyond_collapse.numerics.samplers import linear_generator, mixture_mean, sample_gaussian_mixture

    d, mu_norm, theta = 30, 0.3, 1.1
    b = mixture_snr(mu_norm, d)
    mu = mixture_mean(d, mu_norm)
    w = np.zeros(d)
    w[0], w[1] = math.cos(theta), math.sin(theta)
    X, y = sample_gaussian_mixture(100_000, mu=mu, rng=np.random.default_rng(3))
    err = np.mean(linear_generator(X, w) != y)
    p = mixture_error_rate(theta, b)
    assert abs(err - p) < 4 * math.sqrt(p * (1 - p) / X.shape[0])


@pytest.mark.parametrize("p_star", [0.1, 0.3, 0.5, 0.8])
def test_critical_angle_vs_brentq(p_star):
    b = 1.7
    root = brentq(lambda th: mixture_error_rate(th, b) - p_star, 0.0, math.pi, xtol=1e-14)
    assert critical_angle(p_star, b) == pytest.approx(root, abs=1e-10)
    assert critical_angle(norm.cdf(-b) / 2, b) == 0.0  # p* below the Bayes error: every generator flips
    assert critical_angle(0.9999, b) == math.pi


def _iterate(d0, db, df, T, mode):
    """Brute force: which side each generation's training data push to, counted one generation at a time."""
    out, total, delta = [], 0.0, d0
    for _ in range(T):
        total = total + delta if mode == "accumulate" else delta
        out.append(1.0 if total < 0 else 0.0)
        delta = db if total < 0 else df
    return out


@pytest.mark.parametrize("mode", ["replace", "accumulate"])
@pytest.mark.parametrize("d0,db,df", [(-0.1, -0.5, 0.4), (0.1, -0.5, 0.4), (0.2, -0.5, -0.07), (-0.2, 0.3, -0.13),
                                      (-0.05, 0.2, 0.3), (0.3, 0.2, -0.4)])
def test_limit_trajectory_and_fixed_points(mode, d0, db, df):
    T = 30
    traj = limit_trajectory(d0, db, df, T, mode)
    np.testing.assert_array_equal(traj.accuracy, _iterate(d0, db, df, T, mode))
    bayes_fixed, flipped_fixed = limit_fixed_points(db, df)
    acc = traj.accuracy
    if bayes_fixed and acc[0] == 1:
        assert np.all(acc == 1)
    if flipped_fixed and acc[0] == 0:
        assert np.all(acc == 0)
    if not bayes_fixed and not flipped_fixed:
        if mode == "replace":  # period-2 cycle after the first step
            assert np.all(acc[1:] != acc[:-1])
        else:  # the cumulative margin hovers at 0; time in the Bayes state -> delta_F / (delta_F - delta_B)
            assert traj.bayes_time_fraction == pytest.approx(df / (df - db))
            long = limit_trajectory(d0, db, df, 4000, mode).accuracy
            assert long.mean() == pytest.approx(traj.bayes_time_fraction, abs=2e-3)


def test_rlhf_fixed_points_follow_effective_breakdown():
    """For an RLHF verifier the Bayes state is absorbing iff Phi(-b) < p*_alpha, the flipped one iff Phi(b) > p*_alpha."""
    b = 2.0
    for phi, psi, alpha in [(1.0, 0.25, 0.0), (0.25, 1.0, 0.0), (1.0, 1.0, 0.6), (0.05, 1.0, 0.0)]:
        pb, pf = norm.cdf(-b), norm.cdf(b)
        fixed = limit_fixed_points(margin_rate(pb, phi, psi, alpha), margin_rate(pf, phi, psi, alpha))
        p_eff = effective_breakdown_point(phi, psi, alpha)
        assert fixed == (pb < p_eff, pf > p_eff)


def test_validation_names_parameters():
    with pytest.raises(ValueError, match="real_fraction"):
        margin_rate(0.2, 1, 1, 1.5)
    with pytest.raises(ValueError, match="mode"):
        limit_trajectory(-1, -1, 1, 3, "mix")
    with pytest.raises(ValueError, match="generations"):
        limit_trajectory(-1, -1, 1, 0)
    with pytest.raises(ValueError, match="phi and psi"):
        effective_breakdown_point(0, 0, 0)
