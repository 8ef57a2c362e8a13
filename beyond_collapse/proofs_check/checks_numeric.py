"""Numeric claims: the limit system (42)/(43), Props. E.3-E.5 and Thm. D.3, checked with hypothesis
(bounded, deterministic) and with exact binomial computations."""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from beyond_collapse.numerics.kkt import solve_limit_system
from beyond_collapse.proofs_check._base import claim, find_example, for_all, verdict

# Magnitudes of N_kl / gamma = p_kl / lambda: with lambda in [1e-3, 1] and p_kl in (0, 1/2] this
# spans weak (0.01) to strong (100) effective regularisation.
_N_LOW, _N_HIGH = 0.01, 100.0




def _clean_accuracy(n, script) -> float:
    """Eq. (41): kept-example accuracy from the group counts and the script letters."""
    A, B, C, D = script
    n11, n10, n01, n00 = n
    return (n11 * (A < 0.5) + n00 * (D < 0.5) + n10 * (B > 0.5) + n01 * (C > 0.5)) / (n11 + n10 + n01 + n00)


def _st():
    from hypothesis import strategies as st

    return st


def _counts_strategy(margin: float = 0.02):
    """Group counts N_kl / gamma whose comparisons are decided (no near-ties), plus a in (0.05, 0.95)."""
    st = _st()
    n = st.floats(_N_LOW, _N_HIGH)
    a = st.floats(0.05, 0.95)

    def decided(x):
        (n11, n10, n01, n00), _ = x
        pairs = ((n10 + n01, n11 + n00), (n10, n11), (n01, n00))
        return all(abs(u - v) > margin * (u + v) for u, v in pairs)

    return st.tuples(st.tuples(n, n, n, n), a).filter(decided)


@claim("E.44-limit-symmetry", "b = -a: the solution of the limit system has C = B and D = A",
       "App. E.3, eq. (44)", "numeric-hypothesis")
def check_e_44_limit_symmetry():
    def prop(x):
        n, a = x
        A, B, C, D = solve_limit_system(n, a, -a)
        assert abs(C - B) < 1e-9 and abs(D - A) < 1e-9, (n, a, (A, B, C, D))

    bad = for_all(_counts_strategy(), prop)
    return verdict(bad is None, bad or "25 deterministic hypothesis examples of (N_kl/gamma, a): |C - B|, |D - A| < 1e-9")


@claim("E.3-limit", "Prop. E.3 (b = -a), on the limit system (42): C = B > 1/2 and D = A < 1/2 iff "
       "N10 + N01 < N11 + N00", "App. E.3, Prop. E.3, eqs. (45)-(46)", "numeric-hypothesis")
def check_e_3_limit():
    def prop(x):
        n, a = x
        A, B, C, D = solve_limit_system(n, a, -a)
        good = (B > 0.5) and (C > 0.5) and (A < 0.5) and (D < 0.5)
        assert good == (n[1] + n[2] < n[0] + n[3]), (n, a, (A, B, C, D))

    bad = for_all(_counts_strategy(), prop)
    return verdict(bad is None, bad or "25 hypothesis examples: the equivalence holds on every solution of (42)")


@claim("E.4-limit-corrected", "Prop. E.4 (b = 0), corrected pairing: B > 1/2 and A < 1/2 iff N10 < N11; "
       "C > 1/2 and D < 1/2 iff N01 < N00", "App. E.3, Prop. E.4, eqs. (50)-(51) (corrected)", "numeric-hypothesis")
def check_e_4_limit_corrected():
    def prop(x):
        n, a = x
        A, B, C, D = solve_limit_system(n, a, 0.0)
        assert ((B > 0.5) and (A < 0.5)) == (n[1] < n[0]), (n, a, (A, B, C, D))
        assert ((C > 0.5) and (D < 0.5)) == (n[2] < n[3]), (n, a, (A, B, C, D))

    bad = for_all(_counts_strategy(), prop)
    return verdict(bad is None, bad or "25 hypothesis examples: each pair follows its own class's counts")


@claim("E.4-printed", "Prop. E.4 as printed: C, B > 1/2 iff N10 < N11 (50); D, A < 1/2 iff N01 < N00 (51)",
       "App. E.3, Prop. E.4, eqs. (50)-(51)", "numeric-hypothesis", expected="erratum")
