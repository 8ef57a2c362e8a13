"""Closed forms and sympy derivations of the paper's theory (Sec. 3, App. D, App. E). Pure functions, no sampling."""

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

__all__ = [
    "breakdown_bounds",
    "breakdown_point",
    "kept_probabilities",
    "limit_accuracy",
    "per_class_breakdown_points",
    "per_class_condition",
    "pooled_breakdown_point",
    "pooled_condition",
    "rlhf_from_kept",
]
