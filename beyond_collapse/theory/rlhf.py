"""RLHF-type pruning: kept probabilities, breakdown points and the infinite-sample accuracy.

Paper: Feng et al. (2024), Sec. 3.2-3.3 and App. D.3-D.5, E.3-E.5.

Notation (eqs. (2), (3), (15)): labels are in {0, 1}, ``k`` is the true label ``y`` and ``l`` the
synthetic (generator) label ``y'``; ``p = P(y' != y)``; ``phi_k = P(q = 1 | y' = k, y = k)``
(a correctly labelled example of class ``k`` survives pruning) and
``psi_kl = P(q = 1 | y' = l, y = k)`` for ``k != l`` (a wrongly labelled one survives). The
symmetric strategy of Thm. 3.2 / D.3 has ``phi_0 = phi_1 = phi`` and ``psi_01 = psi_10 = psi``.

Symmetric case:

- :func:`breakdown_point` -- ``p* = 1 / (1 + psi/phi)`` (Thm. 3.2 / D.3).
- :func:`breakdown_bounds` -- ``(p-*(t), p+*(t))`` of eq. (19).
- :func:`limit_accuracy` -- the N -> infinity accuracy of Thm. D.3 (1 below p*, 0 above, 1/2 at p*).

Class-dependent parameters (phi_0, phi_1, psi_01, psi_10):

- :func:`kept_probabilities` -- the ``p_kl`` of eq. (14), as an array ``(..., 2, 2)``.
- :func:`rlhf_from_kept` -- the inverse of Remark D.2 (symmetric case).
- The two Gram structures of App. E.3 (``a = <x_i, x_j>`` within a class, ``b`` across classes)
  give different breakdown conditions:

  * ``b = -a`` (the Gaussian mixture, eq. (9)): Prop. E.3 -- accuracy is 100% iff
    ``N_10 + N_01 < N_11 + N_00`` (a *pooled* condition over both classes). In expectation this
    reads ``p_01 + p_10 < p_00 + p_11``: :func:`pooled_condition` and
    :func:`pooled_breakdown_point`.
  * ``b = 0``: Prop. E.4 -- the classes decouple; class 1 is classified correctly iff
    ``N_10 < N_11`` and class 0 iff ``N_01 < N_00`` (*one condition per class*):
    :func:`per_class_condition` and :func:`per_class_breakdown_points`.

  With ``t > 0`` the conditions are the high-probability versions of Prop. E.5 (binomial
  concentration, eq. (52)): the bad count is inflated by ``1 + t`` and the good one deflated by
  ``1 - t``. In the symmetric case both structures reduce to ``p < p*``.
"""

from __future__ import annotations

import numpy as np

from beyond_collapse._validation import check_broadcast, check_probability, scalar_or_array

__all__ = [
    "breakdown_point",
    "breakdown_bounds",
    "limit_accuracy",
    "kept_probabilities",
    "rlhf_from_kept",
    "pooled_condition",
    "per_class_condition",
    "pooled_breakdown_point",
    "per_class_breakdown_points",
]


