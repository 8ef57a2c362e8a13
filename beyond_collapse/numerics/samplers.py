"""Samplers for the data model of Sec. 3 / App. D: the balanced Gaussian mixture, label
generators with error rate p, RLHF-type pruning (phi, psi) and supervised (linear) pruning.

Labels and keep bits are int8 arrays of 0/1 (the paper's y in {0, 1}); the signed label used by
eq. (5) is ``2 y - 1``. Every function takes an explicit ``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np

from beyond_collapse._validation import (
    check_choice,
    check_count,
    check_labels,
    check_in_interval,
    check_memory,
    check_positive,
    check_probability,
)


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), got {rng!r}")
    return rng


_check_count = check_count


def mixture_mean(d: int, mu_norm: float) -> np.ndarray:
    """The mean ``mu = mu_norm * e_1`` of the positive class used by default throughout (Sec. 3.1).

    The direction is immaterial for an isotropic mixture (rotation invariance); e_1 keeps
    projections cheap to read.
    """
    d = _check_count("d", d, 1)
    mu_norm = float(check_in_interval("mu_norm", mu_norm, 0.0, 1.0, high_open=True))
    mu = np.zeros(d)
    mu[0] = mu_norm
    return mu


def default_noise_std(d: int, mu_norm: float) -> float:
    """Per-coordinate noise std of the isotropic mixture with E||x||^2 = ||mu||^2 + tr(Sigma) = 1
    (Sec. 3.1), i.e. Sigma = (1 - ||mu||^2) / d * I (App. D.6, eq. (23))."""
    return float(np.sqrt((1.0 - mu_norm**2) / d))


def sample_gaussian_mixture(
    n: int,
    *,
    d: int | None = None,
    mu_norm: float | None = None,
    mu: np.ndarray | None = None,
    noise_std: float | None = None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` pairs from the balanced isotropic Gaussian mixture of Sec. 3.1.

    ``y ~ Bernoulli(1/2)`` and ``x | y ~ N((2y - 1) mu, noise_std^2 I_d)``. Give either
    ``d`` and ``mu_norm`` (then ``mu = mu_norm e_1``) or ``mu`` itself. By default
    ``noise_std = sqrt((1 - ||mu||^2) / d)``, so that E||x||^2 = 1 as the paper requires;
    Sec. 4.1's distribution N(y tau w_*, I/d) is ``mu = tau w_*, noise_std = 1/sqrt(d)``.

    Returns ``(X, y)``: X float64 of shape (n, d), y int8 of 0/1.
    """
    n = _check_count("n", n)
    rng = _check_rng(rng)
    if mu is None:
        if d is None or mu_norm is None:
            raise ValueError("give either mu, or both d and mu_norm")
        d = _check_count("d", d, 1)
        check_memory(f"X of shape (n, d) = ({n}, {d})", 8 * (n + 1) * d)
        mu = mixture_mean(d, mu_norm)
    else:
        if d is not None or mu_norm is not None:
            raise ValueError("give either mu, or both d and mu_norm, not both")
        mu = np.asarray(mu, dtype=np.float64)
        if mu.ndim != 1 or mu.size == 0 or not np.all(np.isfinite(mu)):
            raise ValueError(f"mu must be a finite non-empty 1-D array, got shape {mu.shape}")
    dim = mu.size
    norm = float(np.linalg.norm(mu))
    if noise_std is None:
        if norm >= 1.0:
            raise ValueError(f"||mu|| must lie in [0, 1) for E||x||^2 = 1, got {norm!r}; pass noise_std explicitly")
        noise_std = default_noise_std(dim, norm)
    noise_std = float(check_positive("noise_std", noise_std))
    y = (rng.random(n) < 0.5).astype(np.int8)
    X = rng.standard_normal((n, dim))
    X *= noise_std
    X += np.outer(2.0 * y - 1.0, mu)
    return X, y


def flip_labels(y: np.ndarray, p: float, *, rng: np.random.Generator) -> np.ndarray:
    """A generator with error rate ``p = P(y' != y)`` (eq. (2)) whose errors are independent of x:
    each label is flipped independently with probability ``p`` (the setting of Fig. 5)."""
    y = check_labels("y", y)
    p = float(check_probability("p", p))
    rng = _check_rng(rng)
    flip = rng.random(y.shape) < p
    return np.where(flip, 1 - y, y).astype(np.int8)


def _pair(name: str, value) -> np.ndarray:
    arr = check_probability(name, value)
    if arr.ndim == 0:
        return np.array([float(arr), float(arr)])
    if arr.shape != (2,):
        raise ValueError(f"{name} must be a probability or a pair of probabilities, got shape {arr.shape}")
    return arr


