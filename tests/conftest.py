"""Test configuration: a deterministic, bounded hypothesis profile for CI and local runs."""

from hypothesis import HealthCheck, settings

# Deterministic (derandomize) so CI is repeatable; few examples so the suite stays within budget.
settings.register_profile(
    "ci", derandomize=True, max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci")
