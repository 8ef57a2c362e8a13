"""The theory package's supervised-pruning functions (Sec. 3.4, App. D.6) against the sympy
derivations, Monte Carlo of the generative process and mpmath in the far tails."""

from __future__ import annotations

import math

import numpy as np

from beyond_collapse.proofs_check._base import claim, for_all, verdict


def _mvn_orthant(corr, abseps: float = 1e-7) -> float:
    """P(Z > 0) for Z ~ N(0, corr) (any dimension) by scipy's Genz quadrature: a route independent of the
    orthant closed forms of theory.supervised (error ~ abseps). Seeded: its randomised lattice would
    otherwise change the recorded evidence from run to run."""
    from scipy import stats

    k = len(corr)
    return float(stats.multivariate_normal(np.zeros(k), corr, allow_singular=True, abseps=abseps, releps=abseps, seed=0,
                                           maxpts=10**6).cdf(np.zeros(k)))


def orthant_rates(tg: float, tp: float, th: float) -> tuple[float, float, float]:
    """(p, phi, psi) of supervised pruning on isotropic x (Sec. 3.4) from Genz quadrature of the Gaussian
    orthants: with u = x.mu, g = x.w_gen, r = x.w_prune (unit vectors, correlations = cosines of the angles),
    y = 1[u > 0], y' = 1[g > 0], kept iff sign(r) = sign(g); by symmetry class 1 suffices."""
    C = np.array([[1, math.cos(tg), math.cos(tp)], [math.cos(tg), 1, math.cos(th)], [math.cos(tp), math.cos(th), 1]])
    flip = np.diag([-1.0, 1.0, 1.0])  # u > 0, g < 0, r < 0  <->  -u < 0, g < 0, r < 0
    right, wrong = _mvn_orthant(C[:2, :2]), _mvn_orthant((flip @ C @ flip)[:2, :2])  # P(u>0, g>0), P(u>0, g<0)
    kept_right, kept_wrong = _mvn_orthant(C), _mvn_orthant(flip @ C @ flip)
    return 2 * wrong, kept_right / right, kept_wrong / wrong


@claim("S3.4-theory-isotropic", "theory.isotropic_rates equals the trivariate orthant probabilities of the model "
       "(Genz quadrature, scipy), and its breakdown verdict p < p* is theta_gen + theta_prune < pi", "Sec. 3.4",
       "numeric-hypothesis")
def check_s3_4_theory_isotropic():
    from beyond_collapse.proofs_check.strategies import angle_triples
    from beyond_collapse.theory import isotropic_rates

    worst = []

    def prop(tr):
        tg, tp, th = tr
        r = isotropic_rates(tg, tp, th)
        ref = orthant_rates(tg, tp, th)
        err = max(abs(x - y) for x, y in zip((r.p, r.phi, r.psi), ref))
        worst.append(err)
        assert err < 5e-5, (tr, (r.p, r.phi, r.psi), ref)
        margin = (1 - ref[0]) * ref[1] - ref[0] * ref[2]  # > 0 iff p < p*, from the quadrature rates
        if abs(tg + tp - math.pi) > 1e-2:
            assert bool(r.below_breakdown) == (tg + tp < math.pi) == (margin > 0), (tr, r, margin)

    bad = for_all(angle_triples(eps=0.02), prop, max_examples=20)
    return verdict(bad is None, bad or f"20 realizable angle triples (proofs_check.strategies.angle_triples): max "
                   f"|theory - quadrature| over (p, phi, psi) = {max(worst):.1e} (< 5e-5, Genz abseps 1e-7); the "
                   "breakdown verdict agrees with the sign of (1-p) phi - p psi from the quadrature")


@claim("D.6-theory-mixture", "theory.gaussian_mixture_rates (p, phi, psi) agree with Monte Carlo of the mixture "
       "across angle triples, |mu| and d", "App. D.6 (corrected)", "simulation")
