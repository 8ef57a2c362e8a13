"""Test configuration: one thread per test worker, and a deterministic, bounded hypothesis profile."""

import os

# `make test` runs two xdist workers on a 2-core machine; numba, OpenBLAS and torch each default
# to one thread per core, and the oversubscription made single tests up to 8x slower. Set before
# any test module imports numba/numpy/torch; an explicit setting in the environment wins.
for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from hypothesis import HealthCheck, settings

# Deterministic (derandomize) so CI is repeatable; few examples so the suite stays within budget.
settings.register_profile(
    "ci", derandomize=True, max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci")
