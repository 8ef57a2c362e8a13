"""Finite-N solvers, samplers, trainers and the simulations of Sec. 4 / App. D (numpy, scipy, numba)."""

from beyond_collapse.numerics.datasets import condition_d1_dataset

__all__ = ["condition_d1_dataset"]
from beyond_collapse.numerics.intervals import clopper_pearson, wilson  # noqa: E402  (audit helper)
from beyond_collapse.numerics.audit import AuditResult, audit, audit_calibration  # noqa: E402  (audit helper)
__all__ += ["clopper_pearson", "wilson", "AuditResult", "audit", "audit_calibration"]  # audit helper