def rlhf_prune(y_true: np.ndarray, y_syn: np.ndarray, *, phi, psi, rng: np.random.Generator) -> np.ndarray:
    """Keep bits of an RLHF-type pruner (eqs. (3), (14), Assumption 3.1).

    Each bit is drawn independently with ``P(q = 1 | y' = y = k) = phi_k`` and
    ``P(q = 1 | y' = l, y = k) = psi_kl`` for ``l != k``. ``phi`` is a scalar (symmetric, eq. (17))
    or the pair ``(phi_0, phi_1)``; ``psi`` a scalar or the pair ``(psi_01, psi_10)``, indexed by
    the true label first as in eq. (3). Returns int8 bits of 0/1.
    """
    y_true = np.asarray(y_true)
    y_syn = np.asarray(y_syn)
    if y_true.shape != y_syn.shape:
        raise ValueError(f"y_true and y_syn must have the same shape, got {y_true.shape} and {y_syn.shape}")
    y_true, y_syn = check_labels("y_true", y_true), check_labels("y_syn", y_syn)
    phi_k = _pair("phi", phi)
    psi_k = _pair("psi", psi)
    rng = _check_rng(rng)
    k = y_true.astype(np.intp)
    keep_prob = np.where(y_true == y_syn, phi_k[k], psi_k[k])
    return (rng.random(y_true.shape) < keep_prob).astype(np.int8)


def angle_directions(
    mu: np.ndarray, *, theta_gen: float, theta_prune: float, theta: float
) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors ``(w_gen, w_prune)`` with the three angles of eq. (6):
    ``angle(w_gen, mu) = theta_gen``, ``angle(w_prune, mu) = theta_prune``,
    ``angle(w_prune, w_gen) = theta``.

    They lie in span{mu, e_a, e_b} for the first two coordinate axes not parallel to mu
    (orthonormalised), so the construction is deterministic. The angles must be realisable,
    i.e. ``|theta_gen - theta_prune| <= theta <= min(theta_gen + theta_prune,
    2 pi - theta_gen - theta_prune)`` (the Gram matrix of the three unit vectors is PSD); needs
    ``d >= 3`` unless the three vectors are coplanar.
    """
    mu = np.asarray(mu, dtype=np.float64)
    if mu.ndim != 1 or not np.all(np.isfinite(mu)) or np.linalg.norm(mu) == 0:
        raise ValueError("mu must be a finite non-zero 1-D array")
    tg = float(check_in_interval("theta_gen", theta_gen, 0.0, np.pi))
    tp = float(check_in_interval("theta_prune", theta_prune, 0.0, np.pi))
    t = float(check_in_interval("theta", theta, 0.0, np.pi))
    low, high = abs(tg - tp), min(tg + tp, 2 * np.pi - tg - tp)
    slack = 1e-9  # round-off in angles computed elsewhere (e.g. arccos of a dot product)
    if not (low - slack <= t <= high + slack):
        raise ValueError(
            f"theta must lie in [{low:.6g}, {high:.6g}] for theta_gen={tg:.6g}, theta_prune={tp:.6g} "
            f"(otherwise no three unit vectors have these angles), got {t!r}"
        )
    cg, sg, cp, sp, c = np.cos(tg), np.sin(tg), np.cos(tp), np.sin(tp), np.cos(t)
    # coordinates in an orthonormal basis (m, u1, u2): w_gen = (cg, sg, 0), w_prune = (cp, a, b)
    a = (c - cg * cp) / sg if sg > 1e-12 else 0.0  # sg = 0: w_gen = +-m, any a with b fixes theta
    b = float(np.sqrt(max(1.0 - cp**2 - a**2, 0.0)))
    d = mu.size
    need = 3 if b > 1e-12 else 2
    if d < need:
        raise ValueError(f"these angles need dimension d >= {need}, got d={d}")
    m = mu / np.linalg.norm(mu)
    cand = np.eye(d)[:, np.argsort(np.abs(m), kind="stable")[: need - 1]]
    q, _ = np.linalg.qr(np.column_stack([m, cand]))
    q[:, 0] *= np.sign(q[:, 0] @ m)
    basis = q.T  # rows: m, u1 (, u2)
    w_gen = cg * basis[0] + sg * basis[1]
    w_prune = cp * basis[0] + a * basis[1]
    if need == 3:
        w_prune = w_prune + b * basis[2]
    return w_gen, w_prune


def linear_generator(X: np.ndarray, w_gen: np.ndarray) -> np.ndarray:
    """Labels of a linear generator: ``y' = 1[x . w_gen > 0]`` (Sec. 3.4, Fig. 2), int8 0/1."""
    return (np.asarray(X) @ np.asarray(w_gen) > 0).astype(np.int8)


