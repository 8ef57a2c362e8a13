"""Iterated retraining on verifier-selected synthetic data in the limit of Thm. 3.2 (issue 17).

Generation t's classifier ``w_t`` labels fresh inputs of the balanced isotropic Gaussian mixture,
a verifier keeps some of them, real examples (true labels, not filtered) may be mixed in, and
generation t + 1 is fitted on the kept data (``replace``: this generation's data only;
``accumulate``: every generation's data so far). Derivation: docs/generations.md.

Per example of a generation with a fraction ``alpha`` of real data, the expected kept-wrong minus
kept-right (and real) count is the *margin*

    delta = (1 - alpha) (p psi - (1 - p) phi) - alpha,

and Props. E.3 / E.5 (pooled case b = -a) say that as N -> infinity the fitted model is perfect
(the Bayes direction, accuracy 1) when the total margin of its training data is negative and
perfectly wrong (the flipped direction, accuracy 0) when it is positive. Hence the limit map:

- replace: ``state_{t+1} = 1[delta(state_t) < 0]``;
- accumulate: ``state_{t+1} = 1[sum_{s <= t} delta(state_s) < 0]`` (each generation adds N examples).

After one step the model is at one of two states, Bayes (``theta = 0``) or flipped
(``theta = pi``), so the whole trajectory is fixed by three margins: that of the initial generator,
``delta_bayes`` and ``delta_flipped``. For an RLHF-type verifier (phi, psi fixed) in a mixture of
signal-to-noise ratio ``b = ||mu|| / noise_std`` the generator error rates at the two states are
``Phi(-b)`` and ``Phi(b)``; the Bayes state is a fixed point iff ``Phi(-b) < p*_alpha`` and the
flipped one iff ``Phi(b) > p*_alpha``, with ``p*_alpha`` of :func:`effective_breakdown_point`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from beyond_collapse._validation import check_broadcast, check_choice, check_positive, check_probability, scalar_or_array
from beyond_collapse.theory.special import normal_cdf

MODES = ("replace", "accumulate")

__all__ = [
    "MODES",
    "LimitTrajectory",
    "critical_angle",
    "effective_breakdown_point",
    "limit_fixed_points",
    "limit_step",
    "limit_trajectory",
    "margin_rate",
    "mixture_error_rate",
    "mixture_snr",
]


def mixture_snr(mu_norm, d):
    """``b = ||mu|| / noise_std = ||mu|| sqrt(d / (1 - ||mu||^2))`` of the mixture with E||x||^2 = 1
    (Sec. 3.1, App. D.6, eq. (23)); the Bayes classifier's error rate is ``Phi(-b)``."""
    mu_norm = check_probability("mu_norm", mu_norm, open_low=True, open_high=True)
    d = check_positive("d", d)
    return scalar_or_array(mu_norm * np.sqrt(d / (1.0 - mu_norm**2)))


def mixture_error_rate(theta, snr):
    """Error rate ``p = P(y' != y) = Phi(-b cos theta)`` of the linear generator ``y' = 1[x . w > 0]``
    at angle ``theta`` to ``mu`` in the mixture of signal-to-noise ratio ``b`` (``x . w / |w|`` given
    the class is ``N(+-||mu|| cos theta, noise_std^2)``). Broadcasts."""
    theta = np.asarray(theta, dtype=float)
    if np.any(~np.isfinite(theta)):
        raise ValueError(f"theta must be finite (radians), got {theta!r}")
    snr = check_positive("snr", snr, allow_zero=True)
    return scalar_or_array(normal_cdf(-snr * np.cos(theta)))


def margin_rate(p, phi, psi, real_fraction=0.0):
    """Expected (kept wrong - kept right - real) count per example of one generation:
    ``delta = (1 - alpha)(p psi - (1 - p) phi) - alpha`` with ``alpha = real_fraction``.

    Real examples carry true labels and are never filtered. ``delta < 0``: the generation pulls the
    next model to the Bayes direction in the limit of Thm. 3.2; ``delta > 0``: to the flipped one.
    With ``alpha = 0`` the sign of ``delta`` is that of ``p - p*`` (Thm. 3.2)."""
    p = check_probability("p", p)
    phi = check_probability("phi", phi)
    psi = check_probability("psi", psi)
    alpha = check_probability("real_fraction", real_fraction)
    return scalar_or_array((1.0 - alpha) * (p * psi - (1.0 - p) * phi) - alpha)


def effective_breakdown_point(phi, psi, real_fraction=0.0):
    """Breakdown point with a fraction ``alpha`` of real data: ``delta < 0`` iff ``p < p*_alpha``,

        p*_alpha = (alpha + (1 - alpha) phi) / ((1 - alpha)(phi + psi)),

    which is ``p* = phi / (phi + psi)`` of Thm. 3.2 at ``alpha = 0`` and grows with ``alpha``.
    A value >= 1 means no generator error rate makes the generation pull towards the flipped
    direction (``inf`` at ``alpha = 1``). ``phi = psi = 0`` with ``alpha = 0`` is rejected (nothing
    is kept)."""
    phi = check_probability("phi", phi)
    psi = check_probability("psi", psi)
    alpha = check_probability("real_fraction", real_fraction)
    phi, psi, alpha = check_broadcast(phi=phi, psi=psi, real_fraction=alpha)
    if np.any((phi + psi == 0) & (alpha == 0)):
        raise ValueError("phi and psi must not both be 0 when real_fraction = 0: nothing is kept, no breakdown point")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (alpha + (1.0 - alpha) * phi) / ((1.0 - alpha) * (phi + psi))
    return scalar_or_array(np.where(alpha == 1, np.inf, np.where(phi + psi == 0, np.inf, out)))