def check_e_4_printed():
    def violates(x):
        n, a = x
        A, B, C, D = solve_limit_system(n, a, 0.0)
        return ((C > 0.5 and B > 0.5) != (n[1] < n[0])) or ((D < 0.5 and A < 0.5) != (n[2] < n[3]))

    ex = find_example(_counts_strategy(), violates)
    if ex is None:
        return "verified", "no counterexample found in 200 hypothesis examples"
    n, a = ex
    A, B, C, D = solve_limit_system(n, a, 0.0)
    return "erratum", (f"counterexample N/gamma={tuple(round(v, 3) for v in n)}, a={a:.3g}: "
                       f"A={A:.3f} B={B:.3f} C={C:.3f} D={D:.3f} (C follows N01 < N00, A follows N10 < N11)")


def _theorem_strategy():
    from beyond_collapse.proofs_check.strategies import rlhf_parameters

    st = _st()
    # (p, phi, psi) from the audit helper's strategy; p away from p* so the limit is decided
    rates = rlhf_parameters(eps=0.02).map(lambda r: (r.p, r.phi, r.psi)).filter(
        lambda x: x[0] > 0 and abs(x[0] * x[2] - (1 - x[0]) * x[1]) > 0.02 * (x[0] * x[2] + (1 - x[0]) * x[1]))
    return st.tuples(rates, st.floats(1e-3, 1.0), st.floats(0.05, 0.95), st.sampled_from(["-a", "0"])) \
        .map(lambda x: (*x[0], *x[1:]))


@claim("T3.2-limit-accuracy", "Thm. 3.2 / D.3 in the limit N -> oo: clean accuracy (41) is 100% for p < p* "
       "and 0% for p > p*, with p* = 1/(1 + psi/phi) (Gram structures b = -a and b = 0)",
       "Sec. 3.3, Thm. 3.2, Thm. D.3, eq. (41)", "numeric-hypothesis")
def check_t3_2_limit_accuracy():
    from beyond_collapse.theory import breakdown_point, limit_accuracy

    def prop(x):
        p, phi, psi, lam, a, bcase = x
        pkl = np.array([(1 - p) * phi, p * psi, p * psi, (1 - p) * phi]) / 2  # eq. (14), order 11,10,01,00
        n = pkl / lam  # N_kl / gamma -> p_kl / lambda almost surely
        b = -a if bcase == "-a" else 0.0
        acc = _clean_accuracy(n, solve_limit_system(n, a, b))
        expected = 1.0 if p < breakdown_point(phi, psi) else 0.0
        assert abs(acc - expected) < 1e-12 and expected == limit_accuracy(p, phi, psi), (x, acc, expected)

    bad = for_all(_theorem_strategy(), prop, max_examples=30)
    # exactly at p = p* the limit is a fair coin (CLT): the expected accuracy, P(good > bad) + P(tie)/2 from exact
    # binomials at N = 1e4, is 1/2, which is what theory.limit_accuracy returns there. Only ties that are exact in
    # floating point qualify: at p = phi/(phi+psi) rounded (e.g. phi = 0.9, psi = 0.3) p psi and (1-p) phi differ
    # in the last bit and limit_accuracy returns 1 or 0.
    ties = []
    for phi, psi in ((0.8, 0.8), (0.25, 0.75), (0.75, 0.25)):
        p = phi / (phi + psi)
        good, bad_ = (1 - p) * phi, p * psi
        win = _good_minus_bad_positive(10_000, good, bad_)
        lose = _good_minus_bad_positive(10_000, bad_, good)
        expected = win + 0.5 * (1 - win - lose)
        ties.append((expected, float(limit_accuracy(p, phi, psi))))
    tie_ok = all(abs(e - got) < 0.01 for e, got in ties)
    return verdict(bad is None and tie_ok, bad or "30 hypothesis examples (p, phi, psi, lambda, a, b in {-a, 0}): "
                   "accuracy of the limit solution equals theory.limit_accuracy; at p = p* exactly, exact binomials "
                   "(N = 1e4) give expected accuracy " + ", ".join(f"{e:.3f}" for e, _ in ties)
                   + " and theory.limit_accuracy " + ", ".join(f"{g:.1f}" for _, g in ties))


