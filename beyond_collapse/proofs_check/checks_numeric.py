"""Numeric claims: the limit system (42)/(43), Props. E.3-E.5 and Thm. D.3, checked with hypothesis
(bounded, deterministic) and with exact binomial computations."""

from __future__ import annotations

import functools

import numpy as np
from scipy import optimize, stats
from scipy.special import expit

from beyond_collapse.proofs_check._base import claim, find_example, for_all, verdict

# Magnitudes of N_kl / gamma = p_kl / lambda: with lambda in [1e-3, 1] and p_kl in (0, 1/2] this
# spans weak (0.01) to strong (100) effective regularisation.
_N_LOW, _N_HIGH = 0.01, 100.0


@functools.lru_cache(maxsize=None)
def _limit_functions():
    """The derived (not typed-in) B and D arguments of eq. (43), as numpy functions of (n, a, b, B, D)."""
    import sympy as sp

    from beyond_collapse.theory.derivations import GROUPS, derivation, sym

    s = sym()
    argB, argD = derivation("E3.collapsed").derived
    args = [s[f"N{g}"] for g in GROUPS] + [s["a"], s["b"], s["Bc"], s["Dc"]]
    subs = {s["gamma"]: 1}  # the counts enter as N_kl / gamma
    return (sp.lambdify(args, argB.subs(subs), "numpy"), sp.lambdify(args, argD.subs(subs), "numpy"))


def solve_limit_system(n, a: float, b: float) -> np.ndarray:
    """Solve the gamma -> infinity system (42)-(43) for the script letters (A, B, C, D).

    ``n`` holds (N11, N10, N01, N00) / gamma. Returns ``[A, B, C, D]`` with A = 1 - B, C = 1 - D.
    Raises ``ValueError`` when the root finder does not reach a residual of 1e-12.
    """
    from beyond_collapse._validation import check_in_interval, check_positive

    n = check_positive("n", n, allow_zero=True)
    if n.shape != (4,) or n.sum() == 0:
        raise ValueError(f"n must hold four counts (N11, N10, N01, N00)/gamma, not all 0, got {n.tolist()}")
    a = float(check_in_interval("a", a, 0.0, 1.0, low_open=True, high_open=True))
    b = float(check_in_interval("b", b, -a, a))
    fB, fD = _limit_functions()
    n = [float(x) for x in n]

    def residual(x):
        B, D = x
        return [B - expit(fB(*n, a, b, B, D)), D - expit(fD(*n, a, b, B, D))]

    for start in ([0.5, 0.5], [0.9, 0.1], [0.1, 0.9], [0.9, 0.9], [0.1, 0.1]):
        sol = optimize.root(residual, start, method="hybr", tol=1e-14)
        if np.max(np.abs(residual(sol.x))) < 1e-12:
            B, D = sol.x
            return np.array([1 - B, B, 1 - D, D])
    raise ValueError(f"limit system (43) not solved for n={n}, a={a}, b={b}")


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
def _():
    def prop(x):
        n, a = x
        A, B, C, D = solve_limit_system(n, a, -a)
        assert abs(C - B) < 1e-9 and abs(D - A) < 1e-9, (n, a, (A, B, C, D))

    bad = for_all(_counts_strategy(), prop)
    return verdict(bad is None, bad or "25 deterministic hypothesis examples of (N_kl/gamma, a): |C - B|, |D - A| < 1e-9")


@claim("E.3-limit", "Prop. E.3 (b = -a), on the limit system (42): C = B > 1/2 and D = A < 1/2 iff "
       "N10 + N01 < N11 + N00", "App. E.3, Prop. E.3, eqs. (45)-(46)", "numeric-hypothesis")
def _():
    def prop(x):
        n, a = x
        A, B, C, D = solve_limit_system(n, a, -a)
        good = (B > 0.5) and (C > 0.5) and (A < 0.5) and (D < 0.5)
        assert good == (n[1] + n[2] < n[0] + n[3]), (n, a, (A, B, C, D))

    bad = for_all(_counts_strategy(), prop)
    return verdict(bad is None, bad or "25 hypothesis examples: the equivalence holds on every solution of (42)")


@claim("E.4-limit-corrected", "Prop. E.4 (b = 0), corrected pairing: B > 1/2 and A < 1/2 iff N10 < N11; "
       "C > 1/2 and D < 1/2 iff N01 < N00", "App. E.3, Prop. E.4, eqs. (50)-(51) (corrected)", "numeric-hypothesis")
