"""Moved to ``beyond_collapse.audit.phase`` (issue 14); this name stays only until the report's
theory-vs-experiment code imports from there. Nothing new may import it."""

from beyond_collapse.audit.phase import (  # noqa: F401
    COUNT_KEYS, CORRELATIONS, OUTCOMES, SIDES, Correlation, PhasePoint, agreement, breakdown_ratio, count_table,
    flags_from_counts, kendall_standard_error, kendall_tau_b, observed_outcome, phase_point, phase_point_from_counts,
    rank_correlation, spearman,
)
