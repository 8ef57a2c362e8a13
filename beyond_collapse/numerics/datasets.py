"""Datasets whose Gram matrix has exactly the structure of Condition D.1 (App. D.1).

Condition D.1 holds only approximately (by concentration) for Gaussian mixtures. To check the
finite-N KKT system eq. (31) against an actual ridge-logistic fit, we need data for which it holds
*exactly*: unit-norm rows, x_i . x_j = a for equal true labels and b for different ones.
"""

from __future__ import annotations

import numpy as np

from beyond_collapse._validation import as_float_array, check_in_interval


def condition_d1_dataset(y, a: float, b: float) -> np.ndarray:
    """Rows x_i with |x_i| = 1 and x_i . x_j = a if y_i == y_j else b (Condition D.1, exact).

    Construction: with e_0, e_1, ... orthonormal (the coordinate axes),
    ``x_i = sqrt(|b|) s_i e_0 + sqrt(a - |b|) e_{1+y_i} + sqrt(1 - a) e_{3+i}``, where
    ``s_i = 2 y_i - 1`` when b < 0 and ``s_i = 1`` otherwise. Then
    |x_i|^2 = |b| + (a - |b|) + (1 - a) = 1; for i != j in the same class
    x_i . x_j = |b| + (a - |b|) = a; across classes x_i . x_j = |b| s_i s_j = b.

    Parameters
    ----------
    y : 1-D array of true labels in {0, 1}, length N >= 1.
    a, b : the Gram constants, with |b| <= a < 1 (so the Gram matrix is positive definite:
        it is (1 - a) I plus a positive semi-definite rank-2 part).

    Returns
    -------
    X : float64 array of shape (N, N + 3).
    """
    y_arr = np.asarray(y)
    if y_arr.ndim != 1 or y_arr.size == 0:
        raise ValueError(f"y must be a non-empty 1-D array of labels in {{0, 1}}, got shape {y_arr.shape}")
    yf = as_float_array("y", y_arr)
    if not np.all((yf == 0.0) | (yf == 1.0)):
        bad = yf[(yf != 0.0) & (yf != 1.0)][0]
        raise ValueError(f"y must contain only labels 0 and 1, got {bad!r}")
    a = float(check_in_interval("a", a, 0.0, 1.0, high_open=True))
    b = float(check_in_interval("b", b, -a, a))
    labels = yf.astype(np.int64)
    n = labels.size
    X = np.zeros((n, n + 3), dtype=np.float64)
    sign = (2.0 * labels - 1.0) if b < 0 else np.ones(n)
    X[:, 0] = np.sqrt(abs(b)) * sign
    X[np.arange(n), 1 + labels] = np.sqrt(a - abs(b))
    X[np.arange(n), 3 + np.arange(n)] = np.sqrt(1.0 - a)
    return X