def check_d_6_theory_mixture():
    from hypothesis import strategies as st

    from beyond_collapse.proofs_check.checks_simulation import _simulate, _z
    from beyond_collapse.proofs_check.strategies import angle_triples
    from beyond_collapse.theory import gaussian_mixture_rates

    rng = np.random.default_rng(21)
    zs = []

    def prop(x):
        (tg, tp, th), mu, log_d = x
        d = int(round(10**log_d))
        sim = _simulate(tg, tp, th, mu_norm=mu, d=d, rng=rng, n=100_000)
        r = gaussian_mixture_rates(mu, d, tg, tp, th)
        pairs = [(sim["p"], r.p), (sim["11"], r.phi), (sim["00"], r.phi), (sim["10"], r.psi), (sim["01"], r.psi)]
        # a conditional rate needs enough conditioning events for its normal-approximation z-score
        z = max(_z(f, v) for f, v in pairs if f[1] >= 200)
        zs.append(z)
        assert z < 5, (x, z)

    # d >= 3: three directions with general angles (eq. (6)) need three dimensions
    strat = st.tuples(angle_triples(eps=0.05), st.floats(0.05, 0.8), st.floats(math.log10(3), 3.0))
    bad = for_all(strat, prop, max_examples=15)
    return verdict(bad is None, bad or f"{len(zs)} hypothesis draws (angle triple, |mu| in [0.05, 0.8], d in [3, 1000]), "
                   f"1e5 samples each: max |z| over p, phi0, phi1, psi01, psi10 = {max(zs):.2f} (< 5)")


def _bvn_mpmath(h: float, k: float, rho: float):
    """P(X <= h, Y <= k) as the integral of phi(y) Phi((h - rho y)/sqrt(1 - rho^2)) over y <= k (mpmath)."""
    import mpmath

    s = mpmath.sqrt(1 - mpmath.mpf(rho) ** 2)
    f = lambda y: mpmath.npdf(y) * mpmath.ncdf((h - rho * y) / s)  # noqa: E731
    return mpmath.quad(f, [-mpmath.inf, k - 8, k - 2, k])


@claim("D.6-extreme-tails", "far from the bulk (|c| ~ 9: rates conditional on events of probability ~1e-19) the "
       "D.6 rates stay accurate; naive differences of CDFs lose them", "App. D.6", "exact")
def check_d_6_extreme_tails():
    import mpmath
    from scipy import stats

    from beyond_collapse.theory import bivariate_normal_cdf, gaussian_mixture_rates

    mu, d, tg, tp, th = 0.3, 900, 0.2, 0.3, 0.2
    kappa = mu * math.sqrt(d / (1 - mu**2))
    c_gen, c_prune, rho = -kappa * math.cos(tg), -kappa * math.cos(tp), math.cos(th)
    with mpmath.workdps(40):
        psi_ref = _bvn_mpmath(c_prune, c_gen, rho) / mpmath.ncdf(c_gen)
        p_ref = mpmath.ncdf(c_gen)
        bvn_ref = _bvn_mpmath(c_prune, c_gen, rho)
    r = gaussian_mixture_rates(mu, d, tg, tp, th)
    rel_psi = abs(r.psi - float(psi_ref)) / float(psi_ref)
    rel_p = abs(r.p - float(p_ref)) / float(p_ref)
    rel_bvn = abs(bivariate_normal_cdf(c_prune, c_gen, rho) - float(bvn_ref)) / float(bvn_ref)
    naive = float(stats.multivariate_normal([0, 0], [[1, rho], [rho, 1]]).cdf([c_prune, c_gen]))
    ok = max(rel_psi, rel_p, rel_bvn) < 1e-9
    return verdict(ok, f"|mu|={mu}, d={d}, angles {(tg, tp, th)}: c_gen={c_gen:.2f}, c_prune={c_prune:.2f}; "
                   f"Phi2 = {float(bvn_ref):.4e} (mpmath, 40 digits), theory rel. err {rel_bvn:.1e}; psi = {float(psi_ref):.6f}, "
                   f"rel. err {rel_psi:.1e}; p rel. err {rel_p:.1e}; scipy's multivariate_normal gives Phi2 = {naive:.3g}")


def _mixture_margin(mu: float, d: float, tg: float, tp: float, th: float) -> tuple[float, float]:
    """(p, (1-p) phi - p psi) of the App. D.6 mixture from scipy's normal and bivariate normal CDFs (class 1:
    g = x.w_gen ~ N(|mu| cos tg, s^2), r = x.w_prune ~ N(|mu| cos tp, s^2), corr cos th, s^2 = (1-|mu|^2)/d; kept
    right = P(g > 0, r > 0), kept wrong = P(g < 0, r < 0)); independent of theory.bivariate_normal_cdf."""
    from scipy import stats

    s = math.sqrt((1 - mu**2) / d)
    mg, mp = mu * math.cos(tg) / s, mu * math.cos(tp) / s
    cov = [[1, math.cos(th)], [math.cos(th), 1]]
    mvn = stats.multivariate_normal([0, 0], cov, allow_singular=True, abseps=1e-9, releps=1e-9)
    kept_right = float(mvn.cdf([mg, mp]))  # P(g' > -mg, r' > -mp) = P(-g' < mg, -r' < mp)
    kept_wrong = float(mvn.cdf([-mg, -mp]))
    return float(stats.norm.cdf(-mg)), kept_right - kept_wrong


