"""success_probability: exact sums against Monte Carlo and against the scipy.stats summation a user
would write; the numba array path against the scalar route it replaced; the per-class event.

1. Pooled event (Prop. E.3) near the finite-N transition (P(success) ~ 0.84) for N = 1e3 ... 1e9
   against numpy's multinomial sampler; a last row deep in the success region, where P(failure)
   is far below what any simulation (or float64 as 1 - P) can see.
2. Array input: 100 values of p at one N, the numba path (one call for all p, and one call per p)
   against the scalar route (one Python call per p: the code before the numba path) and against the scipy.stats sum
   sum_K binom.pmf(K; N, s) binom.cdf(ceil(K/2) - 1; K, q), vectorised over K.
3. Per-class event (Prop. E.4) near its transition: exact against Monte Carlo (1e5 draws) and,
   at small N, against the scipy.stats double sum.

Run: .venv/bin/python benchmarks/bench_success.py [--mc 100000]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from scipy import stats

from beyond_collapse.numerics import success_probability
from beyond_collapse.numerics import success as success_module
from beyond_collapse.theory import kept_probabilities


def _timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def scipy_pooled(n, r, w):
    """P(success) as a user would write it with scipy.stats (linear space, vectorised over K)."""
    k = np.arange(n + 1)
    s = r + w
    return float(np.sum(stats.binom.pmf(k, n, s) * stats.binom.cdf(np.ceil(k / 2) - 1, k, w / s)))


def scipy_per_class(n, cells):
    """P(N10 < N11 and N01 < N00) with scipy.stats: the (M1, M0) double sum as a dense matrix."""
    p00, p01, p10, p11 = cells
    s1, s0 = p10 + p11, p00 + p01
    m = np.arange(n + 1)
    t1 = stats.binom.cdf(np.ceil(m / 2) - 1, m, p10 / s1)
    t0 = stats.binom.cdf(np.ceil(m / 2) - 1, m, p01 / s0)
    m1, m0 = np.meshgrid(m, m, indexing="ij")
    ok = m1 + m0 <= n
    weight = np.where(ok, stats.multinomial.pmf(np.stack([m1, m0, n - m1 - m0], -1) * ok[..., None]
                                                + np.stack([0 * m1, 0 * m0, n * ~ok], -1),
                                                n, [s1, s0, 1 - s1 - s0]), 0.0)
    return float(np.sum(weight * t1[:, None] * t0[None, :]))


def pooled_vs_mc(rng, mc_draws):
    p, phi = 0.4, 0.6
    r = phi * (1 - p)
    print(f"\n1. pooled event vs Monte Carlo ({mc_draws} draws)")
    print(f"{'N':>12}{'psi':>10}{'exact P':>12}{'exact s':>10}{'MC P':>10}{'MC SE':>10}{'|d|/SE':>8}"
          f"{'MC s':>8}{'log P(fail)':>14}")
    for n in (1e3, 1e5, 1e7, 1e9):
        w = r - np.sqrt((2 * r) / n)  # z ~ 1: P(success) ~ 0.84
        psi = w / p
        res, t_exact = _timed(success_probability, n, p, phi, psi)
        t = time.perf_counter()
        draws = rng.multinomial(int(n), [r, w, 1 - r - w], size=mc_draws)
        mc = np.mean(draws[:, 1] < draws[:, 0])
        t_mc = time.perf_counter() - t
        se = np.sqrt(mc * (1 - mc) / mc_draws)
        print(f"{n:>12.0e}{psi:>10.6f}{res.probability:>12.6f}{t_exact:>10.3f}{mc:>10.5f}{se:>10.5f}"
              f"{abs(res.probability - mc) / se:>8.2f}{t_mc:>8.2f}{res.log_failure:>14.5g}")
    res, t_exact = _timed(success_probability, 1e9, p, phi, 0.5)
    print(f"{1e9:>12.0e}{0.5:>10.6f}{res.probability:>12.6f}{t_exact:>10.3f}"
          f"{'-':>10}{'-':>10}{'-':>8}{'-':>8}{res.log_failure:>14.6g}")


def array_path():
    phi, psi = 0.6, 0.5  # p* = 0.545: p in [0.05, 0.6] spans deep success to failure
    ps = np.linspace(0.05, 0.6, 100)
    print("\n2. array input, 100 values of p in [0.05, 0.6], phi = 0.6, psi = 0.5 (ms per p)")
    print(f"{'N':>10}{'numba path':>12}{'1 p per call':>14}{'scalar route':>14}{'ratio':>8}"
          f"{'max rel d log P(fail)':>24}"
          f"{'scipy.stats sum':>17}{'ratio':>8}{'scipy: P(fail)=0 at':>22}")
    for n in (1e3, 1e4, 1e5, 1e6):
        res, t_new = _timed(success_probability, n, ps, phi, psi)
        sel = ps[::10] if n >= 1e5 else ps  # the scalar route is slow: time 10 of the p values
        t = time.perf_counter()
        old = np.array([success_module._log_success_failure(n, phi * (1 - x), psi * x) for x in sel])
        t_old = (time.perf_counter() - t) / sel.size
        t = time.perf_counter()
        for x in sel:
            success_probability(n, x, phi, psi)
        t_one = (time.perf_counter() - t) / sel.size
        lf = res.log_failure[::10] if n >= 1e5 else res.log_failure
        err = np.max(np.abs(lf - old[:, 1]) / np.abs(old[:, 1]))
        sp_cell, sp_ratio, zero = "-", "-", "-"
        if n <= 1e5:
            t = time.perf_counter()
            sp = np.array([scipy_pooled(int(n), phi * (1 - x), psi * x) for x in sel])
            t_sp = (time.perf_counter() - t) / sel.size
            sp_cell, sp_ratio = f"{t_sp * 1e3:.3f}", f"{t_sp / (t_new / ps.size):.0f}"
            zero = f"{int(np.sum(1 - sp == 0))}/{sel.size} p"
        print(f"{n:>10.0e}{t_new / ps.size * 1e3:>12.3f}{t_one * 1e3:>14.2f}{t_old * 1e3:>14.2f}"
              f"{t_old / (t_new / ps.size):>8.0f}"
              f"{err:>24.1e}{sp_cell:>17}{sp_ratio:>8}{zero:>22}")


def per_class(rng, mc_draws):
    phi0, phi1, psi01, psi10 = 0.9, 0.6, 0.5, 0.6  # per-class p* = (0.643, 0.5), pooled p* = 0.6
    print(f"\n3. per-class event (phi = ({phi0}, {phi1}), psi = ({psi01}, {psi10})) vs Monte Carlo "
          f"({mc_draws} draws) and the scipy.stats double sum")
    print(f"{'N':>10}{'p':>8}{'exact P':>12}{'exact s':>10}{'MC P':>10}{'MC SE':>10}{'|d|/SE':>8}{'MC s':>8}"
          f"{'scipy P':>12}{'scipy s':>9}{'log P(fail)':>14}{'pooled P':>10}")
    success_probability(10, 0.3, 0.5, 0.5, condition="per-class")  # numba compile / cache load
    for n, p in ((1000, 0.475), (10_000, 0.4925), (100_000, 0.4976), (100_000, 0.45)):
        res, t_exact = _timed(success_probability, n, p, phi0, psi01, phi1=phi1, psi10=psi10, condition="per-class")
        cells = kept_probabilities(p, phi0, phi1, psi01, psi10).ravel()
        t = time.perf_counter()
        draws = rng.multinomial(n, np.append(cells, 1 - cells.sum()), size=mc_draws)
        mc = np.mean((draws[:, 2] < draws[:, 3]) & (draws[:, 1] < draws[:, 0]))
        t_mc = time.perf_counter() - t
        se = np.sqrt(mc * (1 - mc) / mc_draws)
        sp_p, sp_t = "-", "-"
        if n <= 1000:
            val, t_sp = _timed(scipy_per_class, n, cells)
            sp_p, sp_t = f"{val:.6f}", f"{t_sp:.3f}"
        pooled = success_probability(n, p, phi0, psi01, phi1=phi1, psi10=psi10).probability
        dse = abs(res.probability - mc) / se if se > 0 else float("nan")
        print(f"{n:>10.0e}{p:>8.4f}{res.probability:>12.6f}{t_exact:>10.3f}{mc:>10.5f}{se:>10.5f}{dse:>8.2f}"
              f"{t_mc:>8.2f}{sp_p:>12}{sp_t:>9}{res.log_failure:>14.5g}{pooled:>10.6f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mc", type=int, default=100_000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"load average before: {os.getloadavg()}")
    success_probability(100, [0.3, 0.4], 0.6, 0.5)  # numba compile / cache load
    pooled_vs_mc(rng, args.mc)
    array_path()
    per_class(rng, args.mc)
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
