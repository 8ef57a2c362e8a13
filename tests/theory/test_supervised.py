"""Supervised-pruning keep rates (eq. (5); Sec. 3.4 isotropic, App. D.6 Gaussian mixture).

References: Monte Carlo of each generative process (x, y, y' = 1[x.w_gen > 0],
q = 1[(2y' - 1) x.w_prune > 0]) with tolerances of 5 standard errors, and positive
semidefiniteness of the Gram matrix (numpy.linalg.eigvalsh) for realizable angle triples.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from beyond_collapse import (
    PruningRates,
    breakdown_point,
    check_angle_triple,
    gaussian_mixture_rates,
    isotropic_rates,
    printed_gaussian_mixture_rates,
)

PI = math.pi


def _unit_vectors(theta_gen, theta_prune, theta, d):
    """mu, w_gen, w_prune (unit, in R^d) with the given pairwise angles, via a Cholesky factor."""
    c = np.cos
    gram = np.array([[1, c(theta_gen), c(theta_prune)],
                     [c(theta_gen), 1, c(theta)],
                     [c(theta_prune), c(theta), 1]])
    L = np.linalg.cholesky(gram + 1e-15 * np.eye(3))
    vecs = np.zeros((3, d))
    vecs[:, :3] = L
    return vecs


def _estimate(y, y_syn, q):
    """Monte Carlo (p, phi, psi) with standard errors."""
    correct = y == y_syn
    out = []
    for event, cond in ((~correct, np.ones_like(correct)), (q, correct), (q, ~correct)):
        n = cond.sum()
        r = event[cond].mean()
        out.append((r, math.sqrt(max(r * (1 - r), 1.0 / n) / n)))
    return out


def _assert_close(rates, estimates):
    for name, value, (est, se) in zip(("p", "phi", "psi"), (rates.p, rates.phi, rates.psi), estimates):
        assert abs(value - est) < 5 * se, f"{name}: closed form {value}, Monte Carlo {est} +- {se}"


TRIPLES = [(PI / 3, PI / 6, PI / 4), (PI / 6, PI / 12, PI / 12), (2 * PI / 3, PI / 4, 0.9 * PI), (PI / 2, PI / 2, PI / 2)]


@pytest.mark.parametrize("angles", TRIPLES)
def test_isotropic_rates_match_monte_carlo(angles):
    rng = np.random.default_rng(10)
    mu, w_gen, w_prune = _unit_vectors(*angles, d=3)
    x = rng.standard_normal((300_000, 3))  # isotropic: only the projections on the 3 vectors matter
    y = x @ mu > 0
    y_syn = x @ w_gen > 0
    q = np.where(y_syn, x @ w_prune > 0, x @ w_prune < 0)
    rates = isotropic_rates(*angles)
    _assert_close(rates, _estimate(y, y_syn, q))
    assert rates.p == pytest.approx(angles[0] / PI, rel=1e-15)  # Fig. 2: p = theta_gen / pi


realizable = st.tuples(st.floats(0.01, PI - 0.01), st.floats(0, PI), st.floats(0, 1)).map(
    lambda a: (a[0], a[1], abs(a[0] - a[1]) + a[2] * (min(a[0] + a[1], 2 * PI - a[0] - a[1]) - abs(a[0] - a[1]))))


@given(realizable)
def test_isotropic_breakdown_iff_angles_sum_below_pi(angles):
    # Derived in supervised.py: p < p* iff theta_gen + theta_prune < pi, whatever theta is.
    tg, tp, t = angles
    rates = isotropic_rates(tg, tp, t)
    assert 0 <= rates.psi <= 1 and 0 <= rates.phi <= 1
    if abs(tg + tp - PI) > 1e-9 and rates.phi + rates.psi > 0:
        assert rates.below_breakdown == (tg + tp < PI)


@given(st.floats(0, PI), st.floats(0, PI), st.floats(0, PI))
def test_angle_triple_accepted_iff_gram_matrix_psd(tg, tp, t):
    c = np.cos
    gram = np.array([[1, c(tg), c(tp)], [c(tg), 1, c(t)], [c(tp), c(t), 1]])
    psd = np.linalg.eigvalsh(gram).min() >= -1e-9
    try:
        check_angle_triple(tg, tp, t)
        accepted = True
    except ValueError:
        accepted = False
    min_gap = min(abs(t - abs(tg - tp)), abs(t - tg - tp), abs(t - (2 * PI - tg - tp)))
    if min_gap > 1e-6:  # away from the boundary where rounding decides
        assert accepted == psd


def test_angle_triple_messages_say_why():
    with pytest.raises(ValueError, match="triangle inequality"):
        check_angle_triple(0.1, 0.2, 1.0)
    with pytest.raises(ValueError, match=r"sum to at most 2 pi"):
        check_angle_triple(3.0, 3.0, 1.0)
    with pytest.raises(ValueError, match=r"theta must lie in \[0, 3.14159\]"):
        check_angle_triple(0.1, 0.2, 4.0)
    with pytest.raises(ValueError, match=r"theta_gen must lie in \(0, 3.14159\)"):
        isotropic_rates(0.0, 0.3, 0.3)


def _mixture_sample(mu_norm, d, angles, n, rng, variance):
    mu, w_gen, w_prune = _unit_vectors(*angles, d=d)
    y = rng.random(n) < 0.5
    x = np.where(y[:, None], 1.0, -1.0) * (mu_norm * mu) + math.sqrt(variance) * rng.standard_normal((n, d))
    y_syn = x @ w_gen > 0
    q = np.where(y_syn, x @ w_prune > 0, x @ w_prune < 0)
    return x, y, y_syn, q


@pytest.mark.parametrize("mu_norm, d, angles", [
    (0.5, 20, (PI / 3, PI / 6, PI / 4)),
    (0.3, 10, (2 * PI / 5, PI / 2, PI / 3)),
    (0.2, 8, (PI / 2, PI / 2, PI / 2)),
])
def test_gaussian_mixture_rates_match_monte_carlo(mu_norm, d, angles):
    # App. D.6 with E|x|^2 = 1: per-coordinate variance (1 - |mu|^2) / d.
    rng = np.random.default_rng(11)
    x, y, y_syn, q = _mixture_sample(mu_norm, d, angles, 200_000, rng, (1 - mu_norm**2) / d)
    assert np.mean(np.sum(x * x, axis=1)) == pytest.approx(1.0, rel=0.01)
    rates = gaussian_mixture_rates(mu_norm, d, *angles)
    _assert_close(rates, _estimate(y, y_syn, q))
    assert rates.p_star == pytest.approx(breakdown_point(rates.phi, rates.psi), rel=1e-15)


def test_printed_app_d6_forms_disagree_with_simulation():
    """docs/ERRATA.md, Section 3 and Appendix D: printed psi (a union, not an intersection) and c."""
    # (a) At c1 = c2 = 0, theta = pi/2 the printed psi is (1/2 + 1/2 - 1/4) / (1/2) = 1.5 > 1.
    _, _, psi_printed = printed_gaussian_mixture_rates(0.5, 100, PI / 2, PI / 2, PI / 2)
    assert psi_printed == pytest.approx(1.5, rel=1e-14)
    # (b) Simulating the printed model (variance 1 / ((1 - |mu|^2) d)) gives E|x|^2 != 1, and the
    # printed psi is far from the simulated one even in the printed model's own geometry.
    mu_norm, d, angles = 0.5, 20, (PI / 3, PI / 6, PI / 4)
    rng = np.random.default_rng(12)
    x, y, y_syn, q = _mixture_sample(mu_norm, d, angles, 200_000, rng, 1 / ((1 - mu_norm**2) * d))
    assert np.mean(np.sum(x * x, axis=1)) > 1.5  # |mu|^2 + 1/(1 - |mu|^2) = 1.583
    (p_mc, p_se), _, (psi_mc, psi_se) = _estimate(y, y_syn, q)
    p_printed, _, psi_printed = printed_gaussian_mixture_rates(mu_norm, d, *angles)
    assert abs(p_printed - p_mc) < 5 * p_se          # printed c matches the printed variance ...
    assert abs(psi_printed - psi_mc) > 50 * psi_se   # ... but the printed psi does not
    # (c) Under E|x|^2 = 1 the corrected rates match (test above) and the printed p does not.
    x, y, y_syn, q = _mixture_sample(mu_norm, d, angles, 200_000, rng, (1 - mu_norm**2) / d)
    (p_mc, p_se), _, _ = _estimate(y, y_syn, q)
    assert abs(p_printed - p_mc) > 50 * p_se


def test_pruning_rates_fields_and_broadcasting():
    rates = isotropic_rates(np.array([PI / 6, PI / 3]), PI / 6, PI / 6)
    assert isinstance(rates, PruningRates)
    assert rates.kept.shape == (2, 2, 2)
    np.testing.assert_allclose(rates.kept_fraction, rates.kept.sum(axis=(-2, -1)))
    # Kept fraction = (1 - p) phi + p psi (eq. (14) summed over k, l).
    np.testing.assert_allclose(rates.kept_fraction, (1 - rates.p) * rates.phi + rates.p * rates.psi, rtol=1e-14)
    d = rates.to_dict()
    assert set(d) >= {"p", "phi", "psi", "p_star"} and len(d["p"]) == 2
    with pytest.raises(ValueError, match=r"mu_norm must lie in \[0, 1\)"):
        gaussian_mixture_rates(1.0, 10, PI / 3, PI / 6, PI / 4)
    with pytest.raises(ValueError, match="d must be finite"):
        gaussian_mixture_rates(0.5, 0, PI / 3, PI / 6, PI / 4)
    # c_gen = -0.9 sqrt(1e4 / 0.19) = -206: Phi(c_gen) underflows and psi is undefined.
    with pytest.raises(ValueError, match="underflows"):
        gaussian_mixture_rates(0.9, 1e4, 0.0, 0.0, 0.0)


def test_isotropic_breakdown_boundary_is_exact():
    """On theta_gen + theta_prune = pi, p = p* exactly (p psi - (1 - p) phi = (tg + tp - pi) / pi), so
    below_breakdown is False however the products round (before: True in 349 of 995 such triples)."""
    import math

    import numpy as np

    from beyond_collapse.theory import isotropic_rates

    for k in range(1, 200, 7):
        tg = math.pi * k / 200
        tp = math.pi - tg
        for t in np.linspace(abs(tg - tp) + 1e-9, min(tg + tp, 2 * math.pi - tg - tp) - 1e-9, 5):
            assert not isotropic_rates(tg, tp, t).below_breakdown
            assert isotropic_rates(tg - 1e-9, tp, t).below_breakdown