def _ratio_root(phi: float, psi: float, level: float) -> float:
    """The p where (p01 + p10)/(p00 + p11) = p psi / ((1 - p) phi) (eq. (14)) crosses ``level``, by bracketing
    root-finding on the kept probabilities themselves (no closed form of eq. (19) involved)."""
    f = lambda p: p * psi - level * (1 - p) * phi  # noqa: E731  increasing in p
    return float(optimize.brentq(f, 0.0, 1.0, xtol=1e-15, rtol=4 * np.finfo(float).eps))


@claim("D.3-bounds", "p < p-*(t) implies (55); p > p+*(t) implies its reverse (1+t)(p00+p11) < (1-t)(p01+p10); "
       "p-*(t) <= p* <= p+*(t); theory.breakdown_bounds matches eq. (19)", "App. D.5, Thm. D.3, eq. (19), eq. (55)",
       "numeric-hypothesis")
def check_d_3_bounds():
    from beyond_collapse.theory import breakdown_bounds, breakdown_point

    st = _st()
    prob = st.floats(0.01, 0.99)

    def prop(x):
        phi, psi, t, u = x
        lo, hi = breakdown_bounds(phi, psi, t)
        star = breakdown_point(phi, psi)
        assert lo <= star <= hi, (x, lo, star, hi)
        # eq. (19) against the roots of ratio = (1-t)/(1+t), 1, (1+t)/(1-t) found numerically on eq. (14)
        for got, level in ((lo, (1 - t) / (1 + t)), (star, 1.0), (hi, (1 + t) / (1 - t))):
            assert abs(got - _ratio_root(phi, psi, level)) < 1e-12, (x, got, level)
        bad = lambda p: p * psi  # noqa: E731  p01 + p10
        good = lambda p: (1 - p) * phi  # noqa: E731  p00 + p11
        p_lo, p_hi = u * lo, hi + u * (1 - hi)  # a point below p-*(t) and one above p+*(t)
        if p_lo < lo * (1 - 1e-9):
            assert bad(p_lo) / good(p_lo) < (1 - t) / (1 + t), (x, p_lo)
        if p_hi > hi + 1e-9 * (1 - hi) and p_hi < 1:
            assert (1 + t) * good(p_hi) < (1 - t) * bad(p_hi), (x, p_hi)

    bad = for_all(st.tuples(prob, prob, prob, st.floats(0.0, 1.0)), prop, max_examples=40)
    return verdict(bad is None, bad or "40 hypothesis examples of (phi, psi, t): theory.breakdown_bounds and "
                   "breakdown_point equal the roots (scipy brentq) of p psi/((1-p) phi) = (1-t)/(1+t), 1, (1+t)/(1-t) "
                   "to 1e-12, and points beyond them satisfy (55) / its reverse")


@claim("D.3-t-limit", "p-*(t) and p+*(t) tend to p* as t -> 0 (numerically, |p+-*(t) - p*| <= t for small t)",
       "App. D.5, Thm. D.3, Cor. D.4", "numeric-hypothesis")
def check_d_3_t_limit():
    from beyond_collapse.theory import breakdown_bounds, breakdown_point

    st = _st()
    prob = st.floats(0.01, 0.99)

    def prop(x):
        phi, psi = x
        star = breakdown_point(phi, psi)
        gaps = [max(abs(v - star) for v in breakdown_bounds(phi, psi, t)) for t in (1e-1, 1e-3, 1e-6)]
        # |p+-*(t) - p*| = 2 t phi psi / ((phi+psi)(...)) <= t: derivative in t at 0 is at most 1/2
        assert gaps[0] > gaps[1] > gaps[2] and all(g <= t for g, t in zip(gaps, (1e-1, 1e-3, 1e-6))), (x, gaps)

    bad = for_all(st.tuples(prob, prob), prop)
    return verdict(bad is None, bad or "25 hypothesis examples: gaps shrink with t and stay below t")


def _good_minus_bad_positive(N: int, p_good: float, p_bad: float) -> float:
    """Exact P(N11 + N00 > N10 + N01) for N examples, each good w.p. p_good, bad w.p. p_bad.

    Bad ~ Bin(N, p_bad); given Bad = k, Good ~ Bin(N - k, p_good / (1 - p_bad)).
    """
    k = np.arange(N + 1)
    pk = stats.binom.pmf(k, N, p_bad)
    cond = stats.binom.sf(k, N - k, p_good / (1 - p_bad))  # P(Good > k | Bad = k)
    return float(np.sum(pk * cond))


