"""Exact accuracies of linear classifiers on the balanced isotropic Gaussian mixture.

For ``x | y ~ N((2y - 1) mu, s^2 I)`` with balanced classes the Bayes classifier is
``f_Bayes(x) = 1[x . mu > 0]``. The accuracies below are closed forms in the fitted weights, so a
simulation's measurement carries no test-set sampling noise.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, owens_t

from beyond_collapse._validation import as_float_array, check_positive, scalar_or_array


def _prepare(w, mu, noise_std):
    w = as_float_array("w", w)
    mu = as_float_array("mu", mu)
    if mu.ndim != 1 or mu.size == 0 or not np.all(np.isfinite(mu)):
        raise ValueError(f"mu must be a finite non-empty 1-D array, got shape {mu.shape}")
    if w.ndim == 0 or w.shape[-1] != mu.size:
        raise ValueError(f"w must have last dimension d = {mu.size} (the length of mu), got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("w must be finite")
    mu_norm = float(np.linalg.norm(mu))
    if mu_norm == 0:
        raise ValueError("mu must be non-zero: the Bayes classifier of a mixture with equal means is undefined")
    if noise_std is None:
        if mu_norm >= 1:
            raise ValueError(f"||mu|| must lie in (0, 1) for E||x||^2 = 1, got {mu_norm!r}; pass noise_std explicitly")
        noise_std = np.sqrt((1.0 - mu_norm**2) / mu.size)
    noise_std = float(check_positive("noise_std", noise_std))
    w_norm = np.linalg.norm(w, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.clip((w @ mu) / (w_norm * mu_norm), -1.0, 1.0)
    return cos, w_norm, mu_norm / noise_std


def accuracy_vs_bayes(w, *, mu, noise_std: float | None = None):
    """``acc(f_w) = P(f_w(x) = f_Bayes(x))`` for ``(x, y)`` from the balanced isotropic mixture (Sec. 3.1).

    ``f_w(x) = 1[x . w > 0]`` (eq. (12)) and ``f_Bayes(x) = 1[x . mu > 0]``; the noise std
    defaults to ``sqrt((1 - ||mu||^2) / d)`` (E||x||^2 = 1). With ``b = ||mu|| / noise_std`` and
    ``theta`` the angle between ``w`` and ``mu``, conditioning on the class reduces the agreement
    to two orthant probabilities of a bivariate normal with correlation ``cos(theta)``, which Owen's
    T function sums in closed form:

        acc = 1 - 2 T(b cos(theta), tan(theta)) - 1[theta > pi/2],

    with ``acc = 1/2`` at ``theta = pi/2`` and for ``w = 0``. As ``b -> 0`` this is
    ``1 - theta/pi`` (two half-spaces under a centred Gaussian). Accurate to a few 1e-15 absolute
    (scipy's ``owens_t``). ``w`` has shape ``(..., d)``; the result has shape ``w.shape[:-1]``.
    """
    cos, w_norm, b = _prepare(w, mu, noise_std)
    sin = np.sqrt(np.maximum(0.0, 1.0 - cos**2))
    with np.errstate(divide="ignore", invalid="ignore"):
        tan = np.where(cos != 0, sin / cos, np.inf)
    acc = 1.0 - 2.0 * owens_t(b * cos, tan) - (cos < 0)
    acc = np.where((cos == 0) | (w_norm == 0), 0.5, acc)
    return scalar_or_array(np.clip(acc, 0.0, 1.0))


def mixture_accuracy(w, *, mu, noise_std: float | None = None):
    """``P(f_w(x) = y)``: accuracy of ``f_w(x) = 1[x . w > 0]`` against the true label of the mixture.

    Equals ``Phi(b cos(theta))`` with ``b = ||mu|| / noise_std`` and ``theta`` the angle between
    ``w`` and ``mu``; ``1/2`` for ``w = 0``. This is the accuracy of Sec. 4 (Fig. 3), whose
    distribution is ``mu = tau w_*`` with ``noise_std = 1/sqrt(d)``.
    """
    cos, w_norm, b = _prepare(w, mu, noise_std)
    return scalar_or_array(np.where(w_norm == 0, 0.5, ndtr(b * np.nan_to_num(cos))))


def bayes_accuracy(*, mu_norm, noise_std):
    """Accuracy of the Bayes classifier on the balanced isotropic mixture: ``Phi(||mu|| / noise_std)``.

    Sec. 4.1: ``tau = 0.15`` and ``noise_std = 1/sqrt(d)`` give ``Phi(0.15 sqrt(d))``.
    """
    mu_norm = check_positive("mu_norm", mu_norm)
    noise_std = check_positive("noise_std", noise_std)
    return scalar_or_array(ndtr(mu_norm / noise_std))
