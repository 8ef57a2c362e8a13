"""fit_ridge_logistic against scipy.optimize and against an independent numpy gradient of eq. (1)."""

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from beyond_collapse.numerics import ConvergenceError, fit_ridge_logistic


def _mixture(n, d, noise, seed):
    rng = np.random.default_rng(seed)
    mu = np.zeros(d)
    mu[0] = 0.6
    y = rng.integers(0, 2, n)
    X = rng.standard_normal((n, d)) * np.sqrt((1 - mu @ mu) / d) + np.outer(2 * y - 1, mu)
    flip = rng.random(n) < noise
    return X, np.where(flip, 1 - y, y).astype(float)


def _objective(w, X, y, q, lam):
    """Eq. (1) written directly with scipy.special (independent of the numba kernel)."""
    z = X @ w
    bce = -(y * log_expit(z) + (1 - y) * log_expit(-z))
    return (q * bce).sum() / X.shape[0] + 0.5 * lam * w @ w


def _gradient(w, X, y, q, lam):
    return X.T @ (q * (expit(X @ w) - y)) / X.shape[0] + lam * w


def _scipy_reference(X, y, q, lam):
    """Trust-region Newton with the exact Hessian, converged far below the tolerances tested."""
    def hess(w, X, y, q, lam):
        s = q * expit(X @ w) * expit(-(X @ w))
        return (X * s[:, None]).T @ X / X.shape[0] + lam * np.eye(X.shape[1])

    res = minimize(_objective, np.zeros(X.shape[1]), args=(X, y, q, lam), jac=_gradient, hess=hess,
                   method="trust-exact", options={"gtol": 1e-13})
    return res.x


@pytest.mark.parametrize(
    "n,d,lam,noise,weighted",
    [
        (300, 4, 1e-2, 0.3, False),
        (500, 20, 1e-4, 0.1, True),
        (8_000, 40, 1e-3, 0.3, False),  # large enough that the Hessian uses a strided subsample
        (8_000, 40, 1e-3, 0.3, True),
        (50, 80, 1e-3, 0.0, False),  # d > N and separable: the ridge alone keeps w finite
    ],
)
def test_matches_scipy_trust_exact(n, d, lam, noise, weighted):
    X, y = _mixture(n, d, noise, seed=n + d)
    rng = np.random.default_rng(1)
    q = rng.integers(0, 2, n).astype(float) * rng.uniform(0.5, 2.0, n) if weighted else np.ones(n)
    w = fit_ridge_logistic(X, y, lam, weights=q if weighted else None, tol=1e-10)
    assert np.linalg.norm(_gradient(w, X, y, q, lam)) <= 1e-10 * (1 + 1e-6)
    w_ref = _scipy_reference(X, y, q, lam)
    # |w - w*| <= |grad| / lam (strong convexity), so both sit within 1e-10/lam of w*
    np.testing.assert_allclose(w, w_ref, rtol=0, atol=2e-10 / lam + 1e-12)


def test_sorted_rows_and_mostly_zero_weights_converge():
    # Rows sorted by label, 90% zero weights, tiny lam: the strided subsample Hessian is a poor
    # preconditioner here, so the solver must enlarge it rather than crawl or give up.
    X, y = _mixture(30_000, 40, 0.2, seed=9)
    order = np.argsort(y, kind="stable")
    X, y = np.ascontiguousarray(X[order]), y[order]
    q = (np.random.default_rng(2).random(y.size) < 0.1) * 2.5
    w = fit_ridge_logistic(X, y, 1e-5, weights=q, tol=1e-9, max_iter=60)
    assert np.linalg.norm(_gradient(w, X, y, q, 1e-5)) <= 1e-9 * (1 + 1e-6)


def test_zero_weights_equal_dropping_rows_with_n_counting_all_rows():
    X, y = _mixture(400, 6, 0.2, seed=3)
    q = (np.arange(400) % 3 != 0).astype(float)
    w = fit_ridge_logistic(X, y, 1e-2, weights=q, tol=1e-12)
    # eq. (1) with q in {0,1} on all N rows = kept rows only with lam scaled by N / N_kept
    keep = q == 1
    w_kept = fit_ridge_logistic(X[keep], y[keep], 1e-2 * 400 / keep.sum(), tol=1e-12)
    np.testing.assert_allclose(w, w_kept, rtol=0, atol=1e-9)


def test_convergence_error_carries_iterations_and_gradient():
    X, y = _mixture(2000, 10, 0.3, seed=5)
    with pytest.raises(ConvergenceError) as info:
        fit_ridge_logistic(X, y, 1e-4, tol=1e-14, max_iter=1, w0=np.zeros(10))
    assert info.value.iterations == 1
    assert info.value.grad_norm == pytest.approx(np.linalg.norm(_gradient(np.zeros(10), X, y, np.ones(2000), 1e-4)))
    assert isinstance(info.value, ValueError)