@claim("E.52-54-concentration", "for fixed t in (0,1), w.p. 1 - o(1): N_kl <= (1+t) N p_kl (k != l) and "
       "N_kk >= (1-t) N p_kk", "App. E.4, eqs. (52)-(54)", "exact")
def check_e_52_54_concentration():
    Ns = (100, 1000, 10_000, 100_000, 1_000_000)
    rows, ok = [], True
    for p_kl in (0.02, 0.15, 0.4):
        for t in (0.05, 0.1, 0.3):
            mu = np.array(Ns, dtype=float) * p_kl
            upper = np.array([stats.binom.sf(np.floor((1 + t) * m), N, p_kl) for N, m in zip(Ns, mu)])
            lower = np.array([stats.binom.cdf(np.ceil((1 - t) * m) - 1, N, p_kl) for N, m in zip(Ns, mu)])
            # multiplicative Chernoff bounds, valid at every N: exp(-t^2 mu/(2+t)) and exp(-t^2 mu/2)
            ok &= bool(np.all(upper <= np.exp(-t**2 * mu / (2 + t)) * (1 + 1e-9))
                       and np.all(lower <= np.exp(-t**2 * mu / 2) * (1 + 1e-9)))
            # the exact tails tend to 0 (monotone once below 1/4; at small N lattice effects can raise them)
            for tail in (upper, lower):
                small = tail[np.argmax(tail < 0.25):] if np.any(tail < 0.25) else tail[-1:]
                ok &= bool(np.all(np.diff(small) <= 0) and tail[-1] < 1e-6)
            rows.append(f"p_kl={p_kl}, t={t}: {upper[-1]:.0e} / {lower[-1]:.0e}")
    return verdict(ok, f"exact binomial tails at N = {Ns}, 9 (p_kl, t) pairs: every tail is below its multiplicative "
                   "Chernoff bound and decreases to < 1e-6 by N = 1e6; P(exceed (1+t)Np) / P(below (1-t)Np) at "
                   "N = 1e6: " + "; ".join(rows))


@claim("E.5-prop", "Prop. E.5: under (55), N10 + N01 < N11 + N00 w.p. 1 - o(1); (and the reverse above p+*(t))",
       "App. E.4, Prop. E.5, eqs. (55)-(56)", "exact")
def check_e_5_prop():
    from beyond_collapse.theory import breakdown_bounds

    phi, psi, t = 0.8, 0.4, 0.1
    lo, hi = breakdown_bounds(phi, psi, t)
    Ns = (30, 300, 3000, 30000)
    below = [_good_minus_bad_positive(N, (1 - lo) * phi, lo * psi) for N in Ns]
    above = [_good_minus_bad_positive(N, (1 - hi) * phi, hi * psi) for N in Ns]
    ok = all(np.diff(below) > 0) and below[-1] > 1 - 1e-9 and all(np.diff(above) < 0) and above[-1] < 1e-9
    return verdict(ok, f"exact P(N_good > N_bad) (phi={phi}, psi={psi}, t={t}) at N={Ns}: at p-*(t)={lo:.4f}: "
                   f"{', '.join(f'{1 - v:.1e}' for v in below)} (1 - P); at p+*(t)={hi:.4f}: {', '.join(f'{v:.2e}' for v in above)}")


@claim("E.4-finite-N", "Prop. E.4 (b = 0) at finite N: P(N10 < N11 and N01 < N00) tends to 1 below both per-class "
       "breakdown points and to 0 above either", "App. E.3-E.4, Prop. E.4, eqs. (48)-(51), (52)", "exact")
def check_e_4_finite_n():
    from beyond_collapse.numerics import success_probability
    from beyond_collapse.theory import per_class_breakdown_points

    phi0, phi1, psi01, psi10 = 0.9, 0.5, 0.4, 0.6
    p_star = min(per_class_breakdown_points(phi0, phi1, psi01, psi10))
    Ns = [100, 1000, 10000]
    below, above = (success_probability(Ns, p, phi0, psi01, phi1=phi1, psi10=psi10, condition="per-class")
                    for p in (p_star - 0.05, p_star + 0.05))
    ok = (all(np.diff(below.probability) > 0) and below.log_failure[-1] < np.log(1e-6)
          and all(np.diff(above.probability) < 0) and above.probability[-1] < 1e-6)
    return verdict(ok, f"exact per-class probability (phi=({phi0}, {phi1}), psi=({psi01}, {psi10}), "
                   f"min p*={p_star:.4f}) "
                   f"at N={Ns}: 1 - P at p*-0.05: {', '.join(f'{np.exp(v):.1e}' for v in below.log_failure)}; "
                   f"P at p*+0.05: {', '.join(f'{v:.1e}' for v in above.probability)}")


