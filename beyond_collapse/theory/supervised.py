"""Supervised pruning (eq. (5)): keep rates (p, phi, psi) from the geometry of generator and verifier.

Paper: Feng et al. (2024), Sec. 3.4 and App. D.6. Both settings share the three angles of
eq. (6)/(22): ``theta_gen = angle(w_gen, mu)``, ``theta_prune = angle(w_prune, mu)`` and
``theta = angle(w_prune, w_gen)``; labels ``y in {0, 1}``, generator label
``y' = 1[x.w_gen > 0]``, and an example survives iff the pruner agrees with the generator,
``q = 1[(2 y' - 1) x.w_prune > 0]`` (eq. (5)).

- :func:`isotropic_rates` (Sec. 3.4, Fig. 2): ``x ~ N(0, I_d)`` and true label
  ``y = 1[x.mu > 0]``. The generator errs with probability ``p = theta_gen / pi`` (Fig. 2's
  caption); the ``p_kl`` are trivariate normal orthant probabilities with correlations the cosines
  of the three angles, and ``P(X1 > 0, X2 > 0, X3 > 0) = 1/8 + sum(asin r_ij) / (4 pi)`` gives

      phi = (2 pi - theta_gen - theta_prune - theta) / (2 (pi - theta_gen)),
      psi = (theta_gen + theta_prune - theta) / (2 theta_gen),

  and ``p < p*`` iff ``theta_gen + theta_prune < pi`` whatever ``theta`` is.
- :func:`gaussian_mixture_rates` (App. D.6): ``x | y ~ N(+-mu, (1 - |mu|^2)/d I_d)`` so that
  ``E|x|^2 = 1``, unit ``w_gen`` and ``w_prune``. With
  ``c_gen = -|mu| cos(theta_gen) sqrt(d / (1 - |mu|^2))`` (and ``c_prune`` likewise):
  ``p = Phi(c_gen)``, ``phi = Phi2(-c_prune, -c_gen; cos theta) / Phi(-c_gen)`` and
  ``psi = Phi2(c_prune, c_gen; cos theta) / Phi(c_gen)``. The paper prints a different variance
  and a different ``psi``; :func:`printed_gaussian_mixture_rates` evaluates the printed forms so
  that the errata checks can show they disagree with simulation (docs/ERRATA.md).

Both return a :class:`PruningRates`. Angle triples that no three unit vectors realize are rejected
by :func:`check_angle_triple`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from beyond_collapse._validation import check_broadcast, check_in_interval, check_positive, scalar_or_array
from beyond_collapse.theory.rlhf import breakdown_point, kept_probabilities
from beyond_collapse.theory.special import bivariate_normal_cdf, normal_cdf

__all__ = [
    "PruningRates",
    "check_angle_triple",
    "isotropic_rates",
    "gaussian_mixture_rates",
    "printed_gaussian_mixture_rates",
]

# Rounding slack for triples on the boundary of the realizable set, e.g. (pi/12, pi/6, pi/12).
_ANGLE_TOL = 1e-12


@dataclass(frozen=True)
class PruningRates:
    """Keep rates of a symmetric RLHF-type pruner (eq. (15)) and what they imply.

    Attributes:
        p: generator error rate ``P(y' != y)``.
        phi: ``P(q = 1 | y' = y)``; psi: ``P(q = 1 | y' != y)``.
        p_star: breakdown point ``1 / (1 + psi/phi)`` (Thm. 3.2).
        kept: ``p_kl`` array ``(..., 2, 2)`` of eq. (14).
        kept_fraction: ``P(q = 1)``, the fraction of synthetic data that survives.
        below_breakdown: ``p < p*``: Thm. 3.2 predicts 100% accuracy (0% if above).
    """

    p: float | np.ndarray
    phi: float | np.ndarray
    psi: float | np.ndarray
    p_star: float | np.ndarray
    kept: np.ndarray
    kept_fraction: float | np.ndarray
    below_breakdown: bool | np.ndarray

    @classmethod
    def from_rates(cls, p, phi, psi, margin=None) -> "PruningRates":
        """``margin``: ``p psi - (1 - p) phi`` where a closed form gives it exactly (the products
        would decide ``p < p*`` by rounding on the boundary); default: those products."""
        p, phi, psi = (np.clip(np.asarray(x, dtype=float), 0.0, 1.0) for x in (p, phi, psi))
        kept = kept_probabilities(p, phi, phi, psi, psi)
        below = np.asarray(p * psi < (1 - p) * phi) if margin is None else np.asarray(margin) < 0
        return cls(
            p=scalar_or_array(p), phi=scalar_or_array(phi), psi=scalar_or_array(psi),
            p_star=breakdown_point(phi, psi), kept=kept,
            kept_fraction=scalar_or_array(kept.sum(axis=(-2, -1))),
            below_breakdown=bool(below) if below.ndim == 0 else below,
        )

    def to_dict(self) -> dict:
        """Plain-Python view for JSON output."""
        def plain(x):
            return np.asarray(x).tolist()
        return {name: plain(getattr(self, name)) for name in
                ("p", "phi", "psi", "p_star", "kept", "kept_fraction", "below_breakdown")}


def check_angle_triple(theta_gen, theta_prune, theta):
    """Check that three unit vectors ``mu, w_gen, w_prune`` can have these pairwise angles (eq. (6)).

    Angles on the unit sphere obey the triangle inequality and their sum is at most ``2 pi``:
    ``|theta_gen - theta_prune| <= theta <= min(theta_gen + theta_prune, 2 pi - theta_gen - theta_prune)``
    (equivalently, the 3x3 Gram matrix of cosines is positive semidefinite). Each angle must lie
    in [0, pi].

    Returns:
        The three angles as float arrays (broadcast).

    Raises:
        ValueError: naming the violated inequality and the values.
    """
    tg = check_in_interval("theta_gen", theta_gen, 0.0, math.pi)
    tp = check_in_interval("theta_prune", theta_prune, 0.0, math.pi)
    t = check_in_interval("theta", theta, 0.0, math.pi)
    tg, tp, t = check_broadcast(theta_gen=tg, theta_prune=tp, theta=t)
    rules = (
        (t < np.abs(tg - tp) - _ANGLE_TOL,
         "theta = {t!r} < |theta_gen - theta_prune| = {v!r}: w_gen and w_prune cannot be closer to "
         "each other than their angles to mu differ (triangle inequality on the sphere)", np.abs(tg - tp)),
        (t > tg + tp + _ANGLE_TOL,
         "theta = {t!r} > theta_gen + theta_prune = {v!r}: w_gen and w_prune cannot be farther apart "
         "than their angles to mu add up (triangle inequality on the sphere)", tg + tp),
        (t > 2 * math.pi - tg - tp + _ANGLE_TOL,
         "theta = {t!r} > 2 pi - theta_gen - theta_prune = {v!r}: the three pairwise angles of three "
         "unit vectors sum to at most 2 pi", 2 * math.pi - tg - tp),
    )
    for bad, message, value in rules:
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
            where = f" (at index {idx})" if idx else ""
            raise ValueError(message.format(t=float(t[idx]), v=float(value[idx])) + where)
    return tg, tp, t


def isotropic_rates(theta_gen, theta_prune, theta) -> PruningRates:
    """Keep rates of supervised pruning (eq. (5)) for isotropic inputs (Sec. 3.4, Fig. 2).

    Model: ``x ~ N(0, I_d)``, ``y = 1[x.mu > 0]``, ``y' = 1[x.w_gen > 0]``, kept iff
    ``sign(x.w_prune)`` agrees with ``y'``. Closed forms (derivation in the module docstring):
    ``p = theta_gen / pi``, ``phi = (2 pi - tg - tp - t) / (2 (pi - tg))``,
    ``psi = (tg + tp - t) / (2 tg)``; exact (no quadrature).

    Args:
        theta_gen: angle(w_gen, mu) in (0, pi) -- at 0 or pi the generator never or always errs
            and ``psi`` or ``phi`` is a rate conditional on an event of probability 0.
        theta_prune: angle(w_prune, mu) in [0, pi]; theta: angle(w_prune, w_gen) in [0, pi].

    Returns:
        :class:`PruningRates` (arrays if inputs are arrays; they broadcast).

    Raises:
        ValueError: for impossible angles (:func:`check_angle_triple`), and where nothing
            survives pruning (``w_prune = -w_gen``, i.e. ``theta = theta_gen + theta_prune = pi``:
            ``phi = psi = 0`` exactly, whatever the rounding of the angles, and ``p*`` is
            undefined). Sweeps that cross that geometry should
            test ``p psi - (1 - p) phi`` (defined there) instead of ``p* - p``.
    """
    check_in_interval("theta_gen", theta_gen, 0.0, math.pi, low_open=True, high_open=True)
    tg, tp, t = check_angle_triple(theta_gen, theta_prune, theta)
    p = tg / math.pi
    phi = _snap(2 * math.pi - tg - tp - t) / (2 * (math.pi - tg))
    psi = _snap(tg + tp - t) / (2 * tg)
    # p psi - (1 - p) phi = (tg + tp - pi) / pi exactly: p < p* iff tg + tp < pi, decided without
    # rounding on the boundary tg + tp = pi (where the products differ in the last bit)
    return PruningRates.from_rates(p, phi, psi, margin=_snap(tg + tp - math.pi))


def _snap(gap):
    """A gap of angles that is 0 up to rounding (``pi/3 + 2 pi/3 - pi`` is 1e-16, not 0) is 0: the
    slack ``_ANGLE_TOL`` that :func:`check_angle_triple` allows, so that on the boundary, e.g.
    nothing survives pruning, a rate is exactly 0 and ``p*`` is undefined, not 1 from rounding."""
    return np.where(np.abs(gap) <= _ANGLE_TOL, 0.0, gap)


def _mixture_thresholds(mu_norm, d, theta_gen, theta_prune, theta, scale):
    mu = check_in_interval("mu_norm", mu_norm, 0.0, 1.0, high_open=True)
    d = check_positive("d", d)
    tg, tp, t = check_angle_triple(theta_gen, theta_prune, theta)
    s = scale(mu, d)
    c_gen = -mu * np.cos(tg) * s
    c_prune = -mu * np.cos(tp) * s
    return c_gen, c_prune, np.cos(t)


def gaussian_mixture_rates(mu_norm, d, theta_gen, theta_prune, theta) -> PruningRates:
    """Keep rates of supervised pruning (eq. (5)) for the Gaussian mixture of App. D.6.

    Model: ``y`` uniform on {0, 1}; ``x | y ~ N(+-mu, (1 - |mu|^2)/d I_d)`` (so ``E|x|^2 = 1``,
    App. D.1); unit ``w_gen``, ``w_prune``. Given ``y = 1``, ``x.w_gen`` and ``x.w_prune`` are
    jointly normal with means ``|mu| cos theta_gen``, ``|mu| cos theta_prune``, variance
    ``(1 - |mu|^2)/d`` and correlation ``cos theta``. With
    ``c_gen = -|mu| cos(theta_gen) sqrt(d / (1 - |mu|^2))`` and ``c_prune`` likewise:
    ``p = Phi(c_gen)``, ``phi = Phi2(-c_prune, -c_gen; cos theta) / Phi(-c_gen)`` and
    ``psi = Phi2(c_prune, c_gen; cos theta) / Phi(c_gen)`` (class 0 is the mirror image, so the
    rates are symmetric). Accuracy: that of :func:`bivariate_normal_cdf` (relative 1e-12).

    Args:
        mu_norm: ``|mu|`` in [0, 1); d: dimension > 0; angles as in :func:`check_angle_triple`.

    Raises:
        ValueError: for impossible angles, when the generator's error rate underflows, and where
            nothing survives pruning (``w_prune = -w_gen``, ``theta = pi`` within 1e-12:
            ``phi = psi = 0``, ``p*`` undefined; set exactly, not left at ~1e-16 by rounding).
    """
    c_gen, c_prune, rho = _mixture_thresholds(
        mu_norm, d, theta_gen, theta_prune, theta, lambda mu, d: np.sqrt(d / (1 - mu**2)))
    p = np.asarray(normal_cdf(c_gen))
    p_right = np.asarray(normal_cdf(-c_gen))
    if (p == 0).any() or (p_right == 0).any():
        bad = float(np.asarray(c_gen)[(p == 0) | (p_right == 0)].ravel()[0]) if np.ndim(c_gen) else float(c_gen)
        raise ValueError(
            f"c_gen = -|mu| cos(theta_gen) sqrt(d / (1 - |mu|^2)) = {bad!r}: the generator's error rate "
            "(or accuracy) underflows to 0, so psi (or phi) conditions on an event of probability 0; "
            "use a smaller |mu| or d, or theta_gen nearer pi/2"
        )
    phi = bivariate_normal_cdf(-c_prune, -c_gen, rho) / p_right
    psi = bivariate_normal_cdf(c_prune, c_gen, rho) / p
    # w_prune = -w_gen (theta = pi up to the angles' slack): nothing survives, phi = psi = 0 exactly
    # (the formulas give ~1e-16 from the rounding of c_prune = -c_gen)
    gone = _snap(math.pi - np.asarray(theta, dtype=float)) == 0
    phi, psi = np.where(gone, 0.0, phi), np.where(gone, 0.0, psi)
    return PruningRates.from_rates(p, phi, psi)


def printed_gaussian_mixture_rates(mu_norm, d, theta_gen, theta_prune, theta):
    """The paper's printed App. D.6 forms, kept to show where they go wrong (docs/ERRATA.md).

    As printed: ``c_i = -|mu| sqrt(d (1 - |mu|^2)) cos theta_i`` (from the printed variance
    ``1 / ((1 - |mu|^2) d)`` of eq. (23)),
    ``phi = (1 - Phi(c1) - Phi(c2) + Phi2(c1, c2; cos theta)) / (1 - Phi(c2))`` and
    ``psi = (Phi(c1) + Phi(c2) - Phi2(c1, c2; cos theta)) / Phi(c2)``, with ``c1`` from
    ``theta_prune`` and ``c2`` from ``theta_gen``; ``p = Phi(c2)``. The printed ``psi`` can exceed 1, so the values are
    returned unclipped as a tuple ``(p, phi, psi)``, not as :class:`PruningRates`.
    """
    c2, c1, rho = _mixture_thresholds(
        mu_norm, d, theta_gen, theta_prune, theta, lambda mu, d: np.sqrt(d * (1 - mu**2)))
    p1, p2 = normal_cdf(c1), normal_cdf(c2)
    joint = bivariate_normal_cdf(c1, c2, rho)
    phi = (1 - p1 - p2 + joint) / (1 - p2)
    psi = (p1 + p2 - joint) / p2
    return tuple(scalar_or_array(np.asarray(x, dtype=float)) for x in (p2, phi, psi))
