"""Finite-N solvers, samplers, trainers and the simulations of Sec. 4 / App. D (numpy, scipy, numba)."""
