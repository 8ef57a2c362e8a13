"""What an audit returns: rate estimates, the symmetry tests, the posterior summary and the result.

``AuditResult.to_dict()`` is the ``--json`` output; ``to_text()`` the default one (``render.py``).
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
        from beyond_collapse.audit.render import audit_text

        return audit_text(self)
