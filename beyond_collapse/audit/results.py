"""What an audit returns: rate estimates, the symmetry tests, the posterior summary and the result,
with its two forms: ``AuditResult.to_dict()`` (the ``--json`` output) and ``audit_text`` (the default
output, also ``AuditResult.to_text()``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class RateEstimate:
    """A binomial proportion: ``successes`` out of ``trials``, the estimate and its exact interval."""

    name: str
    meaning: str
    successes: int
    trials: int
    estimate: float | None
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class SymmetryTest:
    """Fisher exact tests of phi0 = phi1 and psi01 = psi10 (two-sided, Bonferroni-combined)."""

    method: str
    alpha: float
    p_value_phi: float
    p_value_psi: float
    consistent: bool
    p_value_error_by_class: float


@dataclass(frozen=True)
class Posterior:
    """Monte Carlo summary of the posterior of the margin m = p* - p."""

    prior: tuple[float, float]
    model: str
    condition: str
    n_draws: int
    seed: int | None
    prob_p_below_p_star: float
    mc_standard_error: float
    p_star_mean: float
    p_star_interval: tuple[float, float]
    margin_mean: float
    margin_sd: float
    margin_interval: tuple[float, float]
    prob_kept_error_below_half: float


@dataclass(frozen=True)
class AuditResult:
    """What ``audit`` found. ``to_dict()`` is the ``--json`` output, ``to_text()`` the default one."""

    source: str
    mode: str
    n_rows: int
    n_missing: int
    n_used: int
    missing_policy: str
    counts: dict
    rates: dict
    symmetry: SymmetryTest | None
    model: str
    p_star: float | None
    margin: float | None
    posterior: Posterior
    confidence: float
    decision_level: float
    verdict: str
    rows_needed: float | None
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["rows_needed"] is not None and math.isinf(d["rows_needed"]):
            d["rows_needed"] = "inf"
        return d

    def to_text(self) -> str:
        return audit_text(self)


_VERDICT_TEXT = {
    "improves": "p < p*: training on the verifier-kept data is predicted to reach the optimum",
    "collapses": "p > p*: training on the verifier-kept data is predicted to collapse",
    "undecided": "undecided: the sample cannot tell p < p* from p > p* at this level",
}


def audit_text(result: AuditResult) -> str:
    """Estimates with intervals, symmetry tests, p*, the posterior, the verdict and notes, one per line."""
    lines = [f"Audit of {result.source}: {result.n_rows} rows, {result.n_used} used"
             + (f", {result.n_missing} with missing values dropped" if result.n_missing else "")]
    c = int(result.confidence * 100) if float(result.confidence * 100).is_integer() else result.confidence * 100
    lines.append(f"Estimates (exact Clopper-Pearson {c}% intervals):")
    for r in result.rates.values():
        est = "n/a" if r.estimate is None else f"{r.estimate:.4f}"
        lines.append(f"  {r.name:<8}{est:>6}  [{r.ci_low:.4f}, {r.ci_high:.4f}]  "
                     f"{r.successes}/{r.trials}  {r.meaning}")
    if result.symmetry is not None:
        s = result.symmetry
        lines.append(f"Symmetry ({s.method}): p-values phi0=phi1: {s.p_value_phi:.3g}, "
                     f"psi01=psi10: {s.p_value_psi:.3g} -> "
                     + ("consistent with symmetry" if s.consistent else "symmetry rejected")
                     + f" at level {s.alpha:g}; error rate equal across classes: p-value "
                     f"{s.p_value_error_by_class:.3g}")
    post = result.posterior
    lines.append(f"Model: {result.model}, condition {post.condition}; "
                 f"prior Beta({post.prior[0]:g}, {post.prior[1]:g}) on each rate")
    if result.p_star is not None:
        lines.append(f"Breakdown point p* = {result.p_star:.4f} (plug-in), margin p* - p = {result.margin:+.4f}")
    else:
        lines.append("Breakdown point p*: no plug-in value (a keep rate has no rows; see notes)")
    lo, hi = post.margin_interval
    lines.append(f"Posterior: P(p < p*) = {post.prob_p_below_p_star:.4f} (Monte Carlo, {post.n_draws} draws, "
                 f"seed {post.seed}, s.e. {post.mc_standard_error:.1e}); margin mean {post.margin_mean:+.4f}, "
                 f"sd {post.margin_sd:.4f}, {c}% credible interval [{lo:+.4f}, {hi:+.4f}]")
    if post.condition == "pooled":
        lines.append(f"Model-free check (Prop. E.3: kept wrong < kept right): P(p_kept < 1/2) = "
                     f"{post.prob_kept_error_below_half:.4f}")
    else:
        lines.append(f"Model-free check (Prop. E.4: kept wrong < kept right in each true class): "
                     f"P(p_kept0 < 1/2 and p_kept1 < 1/2) = {post.prob_kept_error_below_half:.4f}")
    lines.append(f"Verdict at {result.decision_level:g}: {_VERDICT_TEXT[result.verdict]}")
    if result.rows_needed is not None:
        need = "more data will not decide it (margin mean 0)" if math.isinf(result.rows_needed) \
            else f"about {int(result.rows_needed)} audited rows"
        lines.append(f"To decide at {result.decision_level:g}: {need} "
                     "(normal approximation, posterior sd of the margin scaling as 1/sqrt(n))")
    lines.extend(f"Note: {n}" for n in result.notes)
    return "\n".join(lines)
