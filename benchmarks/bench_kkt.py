"""solve_kkt (eq. (31), numba, vectorised over draws) against scipy.optimize.root per draw.

Draws: (N11, N10, N01, N00) ~ Multinomial(N; p_kl) of App. D.3 with N = 1e6, p = 0.3, phi = 0.8,
psi = 0.5, Condition D.1 constants a = 0.25, b = -a, gamma = N * 1e-3.

Run: .venv/bin/python benchmarks/bench_kkt.py [--draws 100000] [--scipy-draws 300]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from scipy.optimize import root

from beyond_collapse.numerics import kkt_residual, solve_kkt


def eq31(v, n11, n10, n01, n00, a, b, gamma):
    return kkt_residual(v, [n11, n10, n01, n00], a, b, gamma)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=100_000)
    ap.add_argument("--scipy-draws", type=int, default=300)
    args = ap.parse_args()
    n, p, phi, psi, a, b = 1_000_000, 0.3, 0.8, 0.5, 0.25, -0.25
    gamma = n * 1e-3
    probs = [phi * (1 - p) / 2, psi * p / 2, psi * p / 2, phi * (1 - p) / 2]
    probs.append(1 - sum(probs))
    counts = np.random.default_rng(0).multinomial(n, probs, size=args.draws)[:, :4].astype(float)
    solve_kkt(*counts[:10].T, a, b, gamma)  # compile
    print(f"load average before: {os.getloadavg()}")
    t = time.perf_counter()
    sol = solve_kkt(*counts.T, a, b, gamma)
    t_ours = (time.perf_counter() - t) / args.draws
    sub = counts[: args.scipy_draws]
    t = time.perf_counter()
    ref = np.array([root(eq31, np.full(4, 0.5 / gamma), args=(*c, a, b, gamma), method="hybr", tol=1e-14).x
                    for c in sub])
    t_scipy = (time.perf_counter() - t) / len(sub)
    print(f"load average after: {os.getloadavg()}")
    ours = np.stack([sol.A, sol.B, sol.C, sol.D], axis=1)[: len(sub)]
    rel = np.max(np.abs(ours - ref) / np.abs(ref))
    res_ours = max(np.max(np.abs(eq31(o, *c, a, b, gamma))) for o, c in zip(ours, sub))
    res_ref = max(np.max(np.abs(eq31(o, *c, a, b, gamma))) for o, c in zip(ref, sub))
    print(f"\n{'solver':<36}{'us/draw':>10}{'max |eq. (31) residual|':>26}")
    print(f"{'solve_kkt (' + str(args.draws) + ' draws, one call)':<36}{t_ours * 1e6:>10.2f}{res_ours:>26.2e}")
    print(f"{'scipy.optimize.root hybr (per draw)':<36}{t_scipy * 1e6:>10.1f}{res_ref:>26.2e}")
    print(f"max relative difference of (A, B, C, D) over {len(sub)} draws: {rel:.2e}")
    print(f"speed-up per draw: {t_scipy / t_ours:.0f}x")


if __name__ == "__main__":
    main()
