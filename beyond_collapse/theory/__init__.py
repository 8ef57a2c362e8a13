"""Closed forms and sympy derivations of the paper's theory (Sec. 3, App. D, App. E). Pure functions, no sampling.

- :mod:`beyond_collapse.theory.rlhf` -- RLHF-type pruning: breakdown points, eq. (19) bounds, the
  limit accuracy of Thm. D.3, class-dependent kept probabilities (eq. (14)) and the breakdown
  conditions of Props. E.3 / E.4.
- :mod:`beyond_collapse.theory.supervised` -- keep rates of supervised pruning (eq. (5)) in the
  isotropic setting of Sec. 3.4 and the Gaussian mixture of App. D.6.
- :mod:`beyond_collapse.theory.special` -- normal and bivariate normal CDFs, accurate in the tails.

The public names are imported from their module on first use (``beyond_collapse._lazy``).
"""

from beyond_collapse._lazy import lazy_exports

_EXPORTS = {
    "breakdown_bounds": "beyond_collapse.theory.rlhf",
    "breakdown_point": "beyond_collapse.theory.rlhf",
    "kept_probabilities": "beyond_collapse.theory.rlhf",
    "limit_accuracy": "beyond_collapse.theory.rlhf",
    "per_class_breakdown_points": "beyond_collapse.theory.rlhf",
    "per_class_condition": "beyond_collapse.theory.rlhf",
    "pooled_breakdown_point": "beyond_collapse.theory.rlhf",
    "pooled_condition": "beyond_collapse.theory.rlhf",
    "rlhf_from_kept": "beyond_collapse.theory.rlhf",
    "LimitTrajectory": "beyond_collapse.theory.generations",
    "critical_angle": "beyond_collapse.theory.generations",
    "effective_breakdown_point": "beyond_collapse.theory.generations",
    "limit_fixed_points": "beyond_collapse.theory.generations",
    "limit_step": "beyond_collapse.theory.generations",
    "limit_trajectory": "beyond_collapse.theory.generations",
    "margin_rate": "beyond_collapse.theory.generations",
    "mixture_error_rate": "beyond_collapse.theory.generations",
    "mixture_snr": "beyond_collapse.theory.generations",
    "bivariate_normal_cdf": "beyond_collapse.theory.special",
    "normal_cdf": "beyond_collapse.theory.special",
    "PruningRates": "beyond_collapse.theory.supervised",
    "check_angle_triple": "beyond_collapse.theory.supervised",
    "gaussian_mixture_rates": "beyond_collapse.theory.supervised",
    "isotropic_rates": "beyond_collapse.theory.supervised",
    "printed_gaussian_mixture_rates": "beyond_collapse.theory.supervised",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