@claim("E.5-per-class-printed", "Sec. E.4: condition (55) is sufficient for the hypothesis of Prop. E.4, "
       "N_kl < N_kk for all k != l", "App. E.4, Prop. E.5, eq. (55)", "exact", expected="erratum")
def check_e_5_per_class_printed():
    from beyond_collapse.numerics import success_probability
    from beyond_collapse.theory import kept_probabilities, pooled_condition

    phi0, phi1, psi01, psi10, p, t = 0.9, 0.5, 0.4, 0.6, 0.505, 0.1
    holds = pooled_condition(kept_probabilities(p, phi0, phi1, psi01, psi10), t)
    Ns = [100, 1000, 10000]
    prob = success_probability(Ns, p, phi0, psi01, phi1=phi1, psi10=psi10, condition="per-class").probability
    if holds and all(np.diff(prob) < 0) and prob[-1] < 1e-6:
        return "erratum", (f"(55) holds at phi=({phi0}, {phi1}), psi=({psi01}, {psi10}), p={p}, t={t}, yet the exact "
                           f"P(N10 < N11 and N01 < N00) at N={Ns} is {', '.join(f'{v:.2e}' for v in prob)}: "
                           "(55) only gives the pooled (56); per class (1+t) p_kl < (1-t) p_kk is needed")
    return "verified", f"(55) holds={holds}; per-class probability at N={Ns}: {prob.tolist()}"


@claim("E.5-printed-consequence", "solving the printed '(1-t)/(1+t) <= ratio' gives p >= p-*(t), where the "
       "limit accuracy is 0, not 100%", "App. E.5 (proof of Thm. D.3)", "numeric-hypothesis", expected="erratum")
def check_e_5_printed_consequence():
    # p is picked from the printed inequality itself on a grid, and the accuracy comes from the numerically solved
    # limit system (43): neither uses eq. (19) or theory.limit_accuracy.
    phi, psi, t, lam, a = 0.8, 0.4, 0.1, 0.1, 0.5
    grid = np.linspace(0.01, 0.99, 99)
    printed = [p for p in grid if (1 - t) / (1 + t) <= p * psi / ((1 - p) * phi)]
    accs = []
    for p in printed:
        n = np.array([(1 - p) * phi, p * psi, p * psi, (1 - p) * phi]) / 2 / lam
        accs.append(_clean_accuracy(n, solve_limit_system(n, a, -a)))
    p_star = next(p for p, acc in zip(printed, accs) if acc == 0.0) if 0.0 in accs else None
    wrong = [p for p, acc in zip(printed, accs) if acc == 0.0]
    if printed and wrong:
        return "erratum", (f"phi={phi}, psi={psi}, t={t}: {len(printed)} of 99 grid points p in [0.01, 0.99] satisfy the "
                           f"printed inequality (p >= {min(printed):.2f}); at {len(wrong)} of them (p >= {p_star:.2f}) "
                           f"the limit system (43), solved numerically (lambda={lam}, a={a}, b=-a), has accuracy 0%")
    return "verified", f"printed inequality holds at {len(printed)} grid points; limit accuracies {sorted(set(accs))}"


@claim("D.16-binomial", "N_kl = sum_i z_ikl ~ Bin(N, p_kl) under independent selection (Assumption 3.1)",
       "App. D.3, eq. (16), Assumption 3.1", "simulation")
