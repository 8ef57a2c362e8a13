"""Sec. 5.1-5.2 / App. B: a transformer predicting eigenvalues of symmetric matrices, with verifier-selected synthetic data."""
