"""Closed forms and sympy derivations of the paper's theory (Sec. 3, App. D, App. E). Pure functions, no sampling.

- :mod:`beyond_collapse.theory.rlhf` -- RLHF-type pruning: breakdown points, eq. (19) bounds, the
  limit accuracy of Thm. D.3, class-dependent kept probabilities (eq. (14)) and the breakdown
  conditions of Props. E.3 / E.4.
- :mod:`beyond_collapse.theory.supervised` -- keep rates of supervised pruning (eq. (5)) in the
  isotropic setting of Sec. 3.4 and the Gaussian mixture of App. D.6.
- :mod:`beyond_collapse.theory.special` -- normal and bivariate normal CDFs, accurate in the tails.
"""

from beyond_collapse.theory.rlhf import (
    breakdown_bounds,
    breakdown_point,
    kept_probabilities,
    limit_accuracy,
    per_class_breakdown_points,
    per_class_condition,
    pooled_breakdown_point,
    pooled_condition,
    rlhf_from_kept,
)
from beyond_collapse.theory.generations import (
    LimitTrajectory,
    critical_angle,
    effective_breakdown_point,
    limit_fixed_points,
    limit_step,
    limit_trajectory,
    margin_rate,
    mixture_error_rate,
    mixture_snr,
)
from beyond_collapse.theory.special import bivariate_normal_cdf, normal_cdf
from beyond_collapse.theory.supervised import (
    PruningRates,
    check_angle_triple,
    gaussian_mixture_rates,
    isotropic_rates,
    printed_gaussian_mixture_rates,
)

__all__ = [
    "LimitTrajectory",
    "critical_angle",
    "effective_breakdown_point",
    "limit_fixed_points",
    "limit_step",
    "limit_trajectory",
    "margin_rate",
    "mixture_error_rate",
    "mixture_snr",
    "PruningRates",
    "bivariate_normal_cdf",
    "breakdown_bounds",
    "breakdown_point",
    "check_angle_triple",
    "gaussian_mixture_rates",
    "isotropic_rates",
    "kept_probabilities",
    "limit_accuracy",
    "normal_cdf",
    "per_class_breakdown_points",
    "per_class_condition",
    "pooled_breakdown_point",
    "pooled_condition",
    "printed_gaussian_mixture_rates",
    "rlhf_from_kept",
]
