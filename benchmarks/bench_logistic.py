"""fit_ridge_logistic against scikit-learn's LogisticRegression (lbfgs), same objective and tolerance.

Problem (issue 4, part 3): balanced Gaussian mixture, N = 1e6, d = 100, means +-mu with |mu|^2 = 0.25,
E|x|^2 = 1, 30% of labels flipped, lam = 1e-3, eq. (1). scikit-learn's objective with
C = 1 / (N lam) and fit_intercept=False is the same function (it divides its loss by N).
Tolerances: sklearn's tol bounds the max-norm of the gradient, ours the Euclidean norm (stricter).

Second case (d = 1000): the same problem with N = 2e5, d = 1000 (mu, |mu|^2, noise, lam, tol unchanged).

Run: .venv/bin/python benchmarks/bench_logistic.py [--sizes 1000000x100,200000x1000] [--repeats 3]
Prints one table per NxD case: times (best of --repeats for ours, of --sk-repeats for sklearn, the two
alternating), full-data passes, gradient norms measured by an independent numpy computation, relative
difference of solutions (target <= 1e-6), ratio, and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from scipy.special import expit

from beyond_collapse.numerics import fit_ridge_logistic
from beyond_collapse.numerics import logistic as logistic_module


def make_problem(n, d, noise, seed):
    rng = np.random.default_rng(seed)
    mu = np.zeros(d)
    mu[0] = 0.5
    y = rng.integers(0, 2, n)
    X = rng.standard_normal((n, d))
    X *= np.sqrt((1 - mu @ mu) / d)
    X[:, 0] += np.where(y == 1, mu[0], -mu[0])
    flip = rng.random(n) < noise
    return X, np.where(flip, 1 - y, y).astype(np.float64)


def numpy_gradient(X, y, w, lam):
    return X.T @ (expit(X @ w) - y) / X.shape[0] + lam * w


def parse_sizes(text):
    """'1000000x100,200000x1000' -> [(1000000, 100), (200000, 1000)]."""
    sizes = []
    for item in text.split(","):
        n, d = item.lower().split("x")
        sizes.append((int(float(n)), int(d)))
    return sizes


def run_case(n, d, args):
    """One side-by-side comparison at (n, d); prints its table."""
    from sklearn.linear_model import LogisticRegression

    X, y = make_problem(n, d, 0.3, seed=0)
    fit_ridge_logistic(X[:5000], y[:5000], args.lam)  # compile the numba kernels outside the timing
    fit_ridge_logistic(X[: min(n, 200_000)], y[: min(n, 200_000)], args.lam)
    load_before = os.getloadavg()

    t = time.perf_counter()
    z = X @ np.zeros(d)
    X.T @ (z - y)
    t_pass = time.perf_counter() - t

    calls = [0]
    orig = logistic_module._loss_grad

    def counted(X_, *rest, **kw):
        if X_.shape[0] == X.shape[0]:
            calls[0] += 1
        return orig(X_, *rest, **kw)

    # ours and sklearn alternate, so that a change in the machine's load hits both sides
    ours, sk = [], []
    for rep in range(max(args.repeats, args.sk_repeats)):
        if rep < args.repeats:
            logistic_module._loss_grad = counted
            calls[0] = 0
            t = time.perf_counter()
            w = fit_ridge_logistic(X, y, args.lam, tol=args.tol)
            ours.append(time.perf_counter() - t)
            logistic_module._loss_grad = orig
            passes = calls[0]
        if rep < args.sk_repeats:
            m = LogisticRegression(C=1.0 / (n * args.lam), fit_intercept=False, solver="lbfgs",
                                   tol=args.tol, max_iter=10_000)
            t = time.perf_counter()
            m.fit(X, y)
            sk.append(time.perf_counter() - t)
    w_sk = m.coef_.ravel()
    load_after = os.getloadavg()

    g_ours = numpy_gradient(X, y, w, args.lam)
    g_sk = numpy_gradient(X, y, w_sk, args.lam)
    rel = np.linalg.norm(w - w_sk) / np.linalg.norm(w_sk)
    print(f"\nN = {n}, d = {d}, lam = {args.lam:g}, tol = {args.tol:g}; one numpy pass "
          f"(X @ w, X.T @ r) = {t_pass * 1e3:.0f} ms; load average before {load_before}, after {load_after}")
    print(f"{'solver':<28}{'best s':>9}{'median s':>10}{'passes':>8}{'|grad|_2':>11}{'|grad|_inf':>12}")
    print(f"{'fit_ridge_logistic':<28}{min(ours):>9.3f}{np.median(ours):>10.3f}{passes:>8d}"
          f"{np.linalg.norm(g_ours):>11.2e}{np.abs(g_ours).max():>12.2e}")
    print(f"{'sklearn lbfgs':<28}{min(sk):>9.3f}{np.median(sk):>10.3f}{int(m.n_iter_[0]):>8d}"
          f"{np.linalg.norm(g_sk):>11.2e}{np.abs(g_sk).max():>12.2e}")
    # |w - w*| <= |grad L(w)| / lam (strong convexity): the bound says how far apart the two may be
    bound = (np.linalg.norm(g_ours) + np.linalg.norm(g_sk)) / args.lam / np.linalg.norm(w_sk)
    print(f"relative difference |w - w_sk| / |w_sk| = {rel:.2e} ({'within' if rel <= 1e-6 else 'ABOVE'} 1e-6; "
          f"strong-convexity bound from the two gradients {bound:.1e})")
    print(f"speed-up (best / best) = {min(sk) / min(ours):.2f}x; (median / median) = "
          f"{np.median(sk) / np.median(ours):.2f}x")
    del X


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000x100,200000x1000",
                    help="comma-separated NxD cases, one table each (1000000x1000 needs 8 GB for X)")
    ap.add_argument("--lam", type=float, default=1e-3)
    ap.add_argument("--tol", type=float, default=1e-10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sk-repeats", type=int, default=2)
    args = ap.parse_args()
    for n, d in parse_sizes(args.sizes):
        run_case(n, d, args)
    print("\n(sklearn's 'passes' column is its iteration count; each iteration makes >= 1 function+gradient call)")


if __name__ == "__main__":
    main()
