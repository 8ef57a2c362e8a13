"""The theory package's supervised-pruning functions (Sec. 3.4, App. D.6) against the sympy
derivations, Monte Carlo of the generative process and mpmath in the far tails."""

from __future__ import annotations

import math

import numpy as np

from beyond_collapse.proofs_check._base import claim, for_all, verdict


@claim("S3.4-theory-isotropic", "theory.isotropic_rates equals the derived orthant rates, and its breakdown "
       "verdict p < p* is theta_gen + theta_prune < pi", "Sec. 3.4", "numeric-hypothesis")
def _():
    from beyond_collapse.proofs_check.checks_simulation import _isotropic_formulas
    from beyond_collapse.proofs_check.strategies import angle_triples
    from beyond_collapse.theory import isotropic_rates

    fp, fphi, fpsi = _isotropic_formulas()

    def prop(tr):
        tg, tp, th = tr
        r = isotropic_rates(tg, tp, th)
        ref = (float(fp(tg, tp, th)), float(fphi(tg, tp, th)), float(fpsi(tg, tp, th)))
        assert max(abs(x - y) for x, y in zip((r.p, r.phi, r.psi), ref)) < 1e-12, (tr, r, ref)
        if abs(tg + tp - math.pi) > 1e-9:
            assert bool(r.below_breakdown) == (tg + tp < math.pi), (tr, r)

    bad = for_all(angle_triples(eps=1e-3), prop, max_examples=40)
    return verdict(bad is None, bad or "40 realizable angle triples (proofs_check.strategies.angle_triples)")


@claim("D.6-theory-mixture", "theory.gaussian_mixture_rates (p, phi, psi) agree with Monte Carlo of the mixture "
       "across angle triples, |mu| and d", "App. D.6 (corrected)", "simulation")
def _():
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

    strat = st.tuples(angle_triples(eps=0.05), st.floats(0.05, 0.8), st.floats(0.0, 3.0))
    bad = for_all(strat, prop, max_examples=15)
    return verdict(bad is None, bad or f"{len(zs)} hypothesis draws (angle triple, |mu| in [0.05, 0.8], d in [1, 1000]), "
                   f"1e5 samples each: max |z| over p, phi0, phi1, psi01, psi10 = {max(zs):.2f} (< 5)")


def _bvn_mpmath(h: float, k: float, rho: float):
    """P(X <= h, Y <= k) as the integral of phi(y) Phi((h - rho y)/sqrt(1 - rho^2)) over y <= k (mpmath)."""
    import mpmath

    s = mpmath.sqrt(1 - mpmath.mpf(rho) ** 2)
    f = lambda y: mpmath.npdf(y) * mpmath.ncdf((h - rho * y) / s)  # noqa: E731
    return mpmath.quad(f, [-mpmath.inf, k - 8, k - 2, k])


@claim("D.6-extreme-tails", "far from the bulk (|c| ~ 9: rates conditional on events of probability ~1e-19) the "
       "D.6 rates stay accurate; naive differences of CDFs lose them", "App. D.6", "exact")
def _():
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
