"""Finite-N solvers, samplers, trainers and the simulations of Sec. 4 / App. D (numpy, scipy, numba)."""

from beyond_collapse.numerics.datasets import condition_d1_dataset

__all__ = ["condition_d1_dataset"]
