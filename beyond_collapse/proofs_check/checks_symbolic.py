"""Symbolic claims: each compares a printed equation with its sympy derivation (theory.derivations)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from beyond_collapse.proofs_check._base import claim, for_all, not_checkable, verdict


def _step(key):
    from beyond_collapse.theory.derivations import derivation

    return derivation(key)


def _short(expr, n: int = 160) -> str:
    """Plain one-line text of a sympy object: LaTeX-named symbols lose their markup (N_{10} -> N10,
    \\mathcal{B} -> B, the script letter)."""
    text = str(expr).replace("\\mathcal{", "").replace("\\", "").replace("_{", "").replace("{", "").replace("}", "")
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _matches(key: str) -> tuple[str, str]:
    """The printed form of step ``key`` equals its derivation (sympy: difference simplifies to 0)."""
    s = _step(key)
    return verdict(bool(s.equal), f"sympy: derived - printed == 0 ({_short(s.derived)})" if s.equal
                   else f"derived {_short(s.derived)} != printed {_short(s.printed)}")


def _differs(key: str, why: str) -> tuple[str, str]:
    """The printed form of step ``key`` differs from its derivation: an erratum."""
    s = _step(key)
    if s.equal:
        return "verified", f"printed form equals the derivation ({_short(s.derived)})"
    return "erratum", f"{why}; derived {_short(s.derived)}, printed {_short(s.printed)}"


@claim("E.32-loss-gradient", "d/dv BCE(sigma(v), y') = sigma(v) - y', so grad L = 0 gives "
       "gamma*alpha_i = y'_i - yhat_i with gamma = N*lambda", "App. E.1, eq. (32)", "symbolic")
def check_e_32_loss_gradient():
    s = _step("E1.dloss")
    ok = s.extra["extra_check"] == 0 and bool(_step("E1.kkt").equal)
    return verdict(ok, "sympy: diff(BCE(logistic(v), y'), v) - (logistic(v) - y') simplifies to 0; "
                   "solving the x_i coefficient of the gradient for alpha_i gives (y'_i - sigma(v_i))/gamma")


@claim("E.33-logits", "v_i = a s + b t + R q_i alpha_i (i in I_1), b s + a t + R q_i alpha_i (i in I_0)",
       "App. E.1, eq. (33)", "symbolic")
def check_e_33_logits():
    return _matches("E1.logits")


@claim("E.39-s-t", "s = N11 A - N10 B, t = N01 C - N00 D", "App. E.1, eq. (39)", "symbolic")
def check_e_39_s_t():
    return _matches("E1.st")


@claim("E.31-fixed-point", "Prop. E.1: (A, B, C, D) solve the four-equation system (31)",
       "App. E.1, Prop. E.1, eq. (31) (also (35), (38))", "symbolic")
def check_e_31_fixed_point():
    return _matches("E1.fixed_point")


@claim("E.37-predictions", "yhat_i = 1 - gamma A, gamma B, 1 - gamma C, gamma D on the four groups",
       "App. E.1, eq. (37)", "symbolic")
def check_e_37_predictions():
    return _matches("E2.yhat")


@claim("E.41-conditions", "a kept example of group 11/10/01/00 is classified correctly iff "
       "A < 1/2 / B > 1/2 / C > 1/2 / D < 1/2 (script letters)", "App. E.2, eqs. (40)-(41)", "symbolic")
def check_e_41_conditions():
    s = _step("E2.accuracy")
    return verdict(bool(s.equal), f"sympy solve of yhat_g >< 1/2 for gamma*alpha_g: {_short(s.derived)}")


@claim("E.42-limit", "as gamma -> oo with N_kl/gamma fixed, (31) becomes (42)", "App. E.3, eq. (42)", "symbolic")
def check_e_42_limit():
    return _matches("E3.limit")


@claim("E.42-complements", "in the limit A = 1 - B and C = 1 - D", "App. E.3, eq. (42)", "symbolic")
def check_e_42_complements():
    s = _step("E3.complements")
    return verdict(bool(s.equal), "sympy: the sigma arguments of A and B (of C and D) sum to 0; "
                   "sigma(-z) = 1 - sigma(z)")


@claim("E.43-first-lines", "B and D equations after eliminating A and C (first line of each)",
       "App. E.3, eq. (43)", "symbolic")
def check_e_43_first_lines():
    return _matches("E3.eliminated")


@claim("E.43-printed", "second line of the D equation: b(N10 + N10)B", "App. E.3, eq. (43)", "symbolic",
       expected="erratum")
def check_e_43_printed():
    s = _step("E3.collapsed")
    return _differs("E3.collapsed", f"derived - printed = {_short(s.extra['residual'])}, nonzero unless b = 0 "
                    "or N10 = N11")


@claim("E.43-corrected", "second line of the D equation with b(N11 + N10)B", "App. E.3, eq. (43) (corrected)",
       "symbolic")
def check_e_43_corrected():
    return _matches("E3.collapsed_corrected")


@claim("E.44-symmetric", "b = -a: D = A, C = B, D = 1 - B and B = sigma((a(N11+N00) - a N B)/gamma)",
       "App. E.3, eq. (44)", "symbolic")
def check_e_44_symmetric():
    s, sd = _step("E3.symmetric"), _step("E3.symmetric_D")
    return verdict(bool(s.equal and sd.equal), "sympy: with D = 1 - B the D argument is minus the B argument, "
                   f"and the B argument is {_short(s.derived)}")


@claim("E.45-condition", "b = -a: B <= 1/2 forces B >= (N11+N00)/N_kept, impossible iff N10+N01 < N11+N00",
       "App. E.3, eq. (45)", "symbolic")
def check_e_45_condition():
    s, g = _step("E3.symmetric_threshold"), _step("E3.condition45")
    ok = bool(s.equal and g.extra["numerator_is_45"] and g.extra["denominator_positive"] and s.extra["slope_negative"])
    return verdict(ok, f"sympy: B argument decreasing in B, root {_short(s.derived)}; root - 1/2 = {_short(g.derived)}")


@claim("E.47-skewed", "b = 0: B = sigma(a(N11 - (N11+N10)B)/gamma), D = sigma(a(N01 - (N01+N00)D)/gamma)",
       "App. E.3, eq. (47)", "symbolic")
def check_e_47_skewed():
    return _matches("E3.skewed")


@claim("E.48-49-thresholds", "b = 0: B <= 1/2 iff B >= N11/(N11+N10) (48); D >= 1/2 iff D <= N01/(N01+N00) (49)",
       "App. E.3, eqs. (48)-(49)", "symbolic")
def check_e_48_49_thresholds():
    s = _step("E3.skewed_thresholds")
    return verdict(bool(s.equal and all(s.extra["slopes_negative"])), f"sympy roots {_short(s.derived)}; "
                   "both arguments decrease in their unknown")


@claim("E.49-prose", "prose after (49): N01 < N00 compares with 'examples with true label 1, correctly labelled'",
       "App. E.3, text after eq. (49)", "symbolic", expected="erratum by inspection")
def check_e_49_prose():
    # Nothing here reads the prose: the check only confirms that the derived D threshold involves N00,
    # which counts true label 0 by definition (eq. (28)). The prose is wrong on its face.
    s = _step("E3.skewed_thresholds")
    N00 = sp.Symbol("N_{00}", positive=True)
    involves_00 = N00 in s.derived[1].free_symbols
    return ("erratum by inspection" if involves_00 else "failed",
            f"the D threshold {_short(s.derived[1])} involves N00, which counts true label 0 correctly labelled "
            "(eq. (28)), not label 1")


@claim("E.50-51-pairing", "Prop. E.4 (b = 0): C, B are governed by N10 < N11 (50) and D, A by N01 < N00 (51)",
       "App. E.3, Prop. E.4, eqs. (50)-(51)", "symbolic", expected="erratum")
def check_e_50_51_pairing():
    return _differs("E3.skewed_dependence", "with b = 0 the B equation involves only N10, N11 and the D equation "
                    "only N01, N00 (sympy free symbols); A = 1 - B, C = 1 - D")


@claim("E.55-identity", "(1-t)/(1+t) = 1 - eps with eps = 2t/(1+t)", "App. E.4, eq. (55)", "symbolic")
def check_e_55_identity():
    return _matches("E4.eps")


@claim("E.5-ratio", "(p01+p10)/(p00+p11) = 2 p psi / (2 (1-p) phi) = p psi / ((1-p) phi)", "App. E.5",
       "symbolic")
def check_e_5_ratio():
    return _matches("E5.ratio")


@claim("E.5-inequality-printed", "the proof solves '(1-t)/(1+t) <= (p01+p10)/(p00+p11)' for p",
       "App. E.5 (proof of Thm. D.3)", "symbolic", expected="erratum")
def check_e_5_inequality_printed():
    s = _step("E5.inequality")
    root = _step("D3.p_minus")
    truth = s.extra["truth_below_above_p_minus"]
    wrong = not s.equal and truth["derived"] == (True, False) and truth["printed"] == (False, True)
    return ("erratum" if wrong else "verified",
            f"(52)-(54) require ratio < (1-t)/(1+t) (strict, reversed); at p = p-*(t) -/+ 0.05 (phi=0.8, psi=0.4, "
            f"t=0.1) the derived condition is {truth['derived']}, the printed one {truth['printed']}: the printed "
            f"form selects p >= p-*(t) = {_short(root.derived)}")


@claim("D.3-p-minus", "p-*(t) = (1-t)/(1-t+(1+t) psi/phi)", "App. D.5, Thm. D.3, eq. (19)", "symbolic")
def check_d_3_p_minus():
    s = _step("D3.p_minus")
    return verdict(bool(s.equal) and s.extra["n_roots"] == 1,
                   f"sympy: unique root in p of ratio = (1-t)/(1+t); d ratio/dp = {_short(s.extra['ratio_increasing'])} > 0")


@claim("D.3-p-plus", "p+*(t) = (1+t)/(1+t+(1-t) psi/phi)", "App. D.5, Thm. D.3, eq. (19)", "symbolic")
def check_d_3_p_plus():
    s = _step("D3.p_plus")
    return verdict(bool(s.equal) and s.extra["n_roots"] == 1, "sympy: unique root in p of ratio = (1+t)/(1-t)")


@claim("D.3-p-star", "breakdown point p* = 1/(1 + psi/phi)", "App. D.5, Thm. D.3 (Thm. 3.2)", "symbolic")
def check_d_3_p_star():
    return _matches("D3.p_star")


@claim("D.4-limits", "Cor. D.4: p-*(t), p+*(t) -> p* as t -> 0, hence p_up = p_down", "App. D.5, Cor. D.4", "symbolic")
def check_d_4_limits():
    return _matches("D4.limits")


@claim("D.2-bijection", "for fixed p in (0,1), (phi, psi) <-> (p00, p01) is a bijection",
       "App. D.3, Remark D.2, eq. (18)", "symbolic")
def check_d_2_bijection():
    from beyond_collapse.theory import rlhf_from_kept

    s = _step("D.bijection")
    # the theory package's inverse agrees with the sympy inverse at a sample point
    p00, p01 = sorted(set().union(*(e.free_symbols for e in s.derived)) - {sp.Symbol("p", positive=True)}, key=str)
    point = {sp.Symbol("p", positive=True): 0.3, p00: 0.2, p01: 0.06}
    sym_val = tuple(float(e.subs(point)) for e in s.derived)
    _, phi_t, psi_t = rlhf_from_kept(0.2, 0.06, p=0.3)
    agree = max(abs(sym_val[0] - phi_t), abs(sym_val[1] - psi_t)) < 1e-14
    return verdict(bool(s.equal) and s.extra["n_solutions"] == 1 and agree,
                   f"sympy: unique inverse {_short(s.derived)} (a bijection only once p is fixed); "
                   f"theory.rlhf_from_kept(0.2, 0.06, p=0.3) = ({phi_t:.6g}, {psi_t:.6g}) matches")


@claim("D.14-kept-probabilities", "p_kk = (1-p) phi/2, p_kl = p psi/2 (k != l)", "App. D.3, eqs. (14), (18) (Sec. 3.2, eq. (4))",
       "symbolic")
def check_d_14_kept_probabilities():
    return _matches("D.pkl")


@claim("S3.4-no-pruning", "no pruning (psi/phi = 1): p* = 1/2 and p-*(t) = 1/2 - t/2", "Sec. 3.4, App. D.6",
       "symbolic")
def check_s3_4_no_pruning():
    return _matches("D6.no_pruning")


@claim("S3.4-oracle", "oracle pruning (psi/phi = 0): p* = 1 and p-*(t) = 1, so the limit accuracy is 100% for "
       "every p < 1", "Sec. 3.4, App. D.6", "numeric-hypothesis")
def check_s3_4_oracle():
    from hypothesis import strategies as st

    from beyond_collapse.numerics.kkt import solve_limit_system
    from beyond_collapse.proofs_check.checks_numeric import _clean_accuracy
    from beyond_collapse.theory import breakdown_bounds, breakdown_point

    sym_ok = bool(_step("D6.oracle").equal)

    def prop(x):
        phi, t, p, lam, a, bcase = x
        star, (lo, hi) = breakdown_point(phi, 0.0), breakdown_bounds(phi, 0.0, t)
        assert star == 1.0 and lo == 1.0 and hi == 1.0, (x, star, lo, hi)
        # the independently derived limit system (43), not the package's p* formula, decides the accuracy
        n = np.array([(1 - p) * phi, 0.0, 0.0, (1 - p) * phi]) / 2 / lam
        acc = _clean_accuracy(n, solve_limit_system(n, a, -a if bcase == "-a" else 0.0))
        assert abs(acc - 1.0) < 1e-12, (x, acc)

    strat = st.tuples(st.floats(0.01, 1.0), st.floats(0.01, 0.99), st.floats(0.0, 0.999), st.floats(1e-3, 1.0),
                      st.floats(0.05, 0.95), st.sampled_from(["-a", "0"]))
    bad = for_all(strat, prop, max_examples=30)
    return verdict(sym_ok and bad is None, bad or "sympy: p*(psi=0) = p-*(t)(psi=0) = 1; 30 hypothesis draws (phi, t, "
                   "p <= 0.999, lambda, a, b): theory.breakdown_point / breakdown_bounds give exactly 1 and the limit "
                   "system (43) solved numerically gives 100% accuracy")


@claim("D.6-variance-printed", "x | y=1 ~ N(mu, I_d / ((1-|mu|^2) d)), x = mu + eta / sqrt((1-|mu|^2) d)",
       "App. D.6, eq. (23)", "symbolic", expected="erratum")
def check_d_6_variance_printed():
    return _differs("D6.variance", "E|x|^2 = |mu|^2 + d s^2 = 1 gives s^2 = (1-|mu|^2)/d")


@claim("D.6-variance-corrected", "x | y=1 ~ N(mu, (1-|mu|^2)/d I_d) gives E|x|^2 = 1 (App. D.1), and the package's "
       "sampler draws it", "App. D.6, eq. (23) (corrected)", "simulation")
def check_d_6_variance_corrected():
    from beyond_collapse.numerics.samplers import sample_gaussian_mixture
    from beyond_collapse.theory.derivations import sym

    s = _step("D6.variance")
    mu, d = sym()["mu"], sym()["d"]
    sym_ok = sp.simplify(s.derived - (1 - mu**2) / d) == 0
    rng = np.random.default_rng(23)
    worst, rows = 0.0, []
    for m, dim in ((0.1, 5), (0.5, 50), (0.9, 400)):
        n = 40_000
        X, y = sample_gaussian_mixture(n, d=dim, mu_norm=m, rng=rng)
        sq = np.sum(X**2, axis=1)
        z_norm = abs(sq.mean() - 1) / (sq.std(ddof=1) / np.sqrt(n))  # E|x|^2 = 1 (App. D.1)
        centred = X - np.where(y[:, None] == 1, 1.0, -1.0) * np.eye(dim)[0] * m
        var = centred.var(axis=0, ddof=1).mean()  # pooled per-coordinate variance, d * (n - 1) dof
        z_var = abs(var / ((1 - m**2) / dim) - 1) / np.sqrt(2 / (dim * (n - 1)))
        worst = max(worst, z_norm, z_var)
        rows.append(f"|mu|={m}, d={dim}: mean |x|^2 = {sq.mean():.4f}, coordinate variance x d/(1-|mu|^2) = "
                    f"{var * dim / (1 - m**2):.4f}")
    return verdict(bool(sym_ok) and worst < 5, f"sympy solve of |mu|^2 + d s^2 = 1: s^2 = {_short(s.derived)}; "
                   f"numerics.samplers.sample_gaussian_mixture, 4e4 draws each: " + "; ".join(rows)
                   + f" (max |z| {worst:.2f} < 5)")


@claim("D.6-thresholds-printed", "c1 = -|mu| sqrt(d (1-|mu|^2)) cos(theta_prune), c2 likewise with theta_gen",
       "App. D.6", "symbolic", expected="erratum")
def check_d_6_thresholds_printed():
    return _differs("D6.threshold", "x^T w > 0 iff eta^T w > -|mu| cos(angle) / s with s^2 = (1-|mu|^2)/d")


@claim("D.6-phi-formula", "phi1 = (1 - Phi(c1) - Phi(c2) + Phi2(c1, c2; cos theta)) / (1 - Phi(c2))",
       "App. D.6", "symbolic")
def check_d_6_phi_formula():
    return _matches("D6.phi")


@claim("D.6-psi-printed", "psi = (Phi(c1) + Phi(c2) - Phi2(c1, c2; cos theta)) / Phi(c2)", "App. D.6",
       "symbolic", expected="erratum")
def check_d_6_psi_printed():
    s = _step("D6.psi")
    return _differs("D6.psi", f"printed - 1 = {_short(s.extra['printed_minus_one'])} >= 0 in cell probabilities, "
                    "so the printed psi is >= 1; P(X<=c1, Y<=c2)/P(Y<=c2) = Phi2/Phi(c2)")


@claim("S3.4-error-rate", "for isotropic x, a linear generator at angle theta_gen errs with p = theta_gen/pi",
       "Sec. 3.4, Fig. 2 caption", "symbolic")
def check_s3_4_error_rate():
    return _matches("S34.p")


@claim("S3.4-angle-condition", "isotropic supervised pruning: p < p* iff theta_gen + theta_prune < pi "
       "(independent of theta)", "Sec. 3.4 (derived here)", "symbolic")
def check_s3_4_angle_condition():
    from beyond_collapse.theory.derivations import sym

    s = _step("S34.condition")
    tg, tp = sym()["th_gen"], sym()["th_prune"]
    ok = sp.simplify(s.derived - (sp.pi - tg - tp) / sp.pi) == 0
    return verdict(ok, f"sympy: (1-p) phi - p psi = {_short(s.derived)} (orthant formula)")


not_checkable("E.25-29-definitions", "I_k, I'_l, M, N_kl, R = 1 - a > 0", "App. E.1, eqs. (25)-(29)",
              "definitions; R > 0 is a < 1 from Condition D.1")
not_checkable("D.20-21-definitions", "p_up and p_down (breakdown points) defined as inf/sup", "App. D.5, eqs. (20)-(21)",
              "definitions")
not_checkable("S3.3-remark", "100% accuracy is idealized and expected only in the infinite-sample regime",
              "Sec. 3.3, Remark 3.3", "qualitative remark")
not_checkable("S3.1-definitions", "objective (1), error rate p (2), keep rates phi, psi (3), angles (6)",
              "Sec. 3.1-3.4, eqs. (1)-(3), (6)", "definitions (their consequences are checked: eqs. (4), (5), Thm. 3.2)")
not_checkable("D.2-definitions", "sigmoid (10), BCE (11), classifier (12), empirical accuracy (13), keep rates (15), "
              "symmetric strategy (17), angles (22)", "App. D.2-D.6, eqs. (10)-(13), (15), (17), (22)",
              "definitions; (11) is differentiated in E.32-loss-gradient, (13) is eq. (41) (E.2-accuracy)")
not_checkable("S3.3-figures", "Fig. 2 and Fig. 5: measured breakdown points agree with Thm. 3.2 / p-*(t)",
              "Sec. 3.3, Fig. 2; App. D.5, Fig. 5",
              "empirical figures: rerun by the numerics experiments and their report sections, not a formula")