def check_d_16_binomial():
    rng = np.random.default_rng(20240516)
    p, phi, psi, N, reps = 0.3, 0.7, 0.4, 400, 2000
    y = rng.integers(0, 2, size=(reps, N))
    flip = rng.random((reps, N)) < p
    ys = np.where(flip, 1 - y, y)
    q = rng.random((reps, N)) < np.where(flip, psi, phi)
    worst = 0.0
    for k in (0, 1):
        for l in (0, 1):
            counts = np.sum((y == k) & (ys == l) & q, axis=1)
            pkl = ((1 - p) * phi if k == l else p * psi) / 2
            mean_z = (counts.mean() - N * pkl) / np.sqrt(N * pkl * (1 - pkl) / reps)
            var_ratio = counts.var(ddof=1) / (N * pkl * (1 - pkl))
            # sample-variance ratio has sd ~ sqrt(2/(reps-1)) (near-normal counts)
            var_z = (var_ratio - 1) / np.sqrt(2 / (reps - 1))
            worst = max(worst, abs(mean_z), abs(var_z))
    return verdict(worst < 5, f"{reps} simulated datasets of N={N}: max |z| of count means and variances vs "
                   f"Bin(N, p_kl) = {worst:.2f} (< 5)")


@claim("D.9-gram", "Gaussian mixture with E||x||^2 = 1 satisfies Condition D.1 with a = ||mu||^2, b = -a "
       "(||x_i||^2 ~ 1, x_i.x_j ~ a or b) by concentration, uniformly over the N^2 entries as d grows",
       "App. D.1, eq. (9)", "simulation")
def check_d_9_gram():
    from beyond_collapse.numerics.samplers import sample_gaussian_mixture

    rng = np.random.default_rng(7)
    rows, ok = [], True
    for m in (0.3, 0.6):
        devs = []
        for d, N in ((100, 50), (1000, 50), (10_000, 50), (10_000, 200)):
            X, y = sample_gaussian_mixture(N, d=d, mu_norm=m, rng=rng)  # corrected eq. (23)
            G = X @ X.T
            target = np.where(y[:, None] == y[None, :], m**2, -(m**2))
            np.fill_diagonal(target, 1.0)
            # sd of an off-diagonal entry: s^4 d + 2 s^2 m^2; of a squared norm: 2 s^4 d + 4 s^2 m^2 (s^2 = (1-m^2)/d)
            sd_off = np.sqrt((1 - m**2) ** 2 / d + 2 * m**2 * (1 - m**2) / d)
            z = np.abs(G - target) / np.where(np.eye(N, dtype=bool), np.sqrt(2) * sd_off, sd_off)
            # the largest of ~N^2/2 near-normal deviations: below sqrt(2 log(N^2)) + 1.5 sd
            ok &= bool(z.max() < np.sqrt(2 * np.log(N**2)) + 1.5)
            devs.append(float(np.max(np.abs(G - target))))
            rows.append(f"|mu|={m}, d={d}, N={N}: max |G - target| = {devs[-1]:.3f} ({z.max():.1f} sd)")
        ok &= devs[0] > devs[1] > devs[2]  # uniform concentration: the worst entry shrinks like d^-1/2
    return verdict(ok, "; ".join(rows) + "; each max below sqrt(2 log N^2) + 1.5 sd, shrinking with d")


@claim("D.3-sides", "Thm. D.3: p < p-*(t) gives (55) and limit accuracy 100%; p > p+*(t) gives the reverse "
       "condition and 0%", "App. D.5, Thm. D.3, eq. (19)", "numeric-hypothesis")
def check_d_3_sides():
    from hypothesis import strategies as st

    from beyond_collapse.proofs_check.strategies import rlhf_parameters

    def prop(x):
        (side, (p, phi, psi, t)), lam, a, bcase = x
        bad, good = p * psi, (1 - p) * phi  # p01 + p10 and p00 + p11, eq. (14)
        n = np.array([good, bad, bad, good]) / 2 / lam
        # accuracy from the numerically solved limit system (43), not from the package's breakdown formula
        acc = _clean_accuracy(n, solve_limit_system(n, a, -a if bcase == "-a" else 0.0))
        if side == "below":
            assert (1 + t) * bad < (1 - t) * good and abs(acc - 1.0) < 1e-12, (x, acc)
        else:
            assert (1 + t) * good < (1 - t) * bad and acc == 0.0, (x, acc)

    sides = st.one_of(st.tuples(st.just("below"), rlhf_parameters(side="below", eps=1e-3)),
                      st.tuples(st.just("above"), rlhf_parameters(side="above", eps=1e-3)))
    strat = st.tuples(sides, st.floats(1e-3, 1.0), st.floats(0.05, 0.95), st.sampled_from(["-a", "0"]))
    bad = for_all(strat, prop, max_examples=40)
    return verdict(bad is None, bad or "40 hypothesis examples from proofs_check.strategies.rlhf_parameters "
                   "(side below / above, p from eq. (19)): (55) or its reverse holds on the kept probabilities, and "
                   "the limit system (43), solved numerically at random (lambda, a, b in {-a, 0}), gives 100% / 0%")