def _():
    def prop(x):
        n, a = x
        A, B, C, D = solve_limit_system(n, a, 0.0)
        assert ((B > 0.5) and (A < 0.5)) == (n[1] < n[0]), (n, a, (A, B, C, D))
        assert ((C > 0.5) and (D < 0.5)) == (n[2] < n[3]), (n, a, (A, B, C, D))

    bad = for_all(_counts_strategy(), prop)
    return verdict(bad is None, bad or "25 hypothesis examples: each pair follows its own class's counts")


@claim("E.4-printed", "Prop. E.4 as printed: C, B > 1/2 iff N10 < N11 (50); D, A < 1/2 iff N01 < N00 (51)",
       "App. E.3, Prop. E.4, eqs. (50)-(51)", "numeric-hypothesis", expected="erratum")
def _():
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
def _():
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
    return verdict(bad is None, bad or "30 hypothesis examples (p, phi, psi, lambda, a, b in {-a, 0}): "
                   "accuracy of the limit solution equals theory.limit_accuracy")


@claim("D.3-bounds", "p < p-*(t) implies (55); p > p+*(t) implies its reverse (1+t)(p00+p11) < (1-t)(p01+p10); "
       "p-*(t) <= p* <= p+*(t); theory.breakdown_bounds matches eq. (19)", "App. D.5, Thm. D.3, eq. (19), eq. (55)",
       "numeric-hypothesis")
def _():
    from beyond_collapse.theory import breakdown_bounds, breakdown_point

    st = _st()
    prob = st.floats(0.01, 0.99)

    def prop(x):
        phi, psi, t, u = x
        lo, hi = breakdown_bounds(phi, psi, t)
        star = breakdown_point(phi, psi)
        assert lo <= star <= hi, (x, lo, star, hi)
        assert abs(lo - (1 - t) / (1 - t + (1 + t) * psi / phi)) < 1e-12
        assert abs(hi - (1 + t) / (1 + t + (1 - t) * psi / phi)) < 1e-12
        bad = lambda p: p * psi  # noqa: E731  p01 + p10
        good = lambda p: (1 - p) * phi  # noqa: E731  p00 + p11
        p_lo, p_hi = u * lo, hi + u * (1 - hi)  # a point below p-*(t) and one above p+*(t)
        if p_lo < lo * (1 - 1e-9):
            assert bad(p_lo) / good(p_lo) < (1 - t) / (1 + t), (x, p_lo)
        if p_hi > hi + 1e-9 * (1 - hi) and p_hi < 1:
            assert (1 + t) * good(p_hi) < (1 - t) * bad(p_hi), (x, p_hi)

    bad = for_all(st.tuples(prob, prob, prob, st.floats(0.0, 1.0)), prop, max_examples=40)
    return verdict(bad is None, bad or "40 hypothesis examples of (phi, psi, t)")


@claim("D.3-t-limit", "p-*(t) and p+*(t) tend to p* as t -> 0 (numerically, |p+-*(t) - p*| <= t for small t)",
       "App. D.5, Thm. D.3, Cor. D.4", "numeric-hypothesis")
def _():
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
def _():
    p_kl, t = 0.15, 0.1
    Ns = (100, 1000, 10000, 100000)
    upper = [float(stats.binom.sf(np.floor((1 + t) * N * p_kl), N, p_kl)) for N in Ns]
    lower = [float(stats.binom.cdf(np.ceil((1 - t) * N * p_kl) - 1, N, p_kl)) for N in Ns]
    ok = all(np.diff(upper) < 0) and all(np.diff(lower) < 0) and upper[-1] < 1e-9 and lower[-1] < 1e-9
    return verdict(ok, f"exact binomial tails (p_kl={p_kl}, t={t}) at N={Ns}: P(exceed (1+t)Np)="
                   f"{', '.join(f'{u:.1e}' for u in upper)}; P(below (1-t)Np)={', '.join(f'{v:.1e}' for v in lower)}")


@claim("E.5-prop", "Prop. E.5: under (55), N10 + N01 < N11 + N00 w.p. 1 - o(1); (and the reverse above p+*(t))",
       "App. E.4, Prop. E.5, eqs. (55)-(56)", "exact")