@claim("S3.4-decoupling", "Decoupling (isotropic model and Gaussian mixture): (1) a better generator (smaller "
       "theta_gen) always helps: (1-p) phi - p psi decreases in theta_gen for every pruner; (2) random pruning "
       "(phi = psi) needs p < 1/2; (3) an oracle-direction verifier (theta_prune = 0) works for every theta_gen < pi",
       "Sec. 3.4, 'Decoupling the Generator and Verifier'", "numeric-hypothesis")
def check_s3_4_decoupling():
    from beyond_collapse.numerics.kkt import solve_limit_system
    from beyond_collapse.proofs_check.checks_numeric import _clean_accuracy
    from beyond_collapse.proofs_check.checks_simulation import _simulate
    from beyond_collapse.numerics.experiments.fig2 import coupled_theta
    from beyond_collapse.theory import gaussian_mixture_rates, isotropic_rates

    ok, notes = True, []
    # (1) isotropic (quadrature) and mixture (scipy CDFs) margins along theta_gen, three couplings, and the
    # package's rates give the same margins
    grid = np.linspace(0.05, 0.95, 7) * math.pi
    worst_pkg = 0.0
    for tp in (0.2 * math.pi,):
        for coupling in ("independent", "same-side", "opposite"):
            iso, mix = [], []
            for tg in grid:
                th = float(coupled_theta(tg, tp, coupling))
                if abs(tg + tp - math.pi) < 1e-9 and coupling == "opposite":
                    continue  # w_prune = -w_gen: nothing survives
                p, phi, psi = orthant_rates(tg, tp, th)
                iso.append((1 - p) * phi - p * psi)
                pm, mm = _mixture_margin(0.2, 100, tg, tp, th)
                mix.append(mm)
                r, rm = isotropic_rates(tg, tp, th), gaussian_mixture_rates(0.2, 100, tg, tp, th)
                worst_pkg = max(worst_pkg, abs((1 - r.p) * r.phi - r.p * r.psi - iso[-1]),
                                abs((1 - rm.p) * rm.phi - rm.p * rm.psi - mm))
            ok &= all(x > y for x, y in zip(iso, iso[1:])) and all(x > y for x, y in zip(mix, mix[1:]))
    ok &= worst_pkg < 5e-5
    notes.append(f"(1) margins strictly decrease along 7 theta_gen in [0.05, 0.95] pi at theta_prune = 0.2 pi "
                 f"and the three couplings of Fig. 2, in both models; the package's rates give the same margins "
                 f"(max difference {worst_pkg:.1e})")
    # (2) random pruning: the limit system (43) switches at p = 1/2 whatever the keep rate
    accs = []
    for r in (0.1, 0.5, 1.0):
        for p in (0.45, 0.55):
            n = np.array([(1 - p) * r, p * r, p * r, (1 - p) * r]) / 2 / 0.1
            accs.append(round(_clean_accuracy(n, solve_limit_system(n, 0.5, -0.5)), 12))
    ok &= accs == [1.0, 0.0] * 3
    notes.append("(2) phi = psi in (0.1, 0.5, 1): limit-system accuracy 100% at p = 0.45, 0% at p = 0.55")
    # (3) theta_prune = 0: the isotropic verifier never keeps a wrong label (simulation), and the mixture margin is
    # positive up to theta_gen = 0.99 pi
    rng = np.random.default_rng(33)
    psis = [_simulate(tg, 0.0, tg, mu_norm=None, d=None, rng=rng, n=50_000)["10"][0] for tg in (0.5, 1.5, 3.0)]
    mix3 = [_mixture_margin(0.2, 100, tg, 0.0, tg)[1] for tg in np.linspace(0.05, 0.99, 12) * math.pi]
    ok &= max(psis) == 0.0 and min(mix3) > 0
    notes.append(f"(3) theta_prune = 0: simulated isotropic psi = {max(psis):g} at theta_gen = 0.5, 1.5, 3.0 (p* = 1); "
                 f"mixture (|mu| = 0.2, d = 100) margin > 0 for theta_gen up to 0.99 pi (min {min(mix3):.2e})")
    return verdict(ok, "; ".join(notes))