@claim("S3.4-boundary-cases", "no pruning (phi = psi = 1): 100% below p = 1/2, 0% above; oracle (psi = 0): 100% for "
       "every p < 1 -- limits of the theorem at parameters outside Thm. D.3's open hypotheses phi, psi in (0, 1)",
       "Sec. 3.4, App. D.6", "numeric-hypothesis")
def check_s3_4_boundary_cases():
    st = _st()

    def prop(x):
        p, lam, a, bcase = x
        b = -a if bcase == "-a" else 0.0
        for phi, psi, star in ((1.0, 1.0, 0.5), (1.0, 0.0, 1.0)):
            if abs(p - star) < 1e-3:
                continue
            n = np.array([(1 - p) * phi, p * psi, p * psi, (1 - p) * phi]) / 2 / lam
            acc = _clean_accuracy(n, solve_limit_system(n, a, b))
            assert abs(acc - (1.0 if p < star else 0.0)) < 1e-12, (x, phi, psi, acc)

    strat = st.tuples(st.floats(0.01, 0.99), st.floats(1e-3, 1.0), st.floats(0.05, 0.95), st.sampled_from(["-a", "0"]))
    bad = for_all(strat, prop, max_examples=25)
    return verdict(bad is None, bad or "25 hypothesis examples (p, lambda, a, b): the limit system's accuracy "
                   "switches at p* = 1/2 (no pruning) and stays 100% below p* = 1 (oracle)")


@claim("D.3-zero-half", "Thm. D.3's second half: for p > p+*(t) the accuracy tends to 0% w.p. 1 - o(1). App. E proves "
       "only the 100% half ((52) bounds one direction; E.5 solves only for p-*(t)), so this half has no proof in the "
       "paper", "App. D.5, Thm. D.3, eq. (19); App. E.4-E.5", "exact", expected="unproved")
def check_d_3_zero_half():
    from hypothesis import strategies as st

    from beyond_collapse.proofs_check.strategies import rlhf_parameters

    probs = []

    def prop(x):
        (p, phi, psi, t), lam, a, bcase = x
        bad, good = p * psi, (1 - p) * phi
        n = np.array([good, bad, bad, good]) / 2 / lam
        acc = _clean_accuracy(n, solve_limit_system(n, a, -a if bcase == "-a" else 0.0))
        # exact finite-N probability that the good survivors outnumber the bad ones (Prop. E.3's event)
        p_good = [_good_minus_bad_positive(N, good, bad) for N in (100, 1000, 10_000)]
        probs.append(p_good[-1])
        assert (1 + t) * good < (1 - t) * bad and acc == 0.0, (x, acc)
        assert p_good[0] >= p_good[1] >= p_good[2] and p_good[2] < 0.05, (x, p_good)

    strat = st.tuples(rlhf_parameters(side="above", eps=0.05), st.floats(1e-3, 1.0), st.floats(0.05, 0.95),
                      st.sampled_from(["-a", "0"]))
    bad = for_all(strat, prop, max_examples=25)
    return verdict(bad is None, bad or "unproved in the paper; evidence: 25 hypothesis draws with p > p+*(t) "
                   "(t >= 0.05): the reversed (55) holds, the limit system (43) solved numerically gives 0%, and the exact "
                   "P(N11 + N00 > N10 + N01) decreases over N = 100, 1e3, 1e4 to at most "
                   f"{max(probs):.1e} (see also T3.2-simulation, T3.2-fits-probability on actual fits)",
                   if_true="unproved")


@claim("D.5-remark", "the gap between the training accuracy (41) and the test accuracy shrinks to 0 at rate "
       "O(1/sqrt(N))", "App. D.7, Remark D.5", "numeric-hypothesis")
