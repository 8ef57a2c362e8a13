"""Report section: the closed forms of Sec. 3 / App. D (breakdown points, supervised keep rates)."""

from __future__ import annotations

import json

import numpy as np

TITLE = "Theory: breakdown points and supervised-pruning keep rates"

_T = 0.1
_PSI_OVER_PHI = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
_TRIPLES = (
    ("pi/3", "pi/6", "pi/4"),
    ("pi/6", "pi/12", "pi/12"),
    ("pi/2", "pi/4", "pi/4"),
    ("2*pi/3", "pi/4", "3*pi/4"),
    ("3*pi/4", "pi/3", "pi/2"),
)
_MIXTURE = (0.5, 20)  # (|mu|, d)
_MC_N = 100_000


def _angle(text: str) -> float:
    from beyond_collapse.theory.angles import parse_angle

    return parse_angle(text)


def _monte_carlo(angles, rng, mixture=None):
    """(p, phi, psi) of eq. (5) pruning by simulating the generative process (standard errors ~1e-3)."""
    from beyond_collapse.numerics.samplers import sample_supervised_pruning

    tg, tp, t = angles
    # isotropic data: |mu| and d do not change the law, any valid pair will do
    mu_norm, d = (0.5, 3) if mixture is None else mixture
    y, y_syn, q = sample_supervised_pruning(_MC_N, d=d, mu_norm=mu_norm, theta_gen=tg, theta_prune=tp, theta=t,
                                            rng=rng, data="isotropic" if mixture is None else "mixture")
    right = y == y_syn
    return float(np.mean(~right)), float(np.mean(q[right])), float(np.mean(q[~right]))


