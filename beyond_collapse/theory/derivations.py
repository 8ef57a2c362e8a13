"""Symbolic re-derivation of App. E (proof of Thm. D.3), App. D.6 and the isotropic rates of Sec. 3.4.

Every step is computed by sympy from the previous one (differentiation, substitution, limits,
linear solves); the paper's printed equations are typed in separately (``printed``) only to be
compared with what was derived. ``derivation_steps()`` returns the whole chain, in paper order, as
``Step`` records; ``docs/derivations.md`` is generated from it (``derivations_doc.py``) and the
claims registry (``beyond_collapse.proofs_check``) checks each printed form against its derived
form. Results are cached: the full chain takes about a second.

Notation follows the paper: true label k, synthetic label l, N_kl kept examples in group (k, l);
alpha values A, -B, C, -D (eq. (30)); script letters (here ``Ac``...) are gamma*A... (eq. (41)).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sympy as sp

__all__ = [
    "Step",
    "derivation_steps",
    "derivation",
    "sym",
    "logistic",
    "GROUPS",
]

# One representative example per group (true label k, synthetic label l).
GROUPS = ("11", "10", "01", "00")


@dataclass(frozen=True)
class Step:
    """One derived expression and, where the paper displays it, the printed form.

    ``derived`` and ``printed`` are sympy objects of the same shape (an expression, a tuple of
    expressions or a relational). ``equal`` is True/False when a printed form exists (decided
    symbolically by ``_same``), None otherwise.
    """

    key: str
    source: str
    description: str
    derived: object
    printed: object = None
    equal: bool | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)


@functools.lru_cache(maxsize=None)
def sym() -> dict[str, sp.Symbol]:
    """The symbols of App. E / D.6 with the assumptions the paper makes about them."""
    s = {
        "a": sp.Symbol("a", positive=True),  # Condition D.1: a > b, a > 0 in both cases b=-a, b=0
        "b": sp.Symbol("b", real=True),
        "gamma": sp.Symbol("gamma", positive=True),
        "v": sp.Symbol("v", real=True),
        "y": sp.Symbol("y'", real=True),
        "p": sp.Symbol("p", positive=True),
        "phi": sp.Symbol("phi", positive=True),
        "psi": sp.Symbol("psi", positive=True),
        "t": sp.Symbol("t", positive=True),
        "mu": sp.Symbol(r"\|\mu\|", positive=True),
        "d": sp.Symbol("d", positive=True),
        "s2": sp.Symbol("s^2", positive=True),
        "cos_theta": sp.Symbol("cos_theta", real=True),
        "th_gen": sp.Symbol("theta_gen", positive=True),
        "th_prune": sp.Symbol("theta_prune", positive=True),
        "th": sp.Symbol("theta", positive=True),
    }
    # App. D.6: normal CDF values at the thresholds, the bivariate CDF, and cos(theta_prune)
    s["Phi_c1"] = sp.Symbol(r"\Phi(c_1)", positive=True)
    s["Phi_c2"] = sp.Symbol(r"\Phi(c_2)", positive=True)
    s["Phi2"] = sp.Symbol(r"\Phi_2(c_1, c_2; \cos\theta)", positive=True)
    s["cos_prune"] = sp.Symbol(r"\cos\theta_{prune}", real=True)
    for g in GROUPS:
        s[f"N{g}"] = sp.Symbol(f"N_{{{g}}}", positive=True)
        s[f"n{g}"] = sp.Symbol(f"n_{{{g}}}", positive=True)  # N_kl / gamma, fixed in the limit
    for name in "ABCD":
        s[name] = sp.Symbol(name, nonnegative=True)
        s[name + "c"] = sp.Symbol(r"\mathcal{" + name + "}", nonnegative=True)
    return s


sigma = sp.Function("sigma")


def logistic(z):
    """The sigmoid of eq. (10) as a concrete sympy expression."""
    return 1 / (1 + sp.exp(-z))


def _is_zero(expr) -> bool:
    expr = sp.expand(expr)
    if expr == 0:
        return True
    return sp.simplify(expr) == 0


def _same(x, y) -> bool:
    """Symbolic equality of two expressions / tuples of expressions / linear relationals / sets."""
    if isinstance(x, sp.Set) or isinstance(y, sp.Set):
        return x == y
    if isinstance(x, (tuple, sp.Tuple)):
        return len(x) == len(y) and all(_same(u, v) for u, v in zip(x, y))
    if isinstance(x, sp.Rel) or isinstance(y, sp.Rel):
        # compare relationals as "lhs - rhs" with the same orientation
        if type(x) is not type(y):
            return False
        return _is_zero((x.lhs - x.rhs) - (y.lhs - y.rhs))
    return _is_zero(x - y)


def _require(ok: bool, what: str) -> None:
    """An identity the derivation relies on; sympy must confirm it (not an assert: -O keeps it)."""
    if not ok:
        raise RuntimeError(f"derivation step failed: {what}")


def _step(key, source, description, derived, printed=None, note="", **extra) -> Step:
    equal = None if printed is None else _same(derived, printed)
    return Step(key, source, description, derived, printed, equal, note, extra)


# ---------------------------------------------------------------------------------------------
# App. E.1: Prop. E.1 (eqs. (30)-(39), (31))
# ---------------------------------------------------------------------------------------------

def _gram(k: str, kk: str):
    s = sym()
    return s["a"] if k == kk else s["b"]


def _prop_e1(steps: list[Step]) -> dict:
    s = sym()
    a, b, gamma, v, y = s["a"], s["b"], s["gamma"], s["v"], s["y"]
    R = 1 - a  # eq. (29)

    # Step 1: derivative of the BCE loss (11) of sigma(v) with respect to the logit v.
    loss = -y * sp.log(logistic(v)) - (1 - y) * sp.log(1 - logistic(v))
    dloss = sp.diff(loss, v)
    # sympy proves dloss == sigma(v) - y (the residual simplifies to 0); keep the readable form
    _require(_is_zero(dloss - (logistic(v) - y)), "d BCE / dv != sigma(v) - y'")
    dloss_readable = sigma(v) - y
    steps.append(_step("E1.dloss", "eq. (11), (32)", "d/dv of the BCE loss l(sigma(v), y')",
                       dloss_readable, extra_check=sp.simplify(dloss - (logistic(v) - y))))

    # Step 2: gradient of (1) times N: sum_i q_i (sigma(v_i) - y'_i) x_i + gamma w with w = sum alpha_i x_i.
    # The coefficient of x_i must vanish (x_i linearly independent): solve for alpha_i.
    alpha_i, y_i, v_i = sp.symbols("alpha_i y'_i v_i", real=True)
    coef = dloss_readable.subs({v: v_i, y: y_i}) + gamma * alpha_i
    alpha_sol = sp.solve(sp.Eq(coef, 0), alpha_i)[0]
    steps.append(_step("E1.kkt", "eq. (32)", "stationarity of (1): alpha_i (kept example i)",
                       alpha_sol, printed=(y_i - sigma(v_i)) / gamma))

    # Step 3: logits v_g from a Gram matrix with Condition D.1's structure (unit norms, a for equal
    # true labels, b for different ones). Group g has N_g kept examples, all with the same alpha_g.
    alpha = {g: sp.Symbol(f"\\alpha_{{{g}}}", real=True) for g in GROUPS}
    N = {g: s[f"N{g}"] for g in GROUPS}
    logits = {}
    for g in GROUPS:
        total = alpha[g]  # x_i^T x_i = 1
        for h in GROUPS:
            total += (N[h] - (1 if h == g else 0)) * alpha[h] * _gram(g[0], h[0])
        logits[g] = sp.expand(total)
    s_expr = N["11"] * alpha["11"] + N["10"] * alpha["10"]  # eq. (34): sum over true label 1
    t_expr = N["01"] * alpha["01"] + N["00"] * alpha["00"]  # true label 0
    printed_33 = {g: (a * s_expr + b * t_expr if g[0] == "1" else b * s_expr + a * t_expr) + R * alpha[g]
                  for g in GROUPS}
    steps.append(_step("E1.logits", "eq. (33)", "logits v_g = x_i^T w for i in group g (kl)",
                       tuple(logits[g] for g in GROUPS), printed=tuple(printed_33[g] for g in GROUPS)))

    # Step 4: four-value structure (30)/(36): alpha_11 = A, alpha_10 = -B, alpha_01 = C, alpha_00 = -D.
    # Taken from the paper's monotonicity argument (one scalar equation per group); the claims
    # registry checks it on actual fits (E.1-four-values).
    sign = {"11": (s["A"], 1), "10": (s["B"], -1), "01": (s["C"], 1), "00": (s["D"], -1)}
    sub = {alpha[g]: sgn * val for g, (val, sgn) in sign.items()}
    s_abcd, t_abcd = s_expr.subs(sub), t_expr.subs(sub)
    steps.append(_step("E1.st", "eq. (39)", "s and t in terms of A, B, C, D", (s_abcd, t_abcd),
                       printed=(N["11"] * s["A"] - N["10"] * s["B"], N["01"] * s["C"] - N["00"] * s["D"])))

    # Step 5: gamma*alpha_g = y'_g - sigma(v_g); use 1 - sigma(z) = sigma(-z) (checked on the logistic)
    # to write every equation as gamma*X = sigma(arg).
    z = sp.Symbol("z", real=True)
    _require(_is_zero(1 - logistic(z) - logistic(-z)), "1 - sigma(z) != sigma(-z)")
    args = {}
    for g, (val, sgn) in sign.items():
        v_g = logits[g].subs(sub)
        y_g = 1 if g[1] == "1" else 0
        # gamma*sgn*val = y_g - sigma(v_g)  =>  gamma*val = sgn*(y_g - sigma(v_g))
        # y'=1 (sgn=+1): 1 - sigma(v) = sigma(-v);  y'=0 (sgn=-1): sigma(v)
        _require((y_g == 1) == (sgn == 1), f"sign convention of group {g}")
        args[g] = sp.expand(-v_g if y_g == 1 else v_g)
    A, B, C, D = (s[x] for x in "ABCD")
    N11, N10, N01, N00 = (N[g] for g in GROUPS)
    printed_31 = (
        -(a * N11 * A - a * N10 * B + b * N01 * C - b * N00 * D) - R * A,
        a * N11 * A - a * N10 * B + b * N01 * C - b * N00 * D - R * B,
        -(b * N11 * A - b * N10 * B + a * N01 * C - a * N00 * D) - R * C,
        b * N11 * A - b * N10 * B + a * N01 * C - a * N00 * D - R * D,
    )
    derived_31 = tuple(args[g] for g in GROUPS)
    steps.append(_step("E1.fixed_point", "eq. (31)",
                       "arguments of sigma in gamma*A = sigma(.), gamma*B, gamma*C, gamma*D (Prop. E.1)",
                       derived_31, printed=printed_31, _lhs=tuple(gamma * s[x] for x in "ABCD")))

    # Step 6: predictions (37) and the correctness conditions behind the accuracy formula (40)/(41).
    Ac, Bc, Cc, Dc = (s[x + "c"] for x in "ABCD")
    script = {"11": Ac, "10": Bc, "01": Cc, "00": Dc}
    yhat = {}
    conds = {}
    for g, (val, sgn) in sign.items():
        y_g = 1 if g[1] == "1" else 0
        yhat[g] = y_g - sgn * script[g]  # y'_i - gamma*alpha_i with gamma*alpha_g = sgn*script
        rel = (yhat[g] > sp.Rational(1, 2)) if g[0] == "1" else (yhat[g] < sp.Rational(1, 2))
        conds[g] = sp.solve(rel, script[g]).as_set()
    steps.append(_step("E2.yhat", "eq. (37)", "predictions yhat_g = y'_g - gamma*alpha_g",
                       tuple(yhat[g] for g in GROUPS), printed=(1 - Ac, Bc, 1 - Cc, Dc)))
    half = sp.Rational(1, 2)
    printed_41 = {"11": sp.Interval.Ropen(-sp.oo, half), "10": sp.Interval.Lopen(half, sp.oo),
                  "01": sp.Interval.Lopen(half, sp.oo), "00": sp.Interval.Ropen(-sp.oo, half)}
    derived_41 = tuple(conds[g] for g in GROUPS)
    ok41 = all(conds[g].intersect(sp.Interval(0, 1)) == printed_41[g].intersect(sp.Interval(0, 1))
               for g in GROUPS)
    steps.append(Step("E2.accuracy", "eq. (40)-(41)",
                      "set of gamma*alpha_g for which group g's kept examples are classified correctly",
                      derived_41, tuple(printed_41[g] for g in GROUPS), ok41))
    return {"args": derived_31, "R": R}


# ---------------------------------------------------------------------------------------------
# App. E.3: the gamma -> infinity limit and the two tractable cases
# ---------------------------------------------------------------------------------------------

def _limit_and_cases(steps: list[Step], e1: dict) -> dict:
    s = sym()
    a, b, gamma = s["a"], s["b"], s["gamma"]
    A, B, C, D = (s[x] for x in "ABCD")
    Ac, Bc, Cc, Dc = (s[x + "c"] for x in "ABCD")
    N = {g: s[f"N{g}"] for g in GROUPS}
    n = {g: s[f"n{g}"] for g in GROUPS}
    N11, N10, N01, N00 = (N[g] for g in GROUPS)

    # (42): A = Ac/gamma etc., N_kl = n_kl*gamma with n_kl fixed (N_kl/gamma -> p_kl/lambda), gamma -> oo.
    scale = {A: Ac / gamma, B: Bc / gamma, C: Cc / gamma, D: Dc / gamma}
    grow = {N[g]: n[g] * gamma for g in GROUPS}
    back = {n[g]: N[g] / gamma for g in GROUPS}
    lim_args = tuple(sp.limit(sp.expand(x.subs(scale).subs(grow)), gamma, sp.oo).subs(back)
                     for x in e1["args"])
    X1 = (a * N11 * Ac - a * N10 * Bc + b * N01 * Cc - b * N00 * Dc) / gamma
    X0 = (b * N11 * Ac - b * N10 * Bc + a * N01 * Cc - a * N00 * Dc) / gamma
    steps.append(_step("E3.limit", "eq. (42)", "arguments of sigma in Ac = sigma(.), Bc, Cc, Dc as gamma -> oo",
                       lim_args, printed=(-X1, X1, -X0, X0), _lhs=(Ac, Bc, Cc, Dc),
                       note="N_kl/gamma held fixed; the R*alpha terms vanish as R*Ac/gamma"))
    # A = 1 - B and C = 1 - D: the arguments are opposite, and sigma(-z) = 1 - sigma(z)
    opp = (_is_zero(lim_args[0] + lim_args[1]), _is_zero(lim_args[2] + lim_args[3]))
    steps.append(Step("E3.complements", "eq. (42)", "Ac + Bc = 1 and Cc + Dc = 1 in the limit (opposite arguments)",
                      sp.Tuple(sp.expand(lim_args[0] + lim_args[1]), sp.expand(lim_args[2] + lim_args[3])),
                      sp.Tuple(0, 0), all(opp)))

    # (43): eliminate Ac = 1 - Bc and Cc = 1 - Dc.
    elim = {Ac: 1 - Bc, Cc: 1 - Dc}
    argB = sp.expand(lim_args[1].subs(elim))
    argD = sp.expand(lim_args[3].subs(elim))
    first_line = (sp.expand((a * N11 * (1 - Bc) - a * N10 * Bc + b * N01 * (1 - Dc) - b * N00 * Dc) / gamma),
                  sp.expand((b * N11 * (1 - Bc) - b * N10 * Bc + a * N01 * (1 - Dc) - a * N00 * Dc) / gamma))
    steps.append(_step("E3.eliminated", "eq. (43), first lines", "B and D equations after eliminating A and C",
                       (argB, argD), printed=first_line, _lhs=(Bc, Dc)))
    printed_43 = ((a * N11 + b * N01 - a * (N11 + N10) * Bc - b * (N01 + N00) * Dc) / gamma,
                  (b * N11 + a * N01 - b * (N10 + N10) * Bc - a * (N01 + N00) * Dc) / gamma)
    corrected_43 = ((a * N11 + b * N01 - a * (N11 + N10) * Bc - b * (N01 + N00) * Dc) / gamma,
                    (b * N11 + a * N01 - b * (N11 + N10) * Bc - a * (N01 + N00) * Dc) / gamma)
    steps.append(_step("E3.collapsed", "eq. (43), second lines (as printed)",
                       "collected B and D equations; printed D line has b(N10+N10)B",
                       (argB, argD), printed=printed_43, _lhs=(Bc, Dc),
                       residual=sp.factor(sp.expand(argD - printed_43[1]))))
    steps.append(_step("E3.collapsed_corrected", "eq. (43), second lines (corrected)",
                       "collected B and D equations with b(N11+N10)B", (argB, argD), printed=corrected_43,
                       _lhs=(Bc, Dc)))

    # Symmetric case b = -a: D = 1 - B solves the D equation whenever B solves the B equation.
    argB_s, argD_s = argB.subs(b, -a), argD.subs(b, -a)
    consistent = _is_zero(argD_s.subs(Dc, 1 - Bc) + argB_s.subs(Dc, 1 - Bc))
    argB_44 = sp.expand(argB_s.subs(Dc, 1 - Bc))
    Ntot = N11 + N10 + N01 + N00
    steps.append(_step("E3.symmetric", "eq. (44)", "b = -a: B equation after D = 1 - B (and D = A, C = B)",
                       argB_44, printed=(a * (N11 + N00) - a * Ntot * Bc) / gamma, _lhs=Bc,
                       consistent=consistent))
    steps.append(Step("E3.symmetric_D", "eq. (44)", "b = -a: D = 1 - B makes the D argument the negative of the B argument",
                      sp.expand(argD_s.subs(Dc, 1 - Bc) + argB_44), sp.Integer(0), consistent))
    # B <= 1/2  <=>  arg <= 0 (sigma increasing, sigma(0) = 1/2)  <=>  B >= threshold (arg decreasing in B).
    slope = sp.diff(argB_44, Bc)
    threshold = sp.solve(sp.Eq(argB_44, 0), Bc)[0]
    steps.append(_step("E3.symmetric_threshold", "Sec. E.3 after (44)",
                       "b = -a: B <= 1/2 iff B >= this threshold (the B argument decreases in B)",
                       threshold, printed=(N11 + N00) / Ntot, slope_negative=bool(slope.is_negative)))
    gap = sp.factor(sp.together(threshold - sp.Rational(1, 2)))
    # the denominator 2 N_kept is positive, so the sign of the gap is that of (45)'s difference
    numer, denom = sp.fraction(gap)
    steps.append(_step("E3.condition45", "eq. (45)",
                       "threshold - 1/2: positive iff N10 + N01 < N11 + N00 (Prop. E.3)", gap,
                       numerator_is_45=_is_zero(numer - ((N11 + N00) - (N10 + N01))),
                       denominator_positive=bool(denom.is_positive)))

    # Skewed case b = 0: each equation involves one pair of counts only.
    argB_0, argD_0 = argB.subs(b, 0), argD.subs(b, 0)
    steps.append(_step("E3.skewed", "eq. (47)", "b = 0: arguments of the B and D equations",
                       (argB_0, argD_0),
                       printed=(a * (N11 - (N11 + N10) * Bc) / gamma, a * (N01 - (N01 + N00) * Dc) / gamma),
                       _lhs=(Bc, Dc)))
    thrB = sp.solve(sp.Eq(argB_0, 0), Bc)[0]
    thrD = sp.solve(sp.Eq(argD_0, 0), Dc)[0]
    steps.append(_step("E3.skewed_thresholds", "eq. (48)-(49)",
                       "b = 0: B <= 1/2 iff B >= N11/(N11+N10); D >= 1/2 iff D <= N01/(N01+N00)",
                       (thrB, thrD), printed=(N11 / (N11 + N10), N01 / (N01 + N00)),
                       slopes_negative=(bool(sp.diff(argB_0, Bc).is_negative), bool(sp.diff(argD_0, Dc).is_negative))))
    # Which counts govern each script letter (A = 1 - B, C = 1 - D): derived, and as paired by (50)-(51).
    counts = set(N.values())
    depB = sp.FiniteSet(*(argB_0.free_symbols & counts))
    depD = sp.FiniteSet(*(argD_0.free_symbols & counts))
    pair_10_11, pair_01_00 = sp.FiniteSet(N10, N11), sp.FiniteSet(N01, N00)
    steps.append(_step("E3.skewed_dependence", "Prop. E.4, eqs. (50)-(51)",
                       "b = 0: the counts governing (A, B, C, D); printed: (50) pairs C, B with N10 < N11 and "
                       "(51) pairs D, A with N01 < N00",
                       sp.Tuple(depB, depB, depD, depD),
                       printed=sp.Tuple(pair_01_00, pair_10_11, pair_10_11, pair_01_00),
                       note="derived: A, B follow N10 < N11 and C, D follow N01 < N00"))
    return {"limit_args": lim_args, "argB": argB, "argD": argD}


# ---------------------------------------------------------------------------------------------
# App. E.4-E.5 and Thm. D.3
# ---------------------------------------------------------------------------------------------

def _concentration(steps: list[Step]) -> dict:
    s = sym()
    p, phi, psi, t = s["p"], s["phi"], s["psi"], s["t"]
    half = sp.Rational(1, 2)
    # (14)/(18): p_kl = P(q=1 | y'=l, y=k) P(y'=l | y=k) P(y=k) with a class-independent error rate p.
    P_y = half
    P_flip = {True: 1 - p, False: p}
    keep = {True: phi, False: psi}
    pkl = {g: keep[g[0] == g[1]] * P_flip[g[0] == g[1]] * P_y for g in GROUPS}
    steps.append(_step("D.pkl", "eq. (4), (14), (18)", "p_kl = P(q=1, y'=l, y=k) (symmetric pruning)",
                       tuple(pkl[g] for g in GROUPS),
                       printed=((1 - p) * phi / 2, p * psi / 2, p * psi / 2, (1 - p) * phi / 2)))
    # Remark D.2: (phi, psi) <-> (p_00, p_01) is a bijection for fixed p in (0, 1).
    p00, p01 = sp.symbols("p_00 p_01", positive=True)
    inv = sp.solve([sp.Eq(pkl["00"], p00), sp.Eq(pkl["01"], p01)], [phi, psi], dict=True)
    steps.append(_step("D.bijection", "Remark D.2, eq. (18)", "inverse map (p_00, p_01) -> (phi, psi)",
                       (inv[0][phi], inv[0][psi]), printed=(2 * p00 / (1 - p), 2 * p01 / p),
                       n_solutions=len(inv)))

    ratio = sp.simplify((pkl["01"] + pkl["10"]) / (pkl["00"] + pkl["11"]))
    steps.append(_step("E5.ratio", "Sec. E.5", "(p01 + p10)/(p00 + p11)", ratio,
                       printed=p * psi / ((1 - p) * phi)))
    eps = 2 * t / (1 + t)
    steps.append(_step("E4.eps", "eq. (55)", "(1-t)/(1+t) = 1 - eps with eps = 2t/(1+t)",
                       sp.simplify((1 - t) / (1 + t)), printed=1 - eps))
    # Concentration (52)-(54): N_bad <= (1+t) N (p01+p10) and N_good >= (1-t) N (p00+p11), so the
    # sufficient condition for (56) is (1+t)(p01+p10) < (1-t)(p00+p11), i.e. ratio < (1-t)/(1+t).
    # Solve ratio = (1-t)/(1+t) for p (ratio increases in p, so "<" means p below the root).
    p_minus = sp.solve(sp.Eq(ratio, (1 - t) / (1 + t)), p)
    p_plus = sp.solve(sp.Eq(ratio, (1 + t) / (1 - t)), p)
    dratio = sp.simplify(sp.diff(ratio, p))
    printed_m = (1 - t) / (1 - t + (1 + t) * psi / phi)
    printed_p = (1 + t) / (1 + t + (1 - t) * psi / phi)
    steps.append(_step("D3.p_minus", "eq. (19), p_-*(t)", "root in p of (55) with equality (below it: 100%)",
                       p_minus[0], printed=printed_m, n_roots=len(p_minus), ratio_increasing=dratio))
    steps.append(_step("D3.p_plus", "eq. (19), p_+*(t)",
                       "root in p of ratio = (1+t)/(1-t) (reverse concentration; above it: 0%)",
                       p_plus[0], printed=printed_p, n_roots=len(p_plus)))
    p_star = sp.solve(sp.Eq(ratio, 1), p)[0]
    steps.append(_step("D3.p_star", "Thm. 3.2 / D.3", "breakdown point p* (ratio = 1)", p_star,
                       printed=1 / (1 + psi / phi)))
    gaps = (sp.factor(sp.simplify(p_star - p_minus[0])), sp.factor(sp.simplify(p_plus[0] - p_star)))
    steps.append(Step("D3.ordering", "Thm. D.3", "p* - p_-*(t) and p_+*(t) - p*", sp.Tuple(*gaps), None, None,
                      note="each is a product/quotient of positive factors for phi, psi, t in (0, 1)"))
    lims = (sp.limit(p_minus[0], t, 0), sp.limit(p_plus[0], t, 0))
    steps.append(_step("D4.limits", "Cor. D.4", "limits of p_-*(t) and p_+*(t) as t -> 0", lims,
                       printed=(p_star, p_star)))
    # (52)-(54): N_bad <= (1+t) N (p01+p10) < (1-t) N (p00+p11) <= N_good needs the middle strict
    # inequality; divide by (1+t)(p00+p11) > 0 to get the form that is solved for p.
    bad, good = pkl["01"] + pkl["10"], pkl["00"] + pkl["11"]
    scale = (1 + t) * good
    derived_e5 = sp.Lt(sp.simplify((1 + t) * bad / scale), sp.simplify((1 - t) * good / scale))
    printed_e5 = sp.Le((1 - t) / (1 + t), ratio)
    point = {phi: sp.Rational(4, 5), psi: sp.Rational(2, 5), t: sp.Rational(1, 10)}
    root = p_minus[0].subs(point)
    truth = {name: tuple(bool(rel.subs(point).subs(p, root + dp)) for dp in (-sp.Rational(1, 20), sp.Rational(1, 20)))
             for name, rel in (("derived", derived_e5), ("printed", printed_e5))}
    steps.append(_step("E5.inequality", "Sec. E.5 (proof of Thm. D.3)",
                       "the inequality solved for p: derived (from (52)-(54)) vs printed", derived_e5,
                       printed=printed_e5, truth_below_above_p_minus=truth,
                       note="truth values at p = p_-*(t) -/+ 0.05 for phi=0.8, psi=0.4, t=0.1"))
    no_pruning = (sp.simplify(p_star.subs(psi, phi)), sp.simplify(p_minus[0].subs(psi, phi)))
    steps.append(_step("D6.no_pruning", "Sec. 3.4 / D.6, no pruning", "psi/phi = 1: p* and p_-*(t)",
                       no_pruning, printed=(half, half - t / 2)))
    oracle = (sp.limit(p_star, psi, 0), sp.simplify(sp.limit(p_minus[0], psi, 0)))
    steps.append(_step("D6.oracle", "Sec. 3.4 / D.6, oracle (pure RLHF)", "psi/phi -> 0: p* and p_-*(t)",
                       oracle, printed=(sp.Integer(1), sp.Integer(1))))
    return {"pkl": pkl, "ratio": ratio, "p_minus": p_minus[0], "p_plus": p_plus[0], "p_star": p_star}


# ---------------------------------------------------------------------------------------------
# App. D.6: Gaussian mixture keep rates; Sec. 3.4: isotropic orthant rates
# ---------------------------------------------------------------------------------------------

def _gaussian_mixture(steps: list[Step]) -> None:
    s = sym()
    mu, d, s2 = s["mu"], s["d"], s["s2"]
    # x | y=1 ~ N(mu, s2 I_d) with E||x||^2 = ||mu||^2 + tr(Sigma) = 1 (Sec. 3.1).
    s2_sol = sp.solve(sp.Eq(mu**2 + d * s2, 1), s2)[0]
    steps.append(_step("D6.variance", "eq. (23), variance of x given y", "per-coordinate noise variance of x given y",
                       s2_sol, printed=1 / ((1 - mu**2) * d)))
    # x^T w > 0 with x = mu + sqrt(s2) eta, ||w|| = 1, mu^T w = |mu| cos(angle):
    # eta^T w > -|mu| cos(angle) / sqrt(s2) = c.
    cos_th = s["cos_prune"]
    c = sp.simplify(-mu * cos_th / sp.sqrt(s2_sol))
    steps.append(_step("D6.threshold", "Sec. D.6, c1 (c2 with theta_gen)",
                       "threshold c on eta^T w_prune (unit-variance) for x^T w_prune > 0",
                       c, printed=-mu * sp.sqrt(d * (1 - mu**2)) * cos_th))
    # Bivariate cells of (X, Y) = (eta^T w_prune, eta^T w_gen): q_LL = P(X<=c1, Y<=c2), ...
    qLL, qLH, qHL, qHH = sp.symbols("q_LL q_LH q_HL q_HH", nonnegative=True)
    Phi1, Phi2c, Phi2 = s["Phi_c1"], s["Phi_c2"], s["Phi2"]
    cells = sp.solve([sp.Eq(qLL + qLH + qHL + qHH, 1), sp.Eq(qLL + qLH, Phi1), sp.Eq(qLL + qHL, Phi2c),
                      sp.Eq(qLL, Phi2)], [qLL, qLH, qHL, qHH], dict=True)[0]
    # phi_1 = P(X>c1 | Y>c2) (kept: y'=1 and x^T w_prune > 0); psi_10 = P(X<=c1 | Y<=c2)
    # (kept: y'=0 and x^T w_prune < 0, with the label sign 2y'-1 of eq. (5)).
    phi_expr = sp.simplify(cells[qHH] / (1 - Phi2c))
    psi_expr = sp.simplify(cells[qLL] / Phi2c)
    steps.append(_step("D6.phi", "Sec. D.6, phi_1", "phi from the bivariate cells", phi_expr,
                       printed=(1 - Phi1 - Phi2c + Phi2) / (1 - Phi2c)))
    printed_psi = (Phi1 + Phi2c - Phi2) / Phi2c
    steps.append(_step("D6.psi", "Sec. D.6, psi", "psi from the bivariate cells", psi_expr,
                       printed=printed_psi,
                       printed_minus_one=sp.simplify((printed_psi - 1).subs(
                           {Phi1: qLL + qLH, Phi2c: qLL + qHL, Phi2: qLL}, simultaneous=True))))


def _isotropic(steps: list[Step]) -> None:
    s = sym()
    tg, tp, th = s["th_gen"], s["th_prune"], s["th"]
    pi = sp.pi
    r12, r13, r23 = sp.symbols("rho_12 rho_13 rho_23", real=True)
    # Trivariate orthant probability (Plackett 1954; e.g. Owen 1956):
    # P(U>0, V>0, W>0) = 1/8 + (asin r12 + asin r13 + asin r23) / (4 pi).
    orthant = sp.Rational(1, 8) + (sp.asin(r12) + sp.asin(r13) + sp.asin(r23)) / (4 * pi)

    def ort(c12, c13, c23):
        # correlation cos(c) with c in [0, pi]: asin(cos c) = pi/2 - c on that range
        return sp.expand(orthant.subs({sp.asin(r12): pi / 2 - c12, sp.asin(r13): pi / 2 - c13,
                                       sp.asin(r23): pi / 2 - c23}))

    # U = x^T mu (true label), V = x^T w_gen (synthetic label), W = x^T w_prune; flipping a sign
    # replaces the angles to the flipped variable by pi - angle.
    p11 = ort(tg, tp, th)                          # U>0, V>0, W>0
    p10 = ort(pi - tg, pi - tp, th)                # U>0, V<0, W<0
    p_agree = sp.Rational(1, 2) - tg / (2 * pi)    # P(U>0, V>0) = 1/4 + asin(cos tg)/(2 pi)
    p_disagree = tg / (2 * pi)                     # P(U>0, V<0)
    p_err = sp.simplify(2 * p_disagree)
    phi = sp.simplify(p11 / p_agree)
    psi = sp.simplify(p10 / p_disagree)
    steps.append(_step("S34.p", "Fig. 2 / Sec. 3.4", "generator error rate p = P(y' != y)", p_err, printed=tg / pi))
    steps.append(Step("S34.phi", "Sec. 3.4, isotropic phi", "phi = P(W>0 | U>0, V>0)", phi))
    steps.append(Step("S34.psi", "Sec. 3.4, isotropic psi", "psi = P(W<0 | U>0, V<0)", psi))
    # p < p*  <=>  p psi < (1 - p) phi  <=>  p_10 < p_11 (both sides are twice the kept counts' rates)
    diff = sp.simplify(p11 - p10)
    steps.append(_step("S34.condition", "Sec. 3.4, breakdown condition",
                       "(1-p) phi - p psi = 2 (p_11 - p_10); positive iff theta_gen + theta_prune < pi",
                       sp.simplify((1 - p_err) * phi - p_err * psi), orthant_difference=diff))


@functools.lru_cache(maxsize=None)
def derivation_steps() -> tuple[Step, ...]:
    """Run the whole derivation chain once (cached) and return its steps in paper order."""
    steps: list[Step] = []
    e1 = _prop_e1(steps)
    _limit_and_cases(steps, e1)
    _concentration(steps)
    _gaussian_mixture(steps)
    _isotropic(steps)
    return tuple(steps)


def derivation(key: str) -> Step:
    """Look up one step of ``derivation_steps()`` by key (e.g. ``"E3.collapsed"``)."""
    for step in derivation_steps():
        if step.key == key:
            return step
    raise ValueError(f"key must be one of {', '.join(s.key for s in derivation_steps())}, got {key!r}")
