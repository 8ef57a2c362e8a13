"""Hypothesis strategies for property-testing code against the theorem's conditions.

Import them in your own tests (needs the ``test`` extra: ``hypothesis``)::

    from hypothesis import given
    from beyond_collapse.proofs_check.strategies import rlhf_parameters

    @given(rlhf_parameters(side="below"))
    def test_my_rule(params):
        p, phi, psi, t = params     # p < p_-(t): Thm. D.3 predicts 100% accuracy
        ...

Strategies (each draws a named tuple, so fields read by name or unpack in order):

* ``rlhf_parameters`` -> ``RLHFParameters(p, phi, psi, t)``: the symmetric RLHF-type strategy of
  Thm. D.3 (phi, psi, t in (0, 1), p in [0, 1)); optionally p below p_-(t) or above p_+(t)
  (eq. (19)), where the theorem predicts 100% or 0% accuracy.
* ``class_dependent_parameters`` -> ``ClassDependentParameters(p, phi0, phi1, psi01, psi10)``:
  general class-dependent pruning (eqs. (14), (15)); all in [0, 1], p < 1, phi0 + phi1 > 0.
* ``condition_d1_datasets`` -> ``ConditionD1Data(X, y, a, b)``: data whose Gram matrix is exactly
  Condition D.1 (|x_i| = 1, x_i . x_j = a within a class, b across), with b = -a (symmetric, the
  Gaussian-mixture case of Prop. E.3), b = 0 (skewed, Prop. E.4) or any |b| <= a.
* ``angle_triples`` -> ``AngleTriple(theta_gen, theta_prune, theta)``: angles (eq. (22)) realized
  by three unit vectors mu/|mu|, w_gen, w_prune, i.e. |theta_gen - theta_prune| <= theta <=
  min(theta_gen + theta_prune, 2 pi - theta_gen - theta_prune).

Every strategy keeps to the domain where the paper's statements are made, and ``eps`` keeps
draws that far from open boundaries (0 by default: only the boundary itself is excluded).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from hypothesis import assume, strategies as st

from beyond_collapse._validation import check_choice, check_in_interval


class RLHFParameters(NamedTuple):
    p: float
    phi: float
    psi: float
    t: float


class ClassDependentParameters(NamedTuple):
    p: float
    phi0: float
    phi1: float
    psi01: float
    psi10: float


class ConditionD1Data(NamedTuple):
    X: np.ndarray
    y: np.ndarray
    a: float
    b: float


class AngleTriple(NamedTuple):
    theta_gen: float
    theta_prune: float
    theta: float


def _unit(eps: float, *, closed_low: bool = False, closed_high: bool = False) -> st.SearchStrategy[float]:
    """Floats in [0, 1] with each open end kept ``eps`` away (subnormals excluded: they test the
    float format, not the model)."""
    low = 0.0 if closed_low else eps
    high = 1.0 if closed_high else 1.0 - eps
    return st.floats(low, high, exclude_min=not closed_low and eps == 0, exclude_max=not closed_high and eps == 0,
                     allow_nan=False, allow_subnormal=False)


def _check_eps(eps: float) -> float:
    return float(check_in_interval("eps", eps, 0.0, 0.25))


def rlhf_parameters(*, side: str | None = None, eps: float = 0.0) -> st.SearchStrategy[RLHFParameters]:
    """Valid (p, phi, psi, t) for Thm. D.3 / eq. (19): phi, psi, t in (0, 1), p in [0, 1).

    ``side="below"`` draws p < p_-(t) (the theorem predicts 100% accuracy), ``side="above"`` draws
    p > p_+(t) (it predicts 0%), ``None`` any p. The thresholds come from
    ``beyond_collapse.theory.breakdown_bounds``. ``eps`` keeps phi, psi, t at least that far from 0
    and 1; with ``side`` it keeps p a fraction ``eps`` of the way inside (0, p_-(t)) or (p_+(t), 1),
    without it p lies in [0, 1 - eps].
    """
    if side is not None:
        check_choice("side", side, ("below", "above"))
    eps = _check_eps(eps)

    @st.composite
    def build(draw) -> RLHFParameters:
        phi, psi, t = draw(_unit(eps)), draw(_unit(eps)), draw(_unit(eps))
        if side is None:
            return RLHFParameters(draw(_unit(eps, closed_low=True)), phi, psi, t)
        from beyond_collapse.theory import breakdown_bounds

        p_minus, p_plus = (float(x) for x in breakdown_bounds(phi, psi, t))
        u = draw(_unit(eps))
        # p = u * p_minus < p_minus; p = p_plus + u (1 - p_plus) in (p_plus, 1): strict by exclusion of u's ends.
        p = u * p_minus if side == "below" else p_plus + u * (1.0 - p_plus)
        # Rounding at the ends of u's range can land on a threshold; rare, rejected rather than nudged.
        assume(0.0 <= p < p_minus if side == "below" else p_plus < p < 1.0)
        return RLHFParameters(p, phi, psi, t)

    return build()


def class_dependent_parameters(*, eps: float = 0.0) -> st.SearchStrategy[ClassDependentParameters]:
    """General class-dependent pruning parameters (eqs. (14), (15)): p in [0, 1) and
    phi0, phi1, psi01, psi10 in [0, 1] with phi0 + phi1 > 0 (so the pooled breakdown point
    (phi0 + phi1) / (phi0 + phi1 + psi01 + psi10) of Prop. E.3 is defined; the per-class points of
    Prop. E.4 also need phi_k + psi_kl > 0, which ``eps > 0`` guarantees). ``eps`` keeps every
    rate at least that far from 0 and 1.
    """
    eps = _check_eps(eps)
    closed = eps == 0.0
    rate = _unit(eps, closed_low=closed, closed_high=closed)
    return st.builds(
        ClassDependentParameters, _unit(eps, closed_low=closed), rate, rate, rate, rate,
    ).filter(lambda c: c.phi0 + c.phi1 > 0)


def condition_d1_datasets(
    *, min_size: int = 2, max_size: int = 20, gram: str = "any", both_classes: bool = True,
) -> st.SearchStrategy[ConditionD1Data]:
    """Datasets with exactly the Gram structure of Condition D.1 (App. D.1), built by
    ``beyond_collapse.numerics.condition_d1_dataset``: y has ``min_size`` to ``max_size`` labels
    (both classes present when ``both_classes``), a in [0, 0.99] and b = -a (``gram="symmetric"``),
    b = 0 (``"skewed"``) or b in [-a, a] (``"any"``).
    """
    check_choice("gram", gram, ("any", "symmetric", "skewed"))
    if not (isinstance(min_size, int) and isinstance(max_size, int) and 1 <= min_size <= max_size):
        raise ValueError(f"need integers 1 <= min_size <= max_size, got {min_size!r}, {max_size!r}")
    if both_classes and max_size < 2:
        raise ValueError(f"both_classes needs max_size >= 2, got {max_size}")

    @st.composite
    def build(draw) -> ConditionD1Data:
        from beyond_collapse.numerics import condition_d1_dataset

        y = np.array(draw(st.lists(st.integers(0, 1), min_size=max(min_size, 2 if both_classes else 1),
                                        max_size=max_size)), dtype=np.int8)
        if both_classes and y.min() == y.max():
            y[0] = 1 - y[0]
        # a < 1 keeps the Gram matrix positive definite; 0.99 leaves it well conditioned.
        a = draw(st.floats(0.0, 0.99, allow_subnormal=False))
        if gram == "symmetric":
            b = -a
        elif gram == "skewed":
            b = 0.0
        else:
            b = draw(st.floats(-a, a, allow_subnormal=False)) if a > 0 else 0.0
        return ConditionD1Data(condition_d1_dataset(y, a, b), y, a, b)

    return build()


def angle_triples(*, eps: float = 0.0) -> st.SearchStrategy[AngleTriple]:
    """Realizable (theta_gen, theta_prune, theta) of eq. (22): theta_gen, theta_prune in [0, pi] and
    theta between |theta_gen - theta_prune| and min(theta_gen + theta_prune, 2 pi - theta_gen -
    theta_prune), the range where the Gram matrix of the three unit vectors is positive
    semi-definite. ``eps`` (radians) keeps all angles that far inside their ranges (degenerate,
    coplanar configurations sit on the boundary).
    """
    eps = float(check_in_interval("eps", eps, 0.0, 0.5))

    @st.composite
    def build(draw) -> AngleTriple:
        tg = draw(st.floats(eps, math.pi - eps, allow_subnormal=False))
        tp = draw(st.floats(eps, math.pi - eps, allow_subnormal=False))
        low = abs(tg - tp) + eps
        high = min(tg + tp, 2 * math.pi - tg - tp) - eps
        assume(low <= high)  # only when eps > 0 squeezes the range shut
        s = draw(st.floats(0.0, 1.0, allow_subnormal=False))
        theta = min(max(low + s * (high - low), low), high)  # clamp: rounding must not leave the range
        return AngleTriple(tg, tp, theta)

    return build()