def check_d_5_remark():
    # Test accuracy: fresh points obeying Condition D.1 (numerics.solve_kkt's margins), training accuracy: eq. (41) on
    # the kept rows; counts drawn multinomially from eq. (14) at N rows, gamma = N lambda. The gap is largest at
    # p = p*, where N_good - N_bad is O(sqrt(N)) and the O(1) band 0 < P - Q <= (1-a)/a
    # (docs/ERRATA.md, 'Finite-N solvers') is hit with probability ~ 1/sqrt(N).
    from beyond_collapse.numerics import solve_kkt

    rng = np.random.default_rng(41)
    a, lam, reps, Ns = 0.5, 0.01, 2000, (100, 1000, 10_000, 100_000)
    rows, ok = [], True
    for p, phi, psi in ((0.5, 0.8, 0.8), (0.4, 0.8, 0.8), (0.3, 0.9, 0.6)):
        pk = np.array([(1 - p) * phi, p * psi, p * psi, (1 - p) * phi]) / 2
        gaps = []
        for N in Ns:
            c = rng.multinomial(N, np.r_[pk, 1 - pk.sum()], size=reps)
            sol = _single_threaded_kkt(solve_kkt, c[:, 0], c[:, 1], c[:, 2], c[:, 3], a, -a, N * lam)
            gaps.append(float(np.nanmean(np.abs(sol.train_accuracy - sol.test_accuracy))))
        scaled = np.array(gaps) * np.sqrt(Ns)
        if p == 0.5:  # at p*: gap ~ C / sqrt(N), sqrt(N) * gap roughly constant (Monte Carlo noise ~ 10%)
            ok &= all(x > y for x, y in zip(gaps, gaps[1:])) and scaled[1:].max() / scaled[1:].min() < 1.6
        else:  # away from p*: the gap vanishes faster than 1/sqrt(N)
            ok &= gaps[-1] == 0.0 and all(x >= y for x, y in zip(scaled, scaled[1:]))
        rows.append(f"p={p}, phi={phi}, psi={psi}: mean gap {', '.join(f'{g:.3f}' for g in gaps)} "
                    f"(x sqrt(N): {', '.join(f'{v:.2f}' for v in scaled)})")
    return verdict(ok, f"{reps} multinomial draws of the kept counts at N = {Ns}, a={a}, b=-a, lambda={lam}, "
                   "numerics.solve_kkt: " + "; ".join(rows))


def _single_threaded_kkt(fn, *args):
    from beyond_collapse.proofs_check.checks_finite import _single_threaded

    return _single_threaded(fn, *args)


@claim("S3.4-moderate-ratio", "even for moderately large psi/phi the breakdown point p* (and the proxy p-*(t)) stays "
       "close to 1 -- quantified here: p* >= 0.9 iff psi/phi <= 1/9, p* >= 0.8 iff psi/phi <= 1/4",
       "Sec. 3.4 and App. D.6, 'Oracle Pruning' / 'Pure RLHF'", "numeric-hypothesis")
def check_s3_4_moderate_ratio():
    # the breakdown of the numerically solved limit system (43), located by bisection on its accuracy; p-*(0.1) as
    # the root of (55) on the kept probabilities; both compared with theory.breakdown_point / breakdown_bounds
    from beyond_collapse.theory import breakdown_bounds, breakdown_point

    lam, a = 0.1, 0.5
    rows, ok = [], True

    def acc(p, r):
        n = np.array([1 - p, p * r, p * r, 1 - p]) / 2 / lam
        return _clean_accuracy(n, solve_limit_system(n, a, -a))

    for r in (0.05, 1 / 9, 0.25, 0.5, 1.0):
        lo, hi = 0.0, 1.0 - 1e-12
        for _ in range(45):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if acc(mid, r) > 1 - 1e-12 else (lo, mid)
        measured = 0.5 * (lo + hi)
        proxy = _ratio_root(1.0, r, 0.9 / 1.1)
        ok &= abs(measured - 1 / (1 + r)) < 1e-9 and abs(measured - breakdown_point(1.0, r)) < 1e-9
        ok &= abs(proxy - breakdown_bounds(1.0, r, 0.1)[0]) < 1e-12
        rows.append(f"psi/phi={r:.3g}: p* = {measured:.4f}, p-*(0.1) = {proxy:.4f}")
    return verdict(ok, "breakdown of the limit system by bisection (equals 1/(1 + psi/phi) and theory.breakdown_point "
                   "to 1e-9; p-*(0.1) by brentq equals theory.breakdown_bounds): " + "; ".join(rows)
                   + ". 'Close to 1' holds for psi/phi up to about 0.1-0.25; at psi/phi = 1/2 p* is already 2/3")
