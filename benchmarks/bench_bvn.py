"""Bivariate normal CDF: beyond_collapse.theory.special.bivariate_normal_cdf against
scipy.stats.multivariate_normal.cdf, speed per evaluation and accuracy against mpmath.

Reference: Phi2(h, k; rho) = int_{-inf}^{min(h,k)} phi(x) Phi((max(h,k) - rho x) / sqrt(1 - rho^2)) dx
with mpmath.quad at 40 digits (integrating over the smaller limit keeps the integrand's mass at
the end point; mpmath.ncdf is accurate in the far tails).

Run: .venv/bin/python benchmarks/bench_bvn.py
"""

from __future__ import annotations

import itertools
import os
import time

import mpmath as mp
import numpy as np
from scipy.stats import multivariate_normal

from beyond_collapse.theory.special import bivariate_normal_cdf


def reference(h, k, rho):
    mp.mp.dps = 40
    lo, hi = (h, k) if h <= k else (k, h)
    s = mp.sqrt(1 - mp.mpf(rho) ** 2)
    f = lambda x: mp.npdf(x) * mp.ncdf((hi - rho * x) / s)  # noqa: E731
    pts = [-mp.inf] + [lo - d for d in (40, 20, 10, 5, 2, 1) if lo - d > -60] + [lo]
    return mp.quad(f, pts)


def scipy_cdf(h, k, rho):
    return multivariate_normal(mean=[0.0, 0.0], cov=[[1.0, rho], [rho, 1.0]]).cdf([h, k])


def main():
    print(f"load average before: {os.getloadavg()}")
    grid_hk = [-9.0, -6.0, -3.0, -1.0, 0.0, 0.7, 2.5, 5.0]
    grid_rho = [-0.95, -0.5, 0.0, 0.3, 0.8, 0.99]
    pts = [(h, k, r) for h, k, r in itertools.product(grid_hk, grid_hk, grid_rho) if h <= k]
    hs, ks, rs = (np.array(v) for v in zip(*pts))

    # speed: ours on one vectorised call over many points, and per scalar call; scipy per call
    bivariate_normal_cdf(hs, ks, rs)
    big = 20
    H, K, R = (np.tile(v, big) for v in (hs, ks, rs))
    t = time.perf_counter()
    for _ in range(10):
        bivariate_normal_cdf(H, K, R)
    t_vec = (time.perf_counter() - t) / (10 * H.size)
    t = time.perf_counter()
    for h, k, r in pts:
        bivariate_normal_cdf(h, k, r)
    t_scalar = (time.perf_counter() - t) / len(pts)
    t = time.perf_counter()
    sc = np.array([scipy_cdf(h, k, r) for h, k, r in pts])
    t_scipy = (time.perf_counter() - t) / len(pts)
    ours = bivariate_normal_cdf(hs, ks, rs)

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
    print(f"{'implementation':<44}{'us/eval':>10}{'max rel err':>13}{'median rel err':>16}{'# rel err > 1e-12':>19}")
    print(f"{'bivariate_normal_cdf (vectorised call)':<44}{t_vec * 1e6:>10.3f}{rel_ours.max():>13.2e}"
          f"{np.median(rel_ours):>16.2e}{int((rel_ours > 1e-12).sum()):>19d}")
    print(f"{'bivariate_normal_cdf (one scalar per call)':<44}{t_scalar * 1e6:>10.2f}{'':>13}{'':>16}{'':>19}")
    print(f"{'scipy multivariate_normal.cdf (per call)':<44}{t_scipy * 1e6:>10.1f}{rel_sc.max():>13.2e}"
          f"{np.median(rel_sc):>16.2e}{int((rel_sc > 1e-12).sum()):>19d}")
    print(f"speed-up per evaluation: vectorised {t_scipy / t_vec:.0f}x, scalar calls {t_scipy / t_scalar:.0f}x")
    print(f"worst ours: rel {worst_ours[0]:.2e} at (h, k, rho) = {worst_ours[1]}, Phi2 = {worst_ours[2]:.4e}")
    print(f"worst scipy: rel {worst_sc[0]:.2e} at (h, k, rho) = {worst_sc[1]}, Phi2 = {worst_sc[2]:.4e}")


if __name__ == "__main__":
    main()
