"""Calibration of the fast Gauss-Legendre path of bivariate_normal_cdf (theory/special.py).

Plackett's integral (1/2pi) int exp(-E(v)) dv over v in [acos rho, pi/2] (or [pi/2, acos rho]) is
integrated by one Gauss-Legendre rule chosen from |s| = |cos v| at the far end of the interval (r)
and from the variation max E - min E over it (known in closed form, `_exponent_range`). This script
measures, for each candidate rule, the worst error relative to the integral against the adaptive
Gauss-Kronrod path (tolerance 1e-14, itself tested against mpmath in tests/theory/test_special.py)
on random (h, k, rho): |h|, |k| log-uniform on [0.3, 40] with random signs, rho uniform on
(-0.93, 0.93). It prints one table row per (r, variation) bin and marks the rule `_fast_rule`
picks for that bin, so a change to the rule can be checked by rerunning.

Run: .venv/bin/python benchmarks/calibrate_bvn.py [n_points]   (600,000 points: ~15 s)
"""

from __future__ import annotations

import math
import sys

import numba
import numpy as np

from beyond_collapse.theory import special as S


@numba.njit  # no cache: the test loads this file as a module numba cannot re-import by name
def _adaptive_reference(h, k, v_lo, v_hi, shift):
    points = np.linspace(v_lo, v_hi, 17)
    return S._adaptive(0, points, 17, h, k, 0.0, 1.0, shift, 0.0)


@numba.njit  # no cache: the test loads this file as a module numba cannot re-import by name
def _gauss_legendre(h, k, v_lo, v_hi, x, w, shift):
    half, mid = 0.5 * (v_hi - v_lo), 0.5 * (v_hi + v_lo)
    total = 0.0
    for i in range(x.size):
        total += w[i] * math.exp(shift - S._exponent_v(h, k, mid + half * x[i]))
    return total * half


def measure(n_points: int, seed: int = 0) -> np.ndarray:
    """Rows (r, variation, rel. error of each rule in S._GL_N) for random (h, k, rho)."""
    rng = np.random.default_rng(seed)
    scale = np.exp(rng.uniform(math.log(0.3), math.log(40.0), (2, n_points)))
    hs, ks = rng.choice([-1.0, 1.0], (2, n_points)) * scale
    rhos = rng.uniform(-0.93, 0.93, n_points)
    rules = [(S._GL_X[s:s + n], S._GL_W[s:s + n]) for s, n in zip(S._GL_START, S._GL_N)]
    rows = []
    for h, k, rho in zip(hs, ks, rhos):
        v_lo, v_hi = (math.acos(rho), 0.5 * math.pi) if rho > 0 else (0.5 * math.pi, math.acos(rho))
        s_top, s_bottom = math.cos(v_lo), math.cos(v_hi)
        e_min, e_max = S._exponent_range(h, k, s_bottom, s_top)
        if e_min > 700.0:  # the integral underflows; nothing to calibrate
            continue
        ref = _adaptive_reference(h, k, v_lo, v_hi, e_min)
        errors = [abs(_gauss_legendre(h, k, v_lo, v_hi, x, w, e_min) - ref) / ref for x, w in rules]
        rows.append((max(abs(s_top), abs(s_bottom)), e_max - e_min, *errors))
    return np.array(rows)


def main():
    n_points = int(sys.argv[1]) if len(sys.argv) > 1 else 600_000
    rows = measure(n_points)
    print(f"{len(rows)} points; worst error relative to the integral per rule (* = the rule _fast_rule picks; "
          f"- = it falls back to the adaptive path)")
    print(f"{'r <=':>6}{'variation <=':>14}{'points':>9}" + "".join(f"{f'GL{n}':>11}" for n in S._GL_N))
    r_edges, v_edges = (0.5, 0.8, 0.925), (1.0, 2.0, 4.0, 8.0, 12.0, 16.0, 25.0, 40.0)
    worst_picked = 0.0
    for i, r_hi in enumerate(r_edges):
        r_lo = r_edges[i - 1] if i else 0.0
        for j, v_hi in enumerate(v_edges):
            v_lo = v_edges[j - 1] if j else 0.0
            m = (rows[:, 0] > r_lo) & (rows[:, 0] <= r_hi) & (rows[:, 1] > v_lo) & (rows[:, 1] <= v_hi)
            if not m.any():
                continue
            worst = rows[m, 2:].max(axis=0)
            # the rule is a step function of (r, variation); within a bin take the most demanding end
            picked = S._fast_rule(r_hi, v_hi)
            cells = "".join(f"{e:>10.1e}{'*' if q == picked else ' '}" for q, e in enumerate(worst))
            print(f"{r_hi:>6}{v_hi:>14}{int(m.sum()):>9}{cells}{'' if picked >= 0 else '   -'}")
            if picked >= 0:
                worst_picked = max(worst_picked, worst[picked])
    print(f"worst error of the picked rules over all bins: {worst_picked:.2e}")


if __name__ == "__main__":
    main()
