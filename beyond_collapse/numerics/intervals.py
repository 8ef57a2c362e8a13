"""Confidence intervals for a binomial proportion (exact Clopper-Pearson, Wilson score), and the one
rule that calls a measured difference significant (``significant_sign``).

Every rate in the paper's pruning model is a binomial proportion: the generator's error rate
p = P(y' != y) (eq. (2)) and the keep rates phi_k = P(q = 1 | y' = y = k), psi_kl =
P(q = 1 | y = k, y' = l) (eqs. (3), (15)). An audit sample estimates each one from a count k of
successes among n trials; these functions turn (k, n) into an interval.

Both functions broadcast over numpy arrays of counts. n = 0 (no trials, e.g. no mislabelled row
in an audit) gives the uninformative interval [0, 1] rather than an error, so that a caller can
report "no data" for one rate while estimating the others.

Accuracy: Clopper-Pearson bounds are quantiles of Beta distributions computed with
``scipy.special.betaincinv`` (relative error near machine precision away from the extreme tails;
the tests check 1e-10 against mpmath root-finding on the binomial CDF at 40 digits). Wilson bounds
are a closed form.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from beyond_collapse._validation import check_in_interval, check_positive, scalar_or_array


def significant_sign(difference: float, se: float, z: float = 2.0) -> int:
    """+1 / -1 when a measured ``difference`` exceeds ``z`` standard errors ``se`` above / below zero,
    else 0: the one rule behind every "better / worse / no significant difference" verdict.

    A zero difference is never significant, even with ``se = 0``. Raises ``ValueError`` for a
    negative ``se``, a non-positive ``z`` or a non-finite ``difference``.
    """
    check_positive("se", se, allow_zero=True)
    check_positive("z", z)
    if not np.isfinite(difference):
        raise ValueError(f"difference must be finite, got {difference!r}")
    if difference > z * se:
        return 1
    if difference < -z * se:
        return -1
    return 0


def _counts(k, n) -> tuple[np.ndarray, np.ndarray]:
    """Validate successes ``k`` and trials ``n``: integers with 0 <= k <= n."""
    k_arr = np.asarray(check_in_interval("k", k, 0, np.inf))
    n_arr = np.asarray(check_in_interval("n", n, 0, np.inf))
    for name, x in (("k", k_arr), ("n", n_arr)):
        if np.any(x != np.round(x)) or not np.all(np.isfinite(x)):
            raise ValueError(f"{name} must be a whole number of trials, got {x!r}")
    k_arr, n_arr = np.broadcast_arrays(k_arr, n_arr)
    if np.any(k_arr > n_arr):
        idx = tuple(int(i) for i in np.argwhere(k_arr > n_arr)[0]) if k_arr.ndim else ()
        raise ValueError(f"k must not exceed n, got k={float(k_arr[idx])!r} > n={float(n_arr[idx])!r}")
    return k_arr, n_arr


def _alpha(confidence) -> float:
    conf = float(check_in_interval("confidence", confidence, 0.0, 1.0, low_open=True, high_open=True))
    return 1.0 - conf


def clopper_pearson(k: ArrayLike, n: ArrayLike, confidence: float = 0.95):
    """Exact (Clopper-Pearson) two-sided interval for a binomial proportion.

    The lower bound is the p at which P(X >= k; n, p) = alpha/2 and the upper bound the p at which
    P(X <= k; n, p) = alpha/2 (alpha = 1 - confidence), written as Beta quantiles:
    low = B^{-1}(alpha/2; k, n-k+1), high = B^{-1}(1-alpha/2; k+1, n-k), with low = 0 when k = 0
    and high = 1 when k = n. Coverage is at least ``confidence`` for every true p (conservative).

    Parameters are counts ``k`` (successes) and ``n`` (trials), scalars or arrays that broadcast;
    n = 0 gives [0, 1]. Returns ``(low, high)`` (floats for scalar input).
    """
    from scipy import special  # here, not at import: the command line starts without scipy

    k_arr, n_arr = _counts(k, n)
    alpha = _alpha(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k_arr > 0, special.betaincinv(np.maximum(k_arr, 1), n_arr - k_arr + 1, alpha / 2), 0.0)
        high = np.where(
            k_arr < n_arr, special.betaincinv(k_arr + 1, np.maximum(n_arr - k_arr, 1), 1 - alpha / 2), 1.0
        )
    return scalar_or_array(low), scalar_or_array(high)


def wilson(k: ArrayLike, n: ArrayLike, confidence: float = 0.95):
    """Wilson score interval for a binomial proportion (Wilson, 1927).

    The set of p with |k/n - p| <= z sqrt(p (1-p) / n), z the two-sided normal quantile:
    centre (k + z^2/2) / (n + z^2), half-width z sqrt(k (n-k) / n + z^2/4) / (n + z^2).
    Approximate coverage (it can dip below ``confidence`` for some p); shorter than Clopper-Pearson.
    Broadcasts; n = 0 gives [0, 1]. Returns ``(low, high)``.
    """
    k_arr, n_arr = _counts(k, n)
    from scipy import special

    z = float(special.ndtri(1 - _alpha(confidence) / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = n_arr + z * z
        centre = (k_arr + z * z / 2) / denom
        half = z * np.sqrt(k_arr * (n_arr - k_arr) / np.where(n_arr > 0, n_arr, 1) + z * z / 4) / denom
        low = np.where(n_arr > 0, np.clip(centre - half, 0.0, 1.0), 0.0)
        high = np.where(n_arr > 0, np.clip(centre + half, 0.0, 1.0), 1.0)
    # The exact endpoints at k = 0 and k = n are 0 and 1; rounding in centre - half can leave 1e-17.
    low = np.where(k_arr == 0, 0.0, low)
    high = np.where(k_arr == n_arr, 1.0, high)
    return scalar_or_array(low), scalar_or_array(high)
