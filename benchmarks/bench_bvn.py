"""Bivariate normal CDF: beyond_collapse.theory.special.bivariate_normal_cdf against
scipy.stats.multivariate_normal.cdf, speed per evaluation and accuracy against mpmath.

Reference: Plackett's formula Phi2(h, k; rho) = Phi(h) Phi(k) + (1 / 2 pi) int_0^rho
exp(-(h^2 - 2 r h k + k^2) / (2 (1 - r^2))) / sqrt(1 - r^2) dr with mpmath.quad; the integrand is
smooth in r, and the cancellation between the two terms (hundreds of digits in the far tails with
rho < 0) is absorbed by raising the precision until it exceeds 50 digits plus the digits cancelled. (An x-integral of phi(x) Phi((k - rho x) / sqrt(1 - rho^2)) was tried
first: its integrand is concentrated within ~1/70 of the end point for rho = -0.95 and mpmath.quad
gave only ~1e-4 .. 1e-11 there.)

Run: .venv/bin/python benchmarks/bench_bvn.py
"""

from __future__ import annotations

import itertools
import math
import os
import time

import mpmath as mp
import numpy as np
from scipy.stats import multivariate_normal

from beyond_collapse.theory.special import bivariate_normal_cdf


def _plackett(h, k, rho, dps):
    mp.mp.dps = dps
    h, k, rho = mp.mpf(h), mp.mpf(k), mp.mpf(rho)
    f = lambda r: mp.exp(-(h * h - 2 * r * h * k + k * k) / (2 * (1 - r * r))) / mp.sqrt(1 - r * r)  # noqa: E731
    first = mp.ncdf(h) * mp.ncdf(k)
    return first + mp.quad(f, [0, rho]) / (2 * mp.pi), first


def reference(h, k, rho):
    """Raise the precision until it exceeds 50 digits plus the digits cancelled (a pass at too
    low a precision returns noise, which looks like less cancellation, hence the loop)."""
    dps = 60
    while True:
        value, first = _plackett(h, k, rho, dps)
        cancelled = 3 * dps if value <= 0 else max(0, int(mp.log10(first / abs(value))))
        if 50 + cancelled <= dps:
            return value
        dps = 50 + cancelled + 20


def scipy_cdf(h, k, rho):
    return multivariate_normal(mean=[0.0, 0.0], cov=[[1.0, rho], [rho, 1.0]]).cdf([h, k])


def _per_eval(fn, n_evals, repeats=3):
    """Best of ``repeats`` wall times of fn(), divided by the evaluations it does."""
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best / n_evals


