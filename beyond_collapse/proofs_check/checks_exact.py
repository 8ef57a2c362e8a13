"""Exact-enumeration claims with class-dependent keep rates (App. D.3, E.3-E.5) and Phi2 at rho = +-1 (App. D.6).

The other modules' claims exercise the symmetric strategy (phi0 = phi1, psi01 = psi10), large N and
|rho| < 1; a mutation run (docs/MUTATION.md) showed that slips in the class-dependent helpers of
``theory.rlhf``, in the tie and parity handling of ``numerics.success`` and in Phi2 at rho = 1 went
unnoticed. Each claim here calls the package function and compares it with a reference that does not
use the package's formula: the generating process of eq. (14) enumerated in exact rational arithmetic,
every multinomial outcome of the kept counts (eq. (16)) enumerated, the limit system (43) solved
numerically (``numerics.kkt``), scipy's bivariate normal with a singular covariance, and mpmath.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from beyond_collapse.proofs_check._base import claim, verdict

# (phi0, phi1, psi01, psi10): asymmetric in both rates, with the per-class breakdown points
# phi_k / (phi_k + psi_kl) apart from each other and from the pooled one.
_RATES = ((0.9, 0.5, 0.4, 0.6), (0.3, 0.8, 0.7, 0.1), (1.0, 0.6, 0.05, 0.5))
_A, _LAM = 0.5, 0.1  # Gram entry a and lambda of the limit system (the verdicts do not depend on them)


def kept_table(p, phi0, phi1, psi01, psi10) -> dict[tuple[int, int], Fraction]:
    """``{(k, l): P(q = 1, y' = l, y = k)}`` by enumerating the generating process of App. D.3 exactly.

    y is 0 or 1 with probability 1/2 each; the synthetic label is y' = 1 - y with probability p
    (eq. (15)); the example is kept with probability phi_y when y' = y and psi_{y y'} otherwise.
    Inputs are converted with ``Fraction(x)``, exact for floats, so the table is the exact value
    for the very numbers the package receives.
    """
    p = Fraction(p)
    phi = {0: Fraction(phi0), 1: Fraction(phi1)}
    psi = {(0, 1): Fraction(psi01), (1, 0): Fraction(psi10)}
    table = {(k, l): Fraction(0) for k in (0, 1) for l in (0, 1)}
    for y in (0, 1):
        for flipped in (False, True):
            y_syn = 1 - y if flipped else y
            label = p if flipped else 1 - p
            keep = psi[(y, y_syn)] if flipped else phi[y]
            table[(y, y_syn)] += Fraction(1, 2) * label * keep
    return table


def event_probability(n: int, table, event) -> Fraction:
    """P(event(N00, N01, N10, N11)) for n examples, each kept in cell (k, l) with probability
    ``table[(k, l)]`` or discarded (eq. (16): the counts are multinomial), summed exactly over every
    outcome of the counts."""
    cells = [table[(0, 0)], table[(0, 1)], table[(1, 0)], table[(1, 1)]]
    probs = cells + [1 - sum(cells)]
    powers = [[q**j for j in range(n + 1)] for q in probs]
    total = Fraction(0)
    for n00 in range(n + 1):
        for n01 in range(n + 1 - n00):
            for n10 in range(n + 1 - n00 - n01):
                for n11 in range(n + 1 - n00 - n01 - n10):
                    if not event(n00, n01, n10, n11):
                        continue
                    counts = (n00, n01, n10, n11, n - n00 - n01 - n10 - n11)
                    ways = math.factorial(n)
                    for c in counts:
                        ways //= math.factorial(c)
                    weight = Fraction(ways)
                    for q, c in zip(powers, counts):
                        weight *= q[c]
                    total += weight
    return total


def _pooled(n00, n01, n10, n11) -> bool:
    return n10 + n01 < n11 + n00  # eq. (45): strict, a tie is not success


def _per_class(n00, n01, n10, n11) -> bool:
    return n10 < n11 and n01 < n00  # eqs. (48)-(49)


def _rel_err(got: float, ref: Fraction) -> float:
    return abs(Fraction(got) - ref) / max(abs(ref), Fraction(1, 10**300))


def _bisect(condition, lo: float = 0.0, hi: float = 1.0, steps: int = 60) -> float:
    """The p in [lo, hi] where ``condition(p)`` turns from True (below) to False (above), by bisection."""
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if condition(mid) else (lo, mid)
    return 0.5 * (lo + hi)


def _limit_groups_correct(p: float, rates, b_sign: float) -> tuple[bool, bool]:
    """(kept class-1 rows all right, kept class-0 rows all right) from the limit system (43), solved
    numerically at N_kl / gamma = p_kl / lambda with the p_kl enumerated by ``kept_table``."""
    from beyond_collapse.numerics.kkt import solve_limit_system

    t = kept_table(p, *rates)
    n = np.array([float(t[(1, 1)]), float(t[(1, 0)]), float(t[(0, 1)]), float(t[(0, 0)])]) / _LAM
    A, B, C, D = solve_limit_system(n, _A, b_sign * _A)
    return bool(A < 0.5 and B > 0.5), bool(C > 0.5 and D < 0.5)  # eq. (41): groups 11, 10 | 01, 00


@claim("D.14-class-dependent", "eq. (14) with class-dependent keep rates: P(q = 1, y' = l, y = k) = phi_k (1-p)/2 "
       "(k = l), psi_kl p/2 (k != l); theory.kept_probabilities equals the generating process enumerated exactly",
       "App. D.3, eqs. (14)-(15)", "exact")
def check_d_14_class_dependent():
    from beyond_collapse.theory import kept_probabilities

    worst, n = 0.0, 0
    for rates in _RATES + ((0.25, 0.75, 0.5, 0.125),):
        for p in (0.0, 0.05, 0.3, 0.5, 0.77, 1.0):
            ref = kept_table(p, *rates)
            got = kept_probabilities(p, *rates)
            for (k, l), v in ref.items():
                worst = max(worst, float(abs(Fraction(float(got[k, l])) - v)))
                n += 1
    return verdict(worst < 1e-15, f"{n} entries (4 asymmetric (phi0, phi1, psi01, psi10), p from 0 to 1): "
                   f"max |theory.kept_probabilities - exact enumeration of (y, flip, keep)| = {worst:.1e}")


@claim("E.3-pooled-class-dependent", "Props. E.3 and E.5 with class-dependent keep rates: (55), (1+t)(p01 + p10) < "
       "(1-t)(p00 + p11) on the p_kl of eq. (14), holds exactly below one p for each t; at t = 0 that p is "
       "(phi0 + phi1)/(phi0 + phi1 + psi01 + psi10), where the limit system (43) with b = -a goes from 100% to 0%",
       "App. E.3-E.4, Props. E.3, E.5, eqs. (45), (55)", "exact")
def check_e_3_pooled_class_dependent():
    from beyond_collapse.theory import kept_probabilities, pooled_breakdown_point, pooled_condition

    def direct(p, rates, t):  # (55) in exact arithmetic on the enumerated table
        tab, t = kept_table(p, *rates), Fraction(t)
        return (1 + t) * (tab[(0, 1)] + tab[(1, 0)]) < (1 - t) * (tab[(0, 0)] + tab[(1, 1)])

    rows, mismatches, ok = [], [], True
    for rates in _RATES:
        for t in (0.0, 0.1, 0.3):
            root = _bisect(lambda p: direct(p, rates, t))
            grid = [x for x in np.linspace(0.0, 1.0, 101).tolist() + [root - 1e-7, root + 1e-7] if 0 <= x <= 1]
            for p in grid:
                if abs(p - root) > 1e-12 and pooled_condition(kept_probabilities(p, *rates), t) != direct(p, rates, t):
                    mismatches.append((rates, t, round(p, 9)))
            if t == 0.0:
                star = pooled_breakdown_point(*rates)
                limit = _bisect(lambda p: all(_limit_groups_correct(p, rates, -1.0)), steps=40)
                ok &= abs(star - root) < 1e-12 and abs(star - limit) < 1e-9
                rows.append(f"{rates}: theory {star:.6f}, bisection on (55) {root:.6f}, on (43) {limit:.6f}")
    ok &= not mismatches
    head = (f"pooled_condition differs from (55) on the enumerated table at {mismatches[:3]}; " if mismatches
            else "theory.pooled_condition(kept_probabilities(...), t) equals (55) in exact arithmetic on "
            "103 p per (rates, t), t in {0, 0.1, 0.3}; ")
    return verdict(ok, head + "pooled breakdown points: " + "; ".join(rows))


@claim("E.4-per-class-breakdown", "Prop. E.4 (b = 0, corrected pairing) with class-dependent keep rates: class 1 is "
       "learned iff p10 < p11, i.e. p < phi1/(phi1 + psi10), class 0 iff p01 < p00, i.e. p < phi0/(phi0 + psi01); with "
       "(52)-(54) the per-class slack versions (1+t) p_kl < (1-t) p_kk",
       "App. E.3-E.4, Prop. E.4, eqs. (48)-(49), (52)", "exact")
def check_e_4_per_class_breakdown():
    from beyond_collapse.theory import kept_probabilities, per_class_breakdown_points, per_class_condition

    def direct(p, rates, t):  # [class 0 learned, class 1 learned] in exact arithmetic on the enumerated table
        tab, t = kept_table(p, *rates), Fraction(t)
        return [(1 + t) * tab[(0, 1)] < (1 - t) * tab[(0, 0)], (1 + t) * tab[(1, 0)] < (1 - t) * tab[(1, 1)]]

    rows, mismatches, ok = [], [], True
    for rates in _RATES:
        # class k's breakdown from the limit system (43) with b = 0: its kept rows all classified right
        limit1 = _bisect(lambda p: _limit_groups_correct(p, rates, 0.0)[0], steps=40)
        limit0 = _bisect(lambda p: _limit_groups_correct(p, rates, 0.0)[1], steps=40)
        star0, star1 = per_class_breakdown_points(*rates)
        ok &= abs(star0 - limit0) < 1e-9 and abs(star1 - limit1) < 1e-9
        rows.append(f"{rates}: theory ({star0:.6f}, {star1:.6f}), limit system ({limit0:.6f}, {limit1:.6f})")
        for t in (0.0, 0.1):
            roots = [_bisect(lambda p: direct(p, rates, t)[k]) for k in (0, 1)]
            grid = np.linspace(0.0, 1.0, 101).tolist() + [r + d for r in roots for d in (-1e-7, 1e-7)]
            for p in grid:
                if not 0 <= p <= 1 or min(abs(p - r) for r in roots) < 1e-12:
                    continue
                got = per_class_condition(kept_probabilities(p, *rates), t).tolist()
                if got != direct(p, rates, t):
                    mismatches.append((rates, t, round(p, 9), got))
    ok &= not mismatches
    head = (f"per_class_condition differs from the enumerated table at {mismatches[:3]}; " if mismatches
            else "theory.per_class_condition(kept_probabilities(...), t) equals (1+t) p_kl < (1-t) p_kk in "
            "exact arithmetic on 105 p per (rates, t), t in {0, 0.1}; ")
    return verdict(ok, head + "per-class breakdown points (class 0, class 1): " + "; ".join(rows))


# (p, phi0, phi1, psi01, psi10) for the finite-N sums: near the pooled / per-class breakdown points, where
# ties N_bad = N_good carry the most probability, plus no pruning at p = 1/2 (every example kept).
_FINITE = ((0.58, 0.9, 0.5, 0.4, 0.6), (0.3, 0.8, 0.7, 0.1, 0.9), (0.5, 1.0, 1.0, 1.0, 1.0), (0.2, 0.9, 0.9, 0.3, 0.3))
_NS = tuple(range(1, 13))  # odd and even N, so odd and even kept counts K both occur


@claim("E.3-finite-N-exact", "Prop. E.3's success event at finite N, N10 + N01 < N11 + N00 (strict, eq. (45): a tie "
       "is not success), under the multinomial counts of eq. (16): numerics.success_probability equals exact "
       "enumeration (N = 1..12, odd and even) and a scipy binomial sum at N = 2e7 (its large-N route)",
       "App. E.3, Prop. E.3, eq. (45); App. D.3, eq. (16)", "exact")
def check_e_3_finite_n_exact():
    from scipy import stats

    from beyond_collapse.numerics import success_probability
    from beyond_collapse.numerics.success import _log_success_failure

    worst = 0.0
    for p, phi0, phi1, psi01, psi10 in _FINITE:
        tab = kept_table(p, phi0, phi1, psi01, psi10)
        res = success_probability(list(_NS), p, phi0, psi01, phi1=phi1, psi10=psi10)
        r = float(tab[(0, 0)] + tab[(1, 1)])
        w = float(tab[(0, 1)] + tab[(1, 0)])
        for i, n in enumerate(_NS):
            ref = event_probability(n, tab, _pooled)
            # the scalar route, which success_probability takes above N = 1e7, called at small N directly
            log_s, log_f = _log_success_failure(float(n), r, w)
            for got, want in ((res.probability[i], ref), (math.exp(res.log_failure[i]), 1 - ref),
                              (math.exp(log_s), ref), (math.exp(log_f), 1 - ref)):
                worst = max(worst, float(_rel_err(got, want)))
    # N = 2e7 and 2e7 + 1 (the scalar route) near the pooled breakdown point, against scipy.stats.binom:
    # K ~ Bin(N, r + w) kept, W | K ~ Bin(K, w / (r + w)) wrong, success iff W <= floor((K - 1) / 2)
    big = []
    for n in (20_000_000, 20_000_001):
        p, phi, psi = 0.75, 0.9, 0.3  # p* = 0.75: r = w, a fair race in which ties matter
        r, w = (1 - p) * phi, p * psi  # p00 + p11 and p01 + p10, eq. (14)
        s = r + w
        sd = math.sqrt(n * s * (1 - s))
        K = np.arange(max(0, math.floor(n * s - 40 * sd)), min(n, math.ceil(n * s + 40 * sd)) + 1)
        ref = float(np.sum(stats.binom.pmf(K, n, s) * stats.binom.cdf((K - 1) // 2, K, w / s)))
        got = float(success_probability(n, p, phi, psi).probability)
        big.append((n, got, ref))
    big_err = max(abs(g - f) / f for _, g, f in big)
    ok = worst < 1e-10 and big_err < 1e-9
    return verdict(ok, f"{len(_FINITE)} parameter sets (asymmetric rates, near breakdown, no pruning), N = 1..12: max "
                   f"relative error of P(success) and P(failure) (success_probability and its scalar route) vs exact "
                   f"enumeration of the counts = {worst:.1e}; N = 2e7, 2e7 + 1 at p = p* (phi = 0.9, psi = 0.3): "
                   + ", ".join(f"{g:.12f} vs scipy {f:.12f}" for _, g, f in big) + f" (rel. {big_err:.0e})")


@claim("E.4-finite-N-exact", "Prop. E.4's success event at finite N, N10 < N11 and N01 < N00 (b = 0), with "
       "class-dependent keep rates: numerics.success_probability(condition='per-class') equals exact enumeration of "
       "the multinomial counts (N = 1..12)", "App. E.3, Prop. E.4, eqs. (48)-(49); App. D.3, eq. (16)", "exact")
def check_e_4_finite_n_exact():
    from beyond_collapse.numerics import success_probability

    worst, rows = 0.0, []
    for p, phi0, phi1, psi01, psi10 in _FINITE:
        tab = kept_table(p, phi0, phi1, psi01, psi10)
        res = success_probability(list(_NS), p, phi0, psi01, phi1=phi1, psi10=psi10, condition="per-class")
        for i, n in enumerate(_NS):
            ref = event_probability(n, tab, _per_class)
            for got, want in ((res.probability[i], ref), (math.exp(res.log_failure[i]), 1 - ref)):
                worst = max(worst, float(_rel_err(got, want)))
        rows.append(f"p={p}, rates=({phi0}, {phi1}, {psi01}, {psi10}): P at N=12 {float(ref):.6f}")
    return verdict(worst < 1e-10, f"max relative error of P(success) and P(failure) vs exact enumeration over "
                   f"N = 1..12 = {worst:.1e}; " + "; ".join(rows))


@claim("D.6-phi2-degenerate", "Phi2(x, y; rho) = P(X <= x, Y <= y) of App. D.6 at the ends of rho = cos theta: "
       "theta = 0 (w_prune along w_gen, Y = X) gives Phi(min(x, y)), theta = pi (Y = -X) gives P(-y <= X <= x)",
       "App. D.6 (definition of Phi2)", "exact")
def check_d_6_phi2_degenerate():
    import mpmath
    from scipy import stats

    from beyond_collapse.theory import bivariate_normal_cdf

    def near_limit(h, k, rho):  # mpmath quadrature of phi(x) Phi((k - rho x)/sqrt(1 - rho^2)) over x <= h
        with mpmath.workdps(40):
            r = mpmath.mpf(rho) * (1 - mpmath.mpf(10) ** -30)  # |rho| = 1 - 1e-30: within ~1e-15 of the limit
            s = mpmath.sqrt(1 - r**2)
            f = lambda x: mpmath.npdf(x) * mpmath.ncdf((k - r * x) / s)  # noqa: E731
            cut = k / r  # where the inner CDF jumps from 1 to 0 (rho -> 1) or 0 to 1 (rho -> -1)
            pts = [-mpmath.inf, cut, h] if cut < h else [-mpmath.inf, h]
            return float(mpmath.quad(f, pts))

    worst_mp = worst_sp = 0.0
    pairs = ((-1.0, 0.5), (0.5, -1.0), (2.0, 1.9), (-3.0, -2.5), (0.3, 4.0), (-6.0, 1.0), (1.2, -0.4))
    for rho in (1.0, -1.0):
        for h, k in pairs:
            got = bivariate_normal_cdf(h, k, rho)
            got_arr = float(bivariate_normal_cdf(np.array([h]), np.array([k]), rho)[0])
            ref_sp = stats.multivariate_normal([0.0, 0.0], [[1.0, rho], [rho, 1.0]], allow_singular=True).cdf([h, k])
            ref_mp = near_limit(h, k, rho)
            worst_mp = max(worst_mp, *(abs(x - ref_mp) / max(ref_mp, 1e-300) for x in (got, got_arr)))
            worst_sp = max(worst_sp, abs(got - ref_sp))
    return verdict(worst_mp < 1e-12 and worst_sp < 1e-8,
                   f"{len(pairs)} (x, y) pairs at rho = 1 and -1 (scalar and array paths of "
                   "theory.bivariate_normal_cdf): "
                   f"max relative difference from mpmath quadrature at |rho| = 1 - 1e-30 {worst_mp:.1e}, max absolute "
                   f"difference from scipy.stats.multivariate_normal (singular covariance) {worst_sp:.1e}")