def _ratio_point(good, bad, name_good: str, name_bad: str) -> np.ndarray:
    """``good / (good + bad)``: the p at which ``p * bad = (1 - p) * good``."""
    good, bad = check_broadcast(**{name_good: good, name_bad: bad})
    both_zero = (good == 0) & (bad == 0)
    if both_zero.any():
        idx = tuple(int(i) for i in np.argwhere(both_zero)[0]) if good.ndim else ()
        where = f" at index {idx}" if idx else ""
        raise ValueError(
            f"{name_good} and {name_bad} must not both be 0{where}: nothing survives pruning, "
            "so no breakdown point is defined"
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        return good / (good + bad)


def breakdown_point(phi, psi):
    """Breakdown point ``p* = 1 / (1 + psi/phi) = phi / (phi + psi)`` of Thm. 3.2 / Thm. D.3.

    Edge cases (the formula ``phi / (phi + psi)`` covers them): ``psi = 0 < phi`` (oracle
    pruning) gives ``p* = 1``; ``phi = 0 < psi`` (only wrong labels survive) gives ``p* = 0``.
    ``phi = psi = 0`` is rejected: nothing survives pruning.

    Args:
        phi: keep rate of correctly labelled examples, in [0, 1].
        psi: keep rate of wrongly labelled examples, in [0, 1].

    Returns:
        ``p*`` in [0, 1]; a float for scalar input, else an array (inputs broadcast).
    """
    phi = check_probability("phi", phi)
    psi = check_probability("psi", psi)
    return scalar_or_array(_ratio_point(phi, psi, "phi", "psi"))


def breakdown_bounds(phi, psi, t):
    """Thresholds ``(p-*(t), p+*(t))`` of eq. (19) (Thm. D.3).

    ``p-*(t) = (1 - t) / (1 - t + (1 + t) psi/phi)`` and
    ``p+*(t) = (1 + t) / (1 + t + (1 - t) psi/phi)``, written here as
    ``(1-t) phi / ((1-t) phi + (1+t) psi)`` (and likewise) so that ``phi = 0`` is defined.
    Below ``p-*(t)`` the accuracy tends to 100%, above ``p+*(t)`` to 0%, with probability
    ``1 - o(1)``; ``p-*(t) <= p* <= p+*(t)`` and both tend to ``p*`` as ``t -> 0``.

    Args:
        phi, psi: keep rates in [0, 1], not both 0.
        t: concentration slack, in (0, 1).

    Returns:
        ``(p_minus, p_plus)``, floats for scalar input, else arrays (inputs broadcast).
    """
    phi = check_probability("phi", phi)
    psi = check_probability("psi", psi)
    t = check_probability("t", t, open_low=True, open_high=True)
    p_star = _ratio_point(phi, psi, "phi", "psi")  # also rejects phi = psi = 0
    phi, psi = _scaled(phi, psi)
    p_minus = _ratio_point((1 - t) * phi, (1 + t) * psi, "phi", "psi")
    p_plus = _ratio_point((1 + t) * phi, (1 - t) * psi, "phi", "psi")
    # p-*(t) <= p* <= p+*(t) holds exactly in the reals; rounding can break it by an ulp at t ~ 1e-16
    return scalar_or_array(np.minimum(p_minus, p_star)), scalar_or_array(np.maximum(p_plus, p_star))


def _scaled(phi, psi):
    """``(phi, psi) / max(phi, psi)``: the larger becomes 1, so products with ``1 +- t`` or ``p``
    cannot both underflow to 0 for subnormal inputs (the ratios, all that matters, are unchanged).
    Call after ``_ratio_point`` has rejected ``phi = psi = 0``."""
    m = np.maximum(phi, psi)
    m = np.where(m > 0, m, 1.0)
    return phi / m, psi / m


def limit_accuracy(p, phi, psi):
    """Infinite-sample test accuracy of Thm. 3.2 / D.3: 1 for ``p < p*``, 0 for ``p > p*``.

    At ``p = p*`` the survivors' good-minus-bad count ``(N_00 + N_11) - (N_01 + N_10)`` is a sum of
    i.i.d. variables with mean 0, so by the central limit theorem the model ends up perfectly
    accurate or perfectly inaccurate each with probability tending to 1/2; the value returned
    there is this expected accuracy, 0.5. (When nothing survives at all -- ``p = 0`` with
    ``phi = 0``, or ``p = 1`` with ``psi = 0`` -- the model is ``w = 0``, which predicts one class
    for every input: accuracy 1/2 on balanced data, again 0.5.)

    Args:
        p: generator error rate ``P(y' != y)``, in [0, 1].
        phi, psi: keep rates in [0, 1], not both 0.

    Returns:
        0.0, 0.5 or 1.0 (float for scalar input, else an array).
    """
    p = check_probability("p", p)
    phi = check_probability("phi", phi)
    psi = check_probability("psi", psi)
    _ratio_point(phi, psi, "phi", "psi")  # validation only
    phi, psi = _scaled(phi, psi)  # phi = 5e-324, psi = 0 would otherwise give good = bad = 0
    # Compare p * psi with (1 - p) * phi (Thm. D.3's inequality) rather than p with a rounded p*,
    # so that p = p* is detected exactly for inputs such as phi = psi, p = 1/2.
    bad = p * psi
    good = (1 - p) * phi
    acc = np.where(bad < good, 1.0, np.where(bad > good, 0.0, 0.5))
    return scalar_or_array(acc)


def kept_probabilities(p, phi0, phi1, psi01, psi10) -> np.ndarray:
    """The ``p_kl = P(q = 1, y' = l, y = k)`` of eq. (14) (balanced classes).

    ``p_kk = phi_k (1 - p) / 2`` and ``p_kl = psi_kl p / 2`` for ``k != l``. The symmetric
    strategy of eq. (4) / eq. (18) is ``kept_probabilities(p, phi, phi, psi, psi)``.

    Args:
        p: generator error rate, in [0, 1].
        phi0, phi1: keep rates of correctly labelled examples of class 0 and 1, in [0, 1].
        psi01: keep rate of true-0 examples labelled 1; psi10: of true-1 examples labelled 0.

    Returns:
        Array of shape ``broadcast_shape + (2, 2)``; entry ``[..., k, l]`` is ``p_kl``.
    """
    p = check_probability("p", p)
    phi0 = check_probability("phi0", phi0)
    phi1 = check_probability("phi1", phi1)
    psi01 = check_probability("psi01", psi01)
    psi10 = check_probability("psi10", psi10)
    p, phi0, phi1, psi01, psi10 = check_broadcast(p=p, phi0=phi0, phi1=phi1, psi01=psi01, psi10=psi10)
    out = np.empty(p.shape + (2, 2))
    out[..., 0, 0] = phi0 * (1 - p) / 2
    out[..., 1, 1] = phi1 * (1 - p) / 2
    out[..., 0, 1] = psi01 * p / 2
    out[..., 1, 0] = psi10 * p / 2
    return out


def rlhf_from_kept(p00, p01, p=None):
    """Inverse of Remark D.2 (eq. (18)): symmetric kept probabilities -> ``(p, phi, psi)``.

    Eq. (18) maps ``(p, phi, psi)`` to ``p_00 = p_11 = (1 - p) phi / 2`` and
    ``p_01 = p_10 = p psi / 2``. That is a bijection between ``(phi, psi)`` and ``(p_00, p_01)``
    only for a *fixed* ``p`` in (0, 1); Remark D.2 omits that qualifier (three numbers cannot map
    one-to-one onto two). Hence:

    - with ``p`` given, returns ``(p, 2 p_00 / (1 - p), 2 p_01 / p)`` (rejected if a keep rate
      would exceed 1);
    - without ``p``, returns the representative with ``phi = psi``: uniform pruning at rate
      ``2 (p_00 + p_01)`` of a generator whose error rate ``p = p_01 / (p_00 + p_01)`` equals the
      error rate of the kept data. Every ``(p, phi, psi)`` with the same ``p_kl`` yields the same
      kept data distribution, hence the same :func:`limit_accuracy`.

    Args:
        p00: ``P(q = 1, y' = y = 0)``, >= 0; p01: ``P(q = 1, y = 0, y' = 1)``, >= 0;
            ``2 (p00 + p01) <= 1`` (the kept fraction) and ``p00 + p01 > 0``.
        p: optional generator error rate in (0, 1).

    Returns:
        ``(p, phi, psi)``, floats for scalar input, else arrays (inputs broadcast).
    """
    p00 = check_probability("p00", p00)
    p01 = check_probability("p01", p01)
    kept = 2 * (p00 + p01)
    bad = kept > 1 + 1e-15
    if bad.any():
        raise ValueError(f"2 * (p00 + p01) is the kept fraction and must lie in [0, 1], got {float(np.max(kept))!r}")
    if p is None:
        if (p00 + p01 == 0).any():
            raise ValueError("p00 + p01 must be > 0: with nothing kept the strategy is not identifiable")
        p_out = p01 / (p00 + p01)
        rate = np.minimum(kept, 1.0)
        p_out, phi, psi = np.broadcast_arrays(p_out, rate, rate)
    else:
        p_in = check_probability("p", p, open_low=True, open_high=True)
        p_out, p00, p01 = check_broadcast(p=p_in, p00=p00, p01=p01)
        phi = 2 * p00 / (1 - p_out)
        psi = 2 * p01 / p_out
        for name, rate in (("phi", phi), ("psi", psi)):
            if (rate > 1 + 1e-12).any():
                raise ValueError(
                    f"{name} = {float(np.max(rate))!r} > 1: no strategy with error rate p = {p!r} "
                    "keeps that much (Remark D.2 needs p00 <= (1 - p)/2 and p01 <= p/2)"
                )
        phi, psi = np.minimum(phi, 1.0), np.minimum(psi, 1.0)
    return scalar_or_array(p_out), scalar_or_array(phi), scalar_or_array(psi)


def _check_kept(kept, t) -> tuple[np.ndarray, np.ndarray]:
    kept = check_probability("kept", kept)
    if kept.shape[-2:] != (2, 2):
        raise ValueError(f"kept must have shape (..., 2, 2) (from kept_probabilities), got {kept.shape}")
    # t = 0: the conditions in expectation; t in (0, 1): the Prop. E.5 versions.
    t = check_probability("t", t, open_high=True)
    return kept, t


def pooled_condition(kept, t=0.0):
    """Perfect-accuracy condition for the Gram structure ``b = -a`` (Prop. E.3, Prop. E.5).

    Prop. E.3: 100% accuracy iff ``N_10 + N_01 < N_11 + N_00``. With ``t = 0`` this returns the
    condition in expectation, ``p_01 + p_10 < p_00 + p_11`` (its N -> infinity limit away from
    equality); with ``t`` in (0, 1) the sufficient condition of eq. (55),
    ``(1 + t)(p_01 + p_10) < (1 - t)(p_00 + p_11)``.

    Args:
        kept: array ``(..., 2, 2)`` of ``p_kl`` (see :func:`kept_probabilities`).
        t: slack in [0, 1).

    Returns:
        bool (or bool array of the broadcast leading shape).
    """
    kept, t = _check_kept(kept, t)
    good = kept[..., 0, 0] + kept[..., 1, 1]
    bad = kept[..., 0, 1] + kept[..., 1, 0]
    out = (1 + t) * bad < (1 - t) * good
    return bool(out) if out.ndim == 0 else out


def per_class_condition(kept, t=0.0) -> np.ndarray:
    """Per-class perfect-accuracy conditions for the Gram structure ``b = 0`` (Prop. E.4).

    Class 1 is classified correctly iff ``N_10 < N_11`` and class 0 iff ``N_01 < N_00``; in
    expectation (``t = 0``) ``p_10 < p_11`` and ``p_01 < p_00``, and with slack ``t`` in (0, 1)
    ``(1 + t) p_10 < (1 - t) p_11`` (and likewise), as in Prop. E.5.

    Returns:
        bool array ``(..., 2)``: ``[..., k]`` says whether class ``k`` is learned correctly.
    """
    kept, t = _check_kept(kept, t)
    t = t[..., None]
    good = np.stack([kept[..., 0, 0], kept[..., 1, 1]], axis=-1)
    bad = np.stack([kept[..., 0, 1], kept[..., 1, 0]], axis=-1)
    return (1 + t) * bad < (1 - t) * good


def pooled_breakdown_point(phi0, phi1, psi01, psi10):
    """Breakdown point for ``b = -a`` (Prop. E.3) with class-dependent keep rates.

    ``p_01 + p_10 < p_00 + p_11`` iff ``p < (phi_0 + phi_1) / (phi_0 + phi_1 + psi_01 + psi_10)``:
    the symmetric ``p*`` with ``phi`` and ``psi`` replaced by their class averages.
    """
    phi0 = check_probability("phi0", phi0)
    phi1 = check_probability("phi1", phi1)
    psi01 = check_probability("psi01", psi01)
    psi10 = check_probability("psi10", psi10)
    phi0, phi1, psi01, psi10 = check_broadcast(phi0=phi0, phi1=phi1, psi01=psi01, psi10=psi10)
    return scalar_or_array(_ratio_point(phi0 + phi1, psi01 + psi10, "phi0 + phi1", "psi01 + psi10"))


def per_class_breakdown_points(phi0, phi1, psi01, psi10):
    """Per-class breakdown points for ``b = 0`` (Prop. E.4).

    Class 0 is learned iff ``p psi_01 < (1 - p) phi_0``, i.e. ``p < phi_0 / (phi_0 + psi_01)``;
    class 1 iff ``p < phi_1 / (phi_1 + psi_10)``. Accuracy is 100% below the smaller of the two,
    50% between them (one class flipped), 0% above the larger.

    Returns:
        ``(p_star_class0, p_star_class1)``.
    """
    phi0 = check_probability("phi0", phi0)
    phi1 = check_probability("phi1", phi1)
    psi01 = check_probability("psi01", psi01)
    psi10 = check_probability("psi10", psi10)
    phi0, phi1, psi01, psi10 = check_broadcast(phi0=phi0, phi1=phi1, psi01=psi01, psi10=psi10)
    return (scalar_or_array(_ratio_point(phi0, psi01, "phi0", "psi01")),
            scalar_or_array(_ratio_point(phi1, psi10, "phi1", "psi10")))