def _():
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
def _():
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
def _():
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
def _():
    from beyond_collapse.theory import breakdown_bounds, limit_accuracy

    phi, psi, t = 0.8, 0.4, 0.1
    lo, hi = breakdown_bounds(phi, psi, t)
    p = hi + 0.5 * (1 - hi)  # satisfies the printed inequality
    printed_holds = (1 - t) / (1 + t) <= p * psi / ((1 - p) * phi)
    acc = limit_accuracy(p, phi, psi)
    if printed_holds and acc == 0.0:
        return "erratum", (f"p={p:.3f} satisfies the printed inequality (phi={phi}, psi={psi}, t={t}) but the limit "
                           f"accuracy is {acc:.0%}; p < p-*(t)={lo:.4f} is what (55) gives")
    return "verified", f"printed inequality holds={printed_holds}, accuracy={acc}"


@claim("D.16-binomial", "N_kl = sum_i z_ikl ~ Bin(N, p_kl) under independent selection (Assumption 3.1)",
       "App. D.3, eq. (16), Assumption 3.1", "simulation")
def _():
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
       "(||x_i||^2 ~ 1, x_i.x_j ~ a or b) by concentration", "App. D.1, eq. (9)", "simulation")
def _():
    rng = np.random.default_rng(7)
    d, N, m = 4000, 40, 0.6
    y = np.repeat([0, 1], N // 2)
    mu = np.zeros(d)
    mu[0] = m
    s2 = (1 - m**2) / d  # corrected eq. (23)
    X = np.where(y[:, None] == 1, mu, -mu) + np.sqrt(s2) * rng.standard_normal((N, d))
    G = X @ X.T
    same = y[:, None] == y[None, :]
    off = ~np.eye(N, dtype=bool)
    target = np.where(same, m**2, -(m**2))
    # sd of an off-diagonal entry: s^4 d + 2 s^2 m^2; of a squared norm: 2 s^4 d + 4 s^2 m^2
    sd_off = np.sqrt((1 - m**2) ** 2 / d + 2 * m**2 * (1 - m**2) / d)
    sd_diag = np.sqrt(2 * (1 - m**2) ** 2 / d + 4 * m**2 * (1 - m**2) / d)
    z_off = np.max(np.abs(G - target)[off]) / sd_off
    z_diag = np.max(np.abs(np.diag(G) - 1)) / sd_diag
    ok = z_off < 5.5 and z_diag < 5.5
    return verdict(ok, f"d={d}, N={N}, |mu|={m}: max off-diagonal deviation {z_off:.2f} sd, max norm deviation "
                   f"{z_diag:.2f} sd (sd ~ d^-1/2 = {sd_off:.3f})")


@claim("D.3-sides", "Thm. D.3: p < p-*(t) gives (55) and limit accuracy 100%; p > p+*(t) gives the reverse "
       "condition and 0%", "App. D.5, Thm. D.3, eq. (19)", "numeric-hypothesis")
def _():
    from hypothesis import strategies as st

    from beyond_collapse.proofs_check.strategies import rlhf_parameters
    from beyond_collapse.theory import limit_accuracy

    def prop(x):
        side, (p, phi, psi, t) = x
        bad, good = p * psi, (1 - p) * phi  # p01 + p10 and p00 + p11, eq. (14)
        if side == "below":
            assert (1 + t) * bad < (1 - t) * good and limit_accuracy(p, phi, psi) == 1.0, x
        else:
            assert (1 + t) * good < (1 - t) * bad and limit_accuracy(p, phi, psi) == 0.0, x

    strat = st.one_of(st.tuples(st.just("below"), rlhf_parameters(side="below", eps=1e-3)),
                      st.tuples(st.just("above"), rlhf_parameters(side="above", eps=1e-3)))
    bad = for_all(strat, prop, max_examples=40)
    return verdict(bad is None, bad or "40 hypothesis examples from proofs_check.strategies.rlhf_parameters "
                   "(side below / above)")


@claim("S3.4-boundary-cases", "no pruning (phi = psi = 1): 100% below p = 1/2, 0% above; oracle (psi = 0): 100% for "
       "every p < 1 -- limits of the theorem at parameters outside Thm. D.3's open hypotheses phi, psi in (0, 1)",
       "Sec. 3.4, App. D.6", "numeric-hypothesis")
def _():
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