def critical_angle(p_star, snr):
    """Basin boundary of the limit map for an RLHF-type verifier: the generator angle ``theta_c`` with
    ``Phi(-b cos theta_c) = p*``, i.e. ``theta_c = arccos(-Phi^{-1}(p*) / b)``. Generators with
    ``theta < theta_c`` step to the Bayes direction, those with ``theta > theta_c`` to the flipped one.
    Returns 0 when ``p* <= Phi(-b)`` (every generator steps to the flipped direction) and ``pi`` when
    ``p* >= Phi(b)`` (every generator steps to the Bayes direction)."""
    from scipy.special import ndtri

    snr = check_positive("snr", snr)
    p_star = np.asarray(p_star, dtype=float)
    if np.any(np.isnan(p_star)) or np.any(p_star < 0):
        raise ValueError(f"p_star must be >= 0, got {p_star!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        c = -ndtri(np.minimum(p_star, 1.0)) / snr
    return scalar_or_array(np.arccos(np.clip(c, -1.0, 1.0)))


def limit_step(p, phi, psi, real_fraction=0.0):
    """Accuracy (against Bayes) of the next model in the limit of Thm. 3.2, replace mode:
    1 if ``delta < 0``, 0 if ``delta > 0``, 0.5 at the tie (as :func:`limit_accuracy`)."""
    delta = np.asarray(margin_rate(p, phi, psi, real_fraction))
    return scalar_or_array(np.where(delta < 0, 1.0, np.where(delta > 0, 0.0, 0.5)))


@dataclass(frozen=True)
class LimitTrajectory:
    """Limit trajectory of :func:`limit_trajectory`.

    Attributes:
        accuracy: accuracy against Bayes of generations 1..T (1 Bayes, 0 flipped; nan after a tie).
        bayes_fixed, flipped_fixed: whether each state is a fixed point (absorbing).
        bayes_time_fraction: accumulate mode with neither state absorbing: the long-run fraction
            of generations in the Bayes state, ``delta_flipped / (delta_flipped - delta_bayes)``;
            else None.
    """

    accuracy: np.ndarray
    bayes_fixed: bool
    flipped_fixed: bool
    bayes_time_fraction: float | None


def limit_fixed_points(delta_bayes: float, delta_flipped: float) -> tuple[bool, bool]:
    """``(Bayes state absorbing, flipped state absorbing)``: ``delta_bayes < 0`` and ``delta_flipped > 0``.

    The same in both modes: in accumulate mode a state with the right sign only pushes the
    cumulative margin further the same way."""
    return bool(delta_bayes < 0), bool(delta_flipped > 0)


def limit_trajectory(delta_initial: float, delta_bayes: float, delta_flipped: float, generations: int,
                     mode: str = "replace") -> LimitTrajectory:
    """The limit map of the module docstring iterated for ``generations`` steps.

    Args:
        delta_initial: margin (:func:`margin_rate`) of the data made by the initial generator.
        delta_bayes, delta_flipped: margins of data made by a Bayes / flipped generator.
        generations: number of retrained generations T >= 1.
        mode: ``"replace"`` or ``"accumulate"`` (every generation contributes the same number of
            examples, so margins add with equal weights).
    """
    check_choice("mode", mode, MODES)
    if isinstance(generations, bool) or not isinstance(generations, (int, np.integer)) or generations < 1:
        raise ValueError(f"generations must be an integer >= 1, got {generations!r}")
    for name, v in (("delta_initial", delta_initial), ("delta_bayes", delta_bayes), ("delta_flipped", delta_flipped)):
        if not np.isfinite(v):
            raise ValueError(f"{name} must be finite, got {v!r}")
    acc = np.full(int(generations), np.nan)
    total, delta = 0.0, float(delta_initial)
    for t in range(int(generations)):
        total = total + delta if mode == "accumulate" else delta
        if total == 0:
            acc[t] = 0.5  # tie: the limit does not decide, nor anything after it
            break
        acc[t] = 1.0 if total < 0 else 0.0
        delta = delta_bayes if acc[t] == 1.0 else delta_flipped
    bayes_fixed, flipped_fixed = limit_fixed_points(delta_bayes, delta_flipped)
    frac = None
    if mode == "accumulate" and not bayes_fixed and not flipped_fixed and delta_flipped != delta_bayes:
        frac = float(delta_flipped / (delta_flipped - delta_bayes))
    return LimitTrajectory(accuracy=acc, bayes_fixed=bayes_fixed, flipped_fixed=flipped_fixed,
                           bayes_time_fraction=frac)