def main():
    print(f"load average before: {os.getloadavg()}")
    grid_hk = [-9.0, -6.0, -3.0, -1.0, 0.0, 0.7, 2.5, 5.0]
    grid_rho = [-0.95, -0.5, 0.0, 0.3, 0.8, 0.99]
    pts = [(h, k, r) for h, k, r in itertools.product(grid_hk, grid_hk, grid_rho) if h <= k]
    hs, ks, rs = (np.array(v) for v in zip(*pts))
    rng = np.random.default_rng(0)
    bulk = (rng.standard_normal(20_000), rng.standard_normal(20_000), rng.uniform(-0.99, 0.99, 20_000))
    bivariate_normal_cdf(hs, ks, rs)  # compile
    bivariate_normal_cdf(0.1, 0.2, 0.3)

    # Per evaluation, in microseconds: ours vectorised and in scalar calls with Python floats (the
    # rates' use), against scipy with a new distribution per call (needed when rho varies).
    rows = []
    for name, (h, k, r) in (("bulk: h, k ~ N(0,1), rho ~ U(-0.99, 0.99)", bulk), ("tail grid (below)", (hs, ks, rs))):
        H, K, R = (np.tile(v, max(1, 20_000 // v.size)) for v in (h, k, r))
        t_vec = _per_eval(lambda: bivariate_normal_cdf(H, K, R), H.size)
        sub = [(float(a), float(b), float(c)) for a, b, c in zip(h[:2000], k[:2000], r[:2000])]
        t_scalar = _per_eval(lambda: [bivariate_normal_cdf(a, b, c) for a, b, c in sub], len(sub))
        t_scipy = _per_eval(lambda: [scipy_cdf(a, b, c) for a, b, c in sub[:200]], min(200, len(sub)), repeats=2)
        rows.append((name, t_vec, t_scalar, t_scipy))
    # scipy's best case: one frozen distribution (a single rho) and an array of points.
    fixed = []
    for rho in (-0.9, -0.5, 0.5, 0.9):
        dist = multivariate_normal(mean=[0.0, 0.0], cov=[[1.0, rho], [rho, 1.0]])
        xy = np.column_stack(bulk[:2])[:5000]
        t_sc = _per_eval(lambda: dist.cdf(xy), len(xy), repeats=2)
        t_ours = _per_eval(lambda: bivariate_normal_cdf(xy[:, 0], xy[:, 1], rho), len(xy))
        fixed.append((rho, t_ours, t_sc))

    ours = bivariate_normal_cdf(hs, ks, rs)
    sc = np.array([scipy_cdf(h, k, r) for h, k, r in pts])
    t = time.perf_counter()
    ref = [reference(h, k, r) for h, k, r in pts]
    t_ref = time.perf_counter() - t
    tiny = 1e-300
    rel_ours, rel_sc, worst_ours, worst_sc = [], [], None, None
    for i, rv in enumerate(ref):
        if rv < tiny:
            continue
        eo = float(abs(mp.mpf(ours[i]) - rv) / rv)
        es = float(abs(mp.mpf(sc[i]) - rv) / rv)
        rel_ours.append(eo)
        rel_sc.append(es)
        if worst_ours is None or eo > worst_ours[0]:
            worst_ours = (eo, pts[i], float(rv))
        if worst_sc is None or es > worst_sc[0]:
            worst_sc = (es, pts[i], float(rv))
    rel_ours, rel_sc = np.array(rel_ours), np.array(rel_sc)
    print(f"load average after: {os.getloadavg()}")
    print(f"\n{len(rel_ours)} grid points with Phi2 >= 1e-300 (h, k in {grid_hk}, rho in {grid_rho}); "
          f"mpmath reference took {t_ref:.1f} s")
    print(f"{'implementation':<44}{'max rel err':>13}{'median rel err':>16}{'# rel err > 1e-12':>19}")
    print(f"{'bivariate_normal_cdf':<44}{rel_ours.max():>13.2e}{np.median(rel_ours):>16.2e}{int((rel_ours > 1e-12).sum()):>19d}")
    print(f"{'scipy multivariate_normal.cdf':<44}{rel_sc.max():>13.2e}{np.median(rel_sc):>16.2e}{int((rel_sc > 1e-12).sum()):>19d}")
    print("\nus per evaluation; scipy builds a distribution per call (rho varies)")
    print(f"{'points':<44}{'ours vec':>10}{'ours scalar':>13}{'scipy':>9}{'ratio vec':>11}{'ratio scalar':>14}")
    for name, t_vec, t_scalar, t_scipy in rows:
        print(f"{name:<44}{t_vec * 1e6:>10.3f}{t_scalar * 1e6:>13.3f}{t_scipy * 1e6:>9.1f}"
              f"{t_scipy / t_vec:>10.0f}x{t_scipy / t_scalar:>13.0f}x")
    print("\nscipy's best case: one frozen distribution, 5000 bulk points in one call")
    print(f"{'rho':>6}{'ours vec':>10}{'scipy vec':>11}{'ratio':>8}")
    for rho, t_ours, t_sc in fixed:
        print(f"{rho:>6}{t_ours * 1e6:>10.3f}{t_sc * 1e6:>11.3f}{t_sc / t_ours:>7.0f}x")
    for i, rv in enumerate(ref):
        if rv >= tiny:
            eo = float(abs(mp.mpf(ours[i]) - rv) / rv)
            if eo > 1e-12:
                print(f"  ours rel err {eo:.2e} at (h, k, rho) = {pts[i]}, Phi2 = {mp.nstr(rv, 12)}, ours = {ours[i]:.12e}")
    print(f"worst ours: rel {worst_ours[0]:.2e} at (h, k, rho) = {worst_ours[1]}, Phi2 = {worst_ours[2]:.4e}")
    print(f"worst scipy: rel {worst_sc[0]:.2e} at (h, k, rho) = {worst_sc[1]}, Phi2 = {worst_sc[2]:.4e}")


if __name__ == "__main__":
    main()