def _figure(path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from beyond_collapse.theory import breakdown_bounds, breakdown_point

    ratio = np.logspace(-2, 2, 400)
    fig, ax = plt.subplots(figsize=(6, 4))
    # Work with psi/phi directly: phi = 1/(1 + r) and psi = r/(1 + r) keep both in [0, 1].
    phi, psi = 1 / (1 + ratio), ratio / (1 + ratio)
    p_minus, p_plus = breakdown_bounds(phi, psi, _T)
    ax.plot(ratio, breakdown_point(phi, psi), label="p* = 1/(1 + psi/phi) (Thm. 3.2)")
    ax.fill_between(ratio, p_minus, p_plus, alpha=0.25, label=f"[p-*(t), p+*(t)], t = {_T} (eq. (19))")
    ax.axvline(1.0, color="gray", lw=0.8, ls=":")
    ax.text(1.05, 0.05, "no pruning", color="gray")
    ax.set_xscale("log")
    ax.set_xlabel("psi / phi")
    ax.set_ylabel("generator error rate p")
    ax.set_ylim(0, 1)
    ax.set_title("100% accuracy below the curve, 0% above (N -> infinity)")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def build(ctx) -> str:
    from beyond_collapse.theory import (
        breakdown_bounds,
        breakdown_point,
        gaussian_mixture_rates,
        isotropic_rates,
        printed_gaussian_mixture_rates,
    )

    out = ctx.section_dir("theory")
    rel = lambda name: f"theory/{name}"  # noqa: E731
    summary: dict = {"t": _T, "strategies": [], "isotropic": [], "gaussian_mixture": []}

    lines = [
        "Closed forms only (no sampling except the Monte Carlo check columns; same on every profile). "
        f"Breakdown point p* = 1/(1 + psi/phi) (Thm. 3.2 / D.3) and the eq. (19) bounds at t = {_T}.", "",
        "| strategy | phi | psi | psi/phi | p* | p-*(t) | p+*(t) |", "|---|---|---|---|---|---|---|",
    ]
    named = [("no pruning", 1.0, 1.0), ("oracle pruning", 1.0, 0.0)]
    named += [(f"psi/phi = {r:g}", 1.0 / max(1.0, r), min(1.0, r) if r <= 1 else 1.0) for r in _PSI_OVER_PHI
              if r not in (0.0, 1.0)]
    for name, phi, psi in named:
        p_star = breakdown_point(phi, psi)
        p_minus, p_plus = breakdown_bounds(phi, psi, _T)
        lines.append(f"| {name} | {phi:.3g} | {psi:.3g} | {psi / phi:.3g} | {p_star:.4f} | {p_minus:.4f} | {p_plus:.4f} |")
        summary["strategies"].append(dict(name=name, phi=phi, psi=psi, p_star=p_star, p_minus=p_minus, p_plus=p_plus))

    _figure(out / "p_star.png")
    lines += ["", f"![p* against psi/phi]({rel('p_star.png')})", ""]

    rng = np.random.default_rng(ctx.seed)
    lines += [
        "**Supervised pruning (eq. (5)), isotropic inputs (Sec. 3.4):** x ~ N(0, I), y = 1[x.mu > 0]; "
        "closed forms p = theta_gen/pi, phi = (2pi - tg - tp - t)/(2(pi - tg)), psi = (tg + tp - t)/(2 tg); "
        f"Monte Carlo column: {_MC_N:,} draws of the generative process (standard error <= 0.002).", "",
        "| theta_gen | theta_prune | theta | p | phi | psi | p* | p < p* | MC (p, phi, psi) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for triple in _TRIPLES:
        angles = tuple(_angle(a) for a in triple)
        r = isotropic_rates(*angles)
        mc = _monte_carlo(angles, rng)
        lines.append(f"| {' | '.join(triple)} | {r.p:.4f} | {r.phi:.4f} | {r.psi:.4f} | {r.p_star:.4f} | "
                     f"{'yes' if r.below_breakdown else 'no'} | {mc[0]:.4f}, {mc[1]:.4f}, {mc[2]:.4f} |")
        summary["isotropic"].append(dict(angles=triple, **r.to_dict(), monte_carlo=mc))

    mu_norm, d = _MIXTURE
    lines += [
        "",
        f"**Supervised pruning, Gaussian mixture (App. D.6)** with |mu| = {mu_norm}, d = {d}, "
        "x | y ~ N(+-mu, (1 - |mu|^2)/d I) (E|x|^2 = 1). Corrected closed forms (docs/ERRATA.md): "
        "p = Phi(c_gen), phi = Phi2(-c_prune, -c_gen; cos theta)/Phi(-c_gen), "
        "psi = Phi2(c_prune, c_gen; cos theta)/Phi(c_gen); the last column is the paper's printed psi.", "",
        "| theta_gen | theta_prune | theta | p | phi | psi | p* | p < p* | MC (p, phi, psi) | printed psi |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for triple in _TRIPLES:
        angles = tuple(_angle(a) for a in triple)
        r = gaussian_mixture_rates(mu_norm, d, *angles)
        mc = _monte_carlo(angles, rng, mixture=_MIXTURE)
        printed_psi = printed_gaussian_mixture_rates(mu_norm, d, *angles)[2]
        lines.append(f"| {' | '.join(triple)} | {r.p:.4g} | {r.phi:.4g} | {r.psi:.4g} | {r.p_star:.4f} | "
                     f"{'yes' if r.below_breakdown else 'no'} | {mc[0]:.4g}, {mc[1]:.4g}, {mc[2]:.4g} | "
                     f"{printed_psi:.4g} |")
        summary["gaussian_mixture"].append(dict(angles=triple, mu_norm=mu_norm, d=d, **r.to_dict(),
                                                monte_carlo=mc, printed_psi=printed_psi))

    (out / "theory.json").write_text(json.dumps(summary, indent=1))
    lines += ["", f"Numbers as JSON: [{rel('theory.json')}]({rel('theory.json')}). "
              "Recompute any row with `beyond-collapse breakdown` / `beyond-collapse rates`."]
    return "\n".join(lines)