def test_huge_margins_do_not_overflow():
    # Separable data with tiny lam: margins x.w reach hundreds, where a naive exp overflows.
    X, y = _mixture(200, 3, 0.0, seed=7)
    X *= 50
    w = fit_ridge_logistic(X, y, 1e-6, tol=1e-9)
    assert np.all(np.isfinite(w))
    assert np.linalg.norm(_gradient(w, X, y, np.ones(200), 1e-6)) <= 1e-9 * (1 + 1e-6)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(lam=0.0), "lam must be finite and lie in"),
        (dict(lam=1e-3, tol=-1.0), "tol must be finite"),
        (dict(lam=1e-3, weights=-np.ones(10)), "weights must be finite"),
        (dict(lam=1e-3, weights=np.ones(9)), "weights must have shape"),
        (dict(lam=1e-3, max_iter=0), "max_iter must be"),
    ],
)
def test_bad_parameters_raise(kwargs, match):
    X, y = _mixture(10, 2, 0.0, seed=0)
    with pytest.raises(ValueError, match=match):
        fit_ridge_logistic(X, y, **kwargs)


def test_bad_data_raise():
    X, y = _mixture(10, 2, 0.0, seed=0)
    with pytest.raises(ValueError, match="y must lie in"):
        fit_ridge_logistic(X, y + 2, 1e-3)
    with pytest.raises(ValueError, match="y must have shape"):
        fit_ridge_logistic(X, y[:5], 1e-3)
    with pytest.raises(ValueError, match="2-D"):
        fit_ridge_logistic(X[:, 0], y, 1e-3)
    X[3, 1] = np.inf
    with pytest.raises(ValueError, match="finite"):
        fit_ridge_logistic(X, y, 1e-3)


@pytest.mark.parametrize("lam,weighted", [(1e-3, False), (1e-4, True)])
def test_d300_strided_quasi_newton_matches_scipy(lam, weighted, monkeypatch):
    # d = 300, N = 6000, with the Hessian subsample's floor lowered from 20d to ~4d rows (as at
    # d = 1000): the full-data iterations are the preconditioned L-BFGS ones of d = 1000, N >= 1e5.
    from beyond_collapse.numerics import logistic

    monkeypatch.setattr(logistic, "_HESS_MIN_WORK", 10**8)
    n, d = 6000, 300
    X, y = _mixture(n, d, 0.3, seed=11)
    rng = np.random.default_rng(4)
    q = (rng.random(n) < 0.5) * rng.uniform(0.5, 2.0, n) if weighted else np.ones(n)
    assert logistic._subsample_stride(n, d) > 2
    w = fit_ridge_logistic(X, y, lam, weights=q if weighted else None, tol=1e-10)
    assert np.linalg.norm(_gradient(w, X, y, q, lam)) <= 1e-10 * (1 + 1e-6)
    w_ref = _scipy_reference(X, y, q, lam)
    for _ in range(2):  # trust-exact may stop near 1e-10 here: polish with plain numpy Newton steps
        s = q * expit(X @ w_ref) * expit(-(X @ w_ref))
        H = (X * s[:, None]).T @ X / n + lam * np.eye(d)
        w_ref = w_ref - np.linalg.solve(H, _gradient(w_ref, X, y, q, lam))
    assert np.linalg.norm(_gradient(w_ref, X, y, q, lam)) <= 1e-12
    np.testing.assert_allclose(w, w_ref, rtol=0, atol=2e-10 / lam + 1e-12)


def test_serial_and_parallel_kernels_agree_and_cache_apart():
    # Both kernels sum in the same fixed chunk order, so they agree to the last bit; they must be
    # compiled from functions with different names, or numba's on-disk cache (keyed by name,
    # line and signature, not by the parallel flag) serves one's machine code for both.
    from beyond_collapse.numerics import logistic

    X, y = _mixture(3001, 40, 0.3, seed=12)
    q = np.random.default_rng(3).uniform(0.0, 2.0, 3001)
    w = np.random.default_rng(4).standard_normal(40) * 0.3
    f_s, g_s = logistic._loss_grad_serial(X, y, q, True, w, True)
    f_p, g_p = logistic._loss_grad_parallel(X, y, q, True, w, True)
    assert f_s == f_p and np.array_equal(g_s, g_p)
    np.testing.assert_allclose(f_s / 3001, _objective(w, X, y, q, 0.0), rtol=1e-12)
    np.testing.assert_allclose(g_s / 3001, _gradient(w, X, y, q, 0.0), rtol=0, atol=1e-14)
    assert logistic._loss_grad_serial.py_func.__qualname__ != logistic._loss_grad_parallel.py_func.__qualname__