def linear_pruner(X: np.ndarray, y_syn: np.ndarray, w_prune: np.ndarray) -> np.ndarray:
    """Keep bits of supervised pruning, eq. (5): ``q = 1[y'_signed (x . w_prune) > 0]``, int8 0/1.

    The pruner keeps exactly the examples whose synthetic label agrees with its own prediction.
    """
    signed = 2.0 * np.asarray(y_syn) - 1.0
    return (signed * (np.asarray(X) @ np.asarray(w_prune)) > 0).astype(np.int8)


def _check_supervised(d, mu_norm, theta_gen, theta_prune, theta):
    d = _check_count("d", d, 3)
    mu = mixture_mean(d, mu_norm)
    if mu_norm == 0:
        raise ValueError("mu_norm must lie in (0, 1): the angles of eq. (6) are undefined for mu = 0, got 0.0")
    w_gen, w_prune = angle_directions(mu, theta_gen=theta_gen, theta_prune=theta_prune, theta=theta)
    return d, mu, w_gen, w_prune


def sample_supervised_dataset(
    n: int, *, d: int, mu_norm: float, theta_gen: float, theta_prune: float, theta: float,
    rng: np.random.Generator, data: str = "mixture",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Data labelled by a linear generator and filtered by a linear pruner (Sec. 3.4, eq. (5)).

    ``data="mixture"`` (App. D.6): ``x`` from the isotropic mixture with mean ``mu_norm e_1`` and
    E||x||^2 = 1, true label its class. ``data="isotropic"`` (Sec. 3.4 / Fig. 2, where
    ``p = theta_gen / pi``): ``x ~ N(0, I_d / d)`` and true label ``1[x . mu > 0]`` (``mu_norm``
    then only fixes the direction). In both, ``y'`` comes from ``w_gen`` and the keep bits from
    ``w_prune``, the directions having the angles of eq. (6). Returns ``(X, y_true, y_syn, kept)``.
    """
    check_choice("data", data, ("mixture", "isotropic"))
    d, mu, w_gen, w_prune = _check_supervised(d, mu_norm, theta_gen, theta_prune, theta)
    if data == "mixture":
        X, y = sample_gaussian_mixture(n, mu=mu, rng=rng)
    else:
        n = _check_count("n", n)
        X = _check_rng(rng).standard_normal((n, d)) / np.sqrt(d)
        y = (X @ mu > 0).astype(np.int8)
    y_syn = linear_generator(X, w_gen)
    return X, y, y_syn, linear_pruner(X, y_syn, w_prune)


def sample_supervised_pruning(
    n: int, *, d: int, mu_norm: float, theta_gen: float, theta_prune: float, theta: float,
    rng: np.random.Generator, data: str = "mixture",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y_true, y_syn, kept)`` of supervised pruning (eq. (5)), without X.

    Same law as the labels of :func:`sample_supervised_dataset` (same ``data`` choices) but O(n)
    work and memory: the labels depend on x only through its projection on span{mu, w_gen,
    w_prune}, whose three coordinates in an orthonormal basis are independent N(0, s^2), around
    ``(2y - 1) mu`` with ``s^2 = (1 - mu_norm^2) / d`` for the mixture, around 0 with
    ``s^2 = 1 / d`` and ``y = 1[x . mu > 0]`` for isotropic data (there ``mu_norm`` and ``d`` do
    not change the law). Arrays are int8 of 0/1. This is the one Monte Carlo sampler of eq. (5):
    the claims registry and the report draw from it too.
    """
    check_choice("data", data, ("mixture", "isotropic"))
    d, mu, w_gen, w_prune = _check_supervised(d, mu_norm, theta_gen, theta_prune, theta)
    rng = _check_rng(rng)
    n = _check_count("n", n)
    check_memory(f"n = {n} rows", 8 * 5 * n)  # y, three coordinates of x, labels and keep bits
    # mu = mu_norm e_1 and angle_directions builds w_gen, w_prune on e_1 and two more axes, so
    # only those coordinates of x matter.
    support = np.flatnonzero((np.abs(w_gen) > 0) | (np.abs(w_prune) > 0) | (mu != 0))
    if support.size < 3:
        support = np.union1d(support, np.setdiff1d(np.arange(d), support)[: 3 - support.size])
    if data == "mixture":
        y = (rng.random(n) < 0.5).astype(np.int8)
        Z = rng.standard_normal((n, support.size)) * default_noise_std(d, mu_norm)
        Z += np.outer(2.0 * y - 1.0, mu[support])
    else:
        Z = rng.standard_normal((n, support.size)) / np.sqrt(d)
        y = (Z @ mu[support] > 0).astype(np.int8)
    y_syn = linear_generator(Z, w_gen[support])
    return y, y_syn, linear_pruner(Z, y_syn, w_prune[support])
