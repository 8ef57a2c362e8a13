"""success_probability (exact sum in log space) against Monte Carlo with numpy's multinomial sampler.

For each N the parameters sit near the finite-N transition (P(success) ~ 0.85) so Monte Carlo is
informative; a last row is deep in the success region, where P(failure) is far below what any
simulation can see and only the exact sum gives a number.

Run: .venv/bin/python benchmarks/bench_success.py [--mc 100000]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from beyond_collapse.numerics import success_probability


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mc", type=int, default=100_000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    p, phi = 0.4, 0.6
    r = phi * (1 - p)
    print(f"load average before: {os.getloadavg()}")
    print(f"\n{'N':>12}{'psi':>10}{'exact P':>12}{'exact s':>10}{'MC P':>10}{'MC SE':>10}{'|d|/SE':>8}"
          f"{'MC s':>8}{'log P(fail)':>14}")
    success_probability(100, p, phi, 0.5)
    for n in (1e3, 1e5, 1e7, 1e9):
        w = r - np.sqrt((2 * r) / n)  # z ~ 1: P(success) ~ 0.84
        psi = w / p
        t = time.perf_counter()
        res = success_probability(n, p, phi, psi)
        t_exact = time.perf_counter() - t
        t = time.perf_counter()
        draws = rng.multinomial(int(n), [r, w, 1 - r - w], size=args.mc)
        mc = np.mean(draws[:, 1] < draws[:, 0])
        t_mc = time.perf_counter() - t
        se = np.sqrt(mc * (1 - mc) / args.mc)
        print(f"{n:>12.0e}{psi:>10.6f}{res.probability:>12.6f}{t_exact:>10.3f}{mc:>10.5f}{se:>10.5f}"
              f"{abs(res.probability - mc) / se:>8.2f}{t_mc:>8.2f}{res.log_failure:>14.5g}")
    t = time.perf_counter()
    res = success_probability(1e9, p, phi, 0.5)
    print(f"{1e9:>12.0e}{0.5:>10.6f}{res.probability:>12.6f}{time.perf_counter() - t:>10.3f}"
          f"{'-':>10}{'-':>10}{'-':>8}{'-':>8}{res.log_failure:>14.6g}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
