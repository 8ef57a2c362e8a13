"""solve_kkt (eq. (31)) against scipy.optimize.root, actual ridge-logistic fits on exact
Condition D.1 data, and the gamma -> infinity expansion."""

import numpy as np
import pytest
from scipy.optimize import root

from beyond_collapse.numerics import condition_d1_dataset, fit_ridge_logistic, kkt_residual, solve_kkt


def _eq31(v, n11, n10, n01, n00, a, b, gamma):
    return kkt_residual(v, [n11, n10, n01, n00], a, b, gamma)


def _cases():
    rng = np.random.default_rng(2024)
    cases = []
    for _ in range(60):
        a = rng.uniform(0, 0.95)
        b = a * rng.choice([-1.0, 0.0, rng.uniform(-1, 1), 1.0])
        counts = rng.integers(0, 40, 4) * (rng.random(4) > 0.15)  # some zero counts
        cases.append((*counts.astype(float), a, b, 10 ** rng.uniform(-1, 2.5)))
    return np.array(cases)


def test_matches_scipy_root_vectorised():
    cases = _cases()
    sol = solve_kkt(*cases.T)  # one vectorised call over all draws
    got = np.stack([sol.A, sol.B, sol.C, sol.D], axis=1)
    for case, g in zip(cases, got):
        ref = root(_eq31, np.full(4, 0.5 / case[-1]), args=tuple(case), method="hybr", tol=1e-14)
        # hybr's own residual certifies its answer (its success flag also trips on "xtol too small")
        # rounding level of eq. (31): eps times the size of the sigmoid arguments (N_kl * A ...)
        level = 8 * np.finfo(float).eps * (1 + case[:4].sum() * np.max(np.abs(ref.x)))
        assert np.max(np.abs(_eq31(ref.x, *case))) <= level, case
        np.testing.assert_allclose(g, ref.x, rtol=1e-11, err_msg=str(case))
        assert np.max(np.abs(_eq31(g, *case))) <= level


@pytest.mark.parametrize("a,b", [(0.3, -0.3), (0.3, 0.0), (0.4, 0.15), (0.25, -0.1)])
@pytest.mark.parametrize("gamma", [0.7, 6.0])
def test_matches_ridge_logistic_fit_on_condition_d1_data(a, b, gamma):
    # N11, N10, N01, N00 kept, plus 5 pruned rows: alpha must be A, -B, C, -D on kept rows, 0 else
    counts = {(1, 1): 9, (1, 0): 4, (0, 1): 3, (0, 0): 7}
    y, yn, q = [], [], []
    for (k, l), m in counts.items():
        y += [k] * m
        yn += [l] * m
        q += [1.0] * m
    y += [1, 0, 1, 0, 1]
    yn += [0, 0, 1, 1, 1]
    q += [0.0] * 5
    y, yn, q = np.array(y), np.array(yn, float), np.array(q)
    X = condition_d1_dataset(y, a, b)
    n = y.size
    w = fit_ridge_logistic(X, yn, gamma / n, weights=q, tol=1e-13)
    alpha = np.linalg.solve(X @ X.T, X @ w)  # w = X^T alpha; the Gram matrix is invertible
    sol = solve_kkt(counts[1, 1], counts[1, 0], counts[0, 1], counts[0, 0], a, b, gamma)
    expected = np.select(
        [(q == 1) & (y == 1) & (yn == 1), (q == 1) & (y == 1) & (yn == 0),
         (q == 1) & (y == 0) & (yn == 1), (q == 1) & (y == 0) & (yn == 0)],
        [sol.A, -sol.B, sol.C, -sol.D], 0.0)
    # |w - w*| <= tol / lam; alpha inherits it through the Gram inverse (eigenvalues >= 1 - a)
    np.testing.assert_allclose(alpha, expected, rtol=0, atol=1e-13 * n / gamma / (1 - a) * 10)
    # eq. (41): accuracy of the fit on the kept rows against the true labels
    kept = q == 1
    fit_acc = np.mean(((X[kept] @ w) > 0) == (y[kept] == 1))
    assert fit_acc == pytest.approx(sol.train_accuracy, abs=1e-15)
    # a fresh point of each class obeying Condition D.1 with the training rows
    y_fresh = np.append(y, [1, 0])
    X_fresh = condition_d1_dataset(y_fresh, a, b)
    w_big = np.append(w, np.zeros(2))  # the fresh rows' private axes are orthogonal to w
    np.testing.assert_allclose(X_fresh[-2:] @ w_big, [sol.margin1, sol.margin0], rtol=0, atol=1e-12 * n / gamma)


def test_large_gamma_matches_first_order_expansion_and_zero_counts():
    # As gamma -> inf, gamma A .. gamma D -> 1/2, so a s + b t -> (a (N11 - N10) + b (N01 - N00)) / (2 gamma)
    # with relative corrections O(N / gamma) = 1e-9 here.
    n = np.array([[60, 20, 15, 50], [0, 3, 0, 0], [0, 0, 0, 0], [7, 0, 0, 9]], float)
    a, b, gamma = 0.35, -0.2, 1e12
    sol = solve_kkt(*n.T, a, b, gamma)
    u1 = (a * (n[:, 0] - n[:, 1]) + b * (n[:, 2] - n[:, 3])) / (2 * gamma)
    u0 = (b * (n[:, 0] - n[:, 1]) + a * (n[:, 2] - n[:, 3])) / (2 * gamma)
    np.testing.assert_allclose(sol.margin1, u1, rtol=1e-8, atol=1e-300)
    np.testing.assert_allclose(sol.margin0, u0, rtol=1e-8, atol=1e-300)
    for x in (sol.A, sol.B, sol.C, sol.D):
        np.testing.assert_allclose(x * gamma, 0.5, rtol=1e-9)
    assert np.isnan(sol.train_accuracy[2]) and np.all(np.isfinite(sol.train_accuracy[[0, 1, 3]]))


def test_huge_counts_and_tiny_gamma_are_finite_and_satisfy_eq31():
    n = np.array([[7e8, 1e8, 1.2e8, 6.9e8], [1e9, 0, 0, 1e9], [3, 1, 0, 2]])
    for gamma in (1e-6, 1e3, 1e12):
        sol = solve_kkt(*n.T, 0.3, -0.2, gamma)
        for i, case in enumerate(n):
            v = np.array([sol.A[i], sol.B[i], sol.C[i], sol.D[i]])
            assert np.all(np.isfinite(v)) and np.all(v >= 0) and np.all(v <= 1 / gamma)
            # eq. (31) residuals relative to gamma * (A..D) <= 1 and to the sizes that cancel
            scale = 1 + (1 - 0.3) / gamma + 0.5 * case.sum() / gamma
            assert np.max(np.abs(_eq31(v, *case, 0.3, -0.2, gamma))) <= 1e-13 * scale


def _mp_solution(n11, n10, n01, n00, a, b, gamma, start):
    """eq. (31) in logit unknowns, solved by mpmath.findroot at 60 digits from a given start."""
    import mpmath as mp

    mp.mp.dps = 60
    a, b, g = mp.mpf(a), mp.mpf(b), mp.mpf(gamma)
    R = 1 - a
    sig = lambda z: 1 / (1 + mp.exp(-z))  # noqa: E731

    def F(ya, yb, yc, yd):
        A, B, C, D = (sig(y) / g for y in (ya, yb, yc, yd))
        s, t = n11 * A - n10 * B, n01 * C - n00 * D
        u1, u0 = a * s + b * t, b * s + a * t
        return [ya + u1 + R * A, yb - u1 + R * B, yc + u0 + R * C, yd - u0 + R * D]

    y = mp.findroot(F, [mp.log(v * g / (1 - v * g)) for v in start])
    return [float(sig(v) / g) for v in y]


@pytest.mark.parametrize(
    "case",
    [
        (0.0, 1.0, 0.0, 1.21873938e8, 0.557267228545724, 0.278633614272862, 0.010383086044113232),
        (0.0, 16.0, 0.0, 7.50894927e8, 0.9148100373957528, 0.9148100373957528, 6.4996483062566214e-06),
        (0.0, 6.97743181e8, 5.3472492e7, 298.0, 0.012097864625793426, 0.006048932312896713, 0.06356336238037394),
    ],
)
def test_extreme_count_to_gamma_ratios_match_mpmath(case):
    # N / gamma up to 1e14 and counts 1 : 1e8: Newton ping-pongs between a sigmoid's flat ends
    # and sums of huge, nearly cancelling terms appear; found by a random sweep, each once wrong
    # (relative errors 1e-6 .. 1e-2) before the solver was made robust to them.
    sol = solve_kkt(*case)
    got = [sol.A, sol.B, sol.C, sol.D]
    np.testing.assert_allclose(got, _mp_solution(*case, got), rtol=1e-13)


def test_prop_e3_holds_for_fresh_points_but_training_accuracy_needs_margin_r_over_a():
    # Symmetric case b = -a at large gamma: the fresh-point classifier is perfect iff the kept
    # right count P = N11 + N00 exceeds the kept wrong count Q = N10 + N01 (Prop. E.3), but eq. (41)
    # (accuracy on the kept training rows) needs P - Q > (1 - a) / a: each row's private
    # direction (weight R = 1 - a in the Gram matrix) lets the fit memorise its noisy label.
    # Checked against an actual fit in test_matches_ridge_logistic_fit_on_condition_d1_data's
    # machinery below and recorded in docs/ERRATA.md.
    a = 0.25  # (1 - a) / a = 3
    for p_minus_q, train_ok in [(1, False), (2, False), (4, True), (6, True)]:
        n11, n10, n01, n00 = 10 + p_minus_q, 5, 5, 0  # P - Q = p_minus_q
        sol = solve_kkt(n11, n10, n01, n00, a, -a, 1e6)
        assert sol.test_accuracy == 1.0
        assert (sol.train_accuracy == 1.0) is train_ok
    # the same with an actual ridge-logistic fit (lam = gamma / N, gamma = 1e3)
    y = np.array([1] * 12 + [1] * 5 + [0] * 5)
    yn = np.array([1] * 12 + [0] * 5 + [1] * 5, float)  # P - Q = 2 < 3
    X = condition_d1_dataset(y, a, -a)
    w = fit_ridge_logistic(X, yn, 1e3 / y.size, tol=1e-14)
    train_acc = np.mean(((X @ w) > 0) == (y == 1))
    assert train_acc == pytest.approx(solve_kkt(12, 5, 5, 0, a, -a, 1e3).train_accuracy) and train_acc < 1
    fresh = condition_d1_dataset(np.append(y, [1, 0]), a, -a)[-2:] @ np.append(w, [0, 0])
    assert fresh[0] > 0 > fresh[1]


@pytest.mark.parametrize(
    "args,match",
    [
        ((-1, 1, 1, 1, 0.3, 0.0, 1.0), "n11 must be finite"),
        ((1, 1, 1, np.inf, 0.3, 0.0, 1.0), "n00 must be finite"),
        ((1, 1, 1, 1, 1.0, 0.0, 1.0), "a must lie in"),
        ((1, 1, 1, 1, 0.3, -0.5, 1.0), r"\|b\| <= a"),
        ((1, 1, 1, 1, 0.3, 0.0, 0.0), "gamma must be finite"),
    ],
)
def test_bad_input_raises(args, match):
    with pytest.raises(ValueError, match=match):
        solve_kkt(*args)
