"""Exact high-dimensional learning curves of eq. (1) trained on verifier-pruned synthetic data.

Thm. 3.2 is a limit in N at fixed d. This module gives the test accuracy at finite N and d, in the
proportional limit ``N, d -> infinity`` with ``alpha = N / d`` fixed (N counts every synthesized
row, pruned ones included, as in eq. (1)). The derivation is in docs/learning_curves.md; in short:

Data model (App. D.6). ``x = s mu + sigma z`` with ``s = +-1`` the class, ``z ~ N(0, I_d)`` and
``snr = |mu| / sigma`` held fixed (``snr = |mu| sqrt(d / (1 - |mu|^2))`` in the package's
E|x|^2 = 1 convention, :func:`beyond_collapse.theory.mixture_snr`). The downstream model
minimises ``(1/N) sum_i q_i l(y'_i, w . x_i) + (lam/2) |w|^2`` (eq. (1)) with the logistic or the
square loss (targets +-1). With ``b = sigma w`` the ridge becomes ``ridge = lam / sigma^2 =
lam d / (1 - |mu|^2)`` (:func:`proportional_parameters`).

Labels ``y'`` and keep bits ``q`` depend on x only through ``s`` and the projections of ``z`` on
the generator's and the pruner's directions. Split ``b = b_S + b_perp`` with ``b_S`` in the span
``S`` of mu, w_gen, w_prune. The convex Gaussian min-max theorem (equivalently the replica
formula for ridge-regularised GLMs) reduces the fit to five numbers: ``Q = |b_perp|^2``, the
susceptibility ``V`` and the coordinates ``beta`` of ``b_S``. With ``omega = s snr b_1 + b_S . u +
sqrt(Q) xi`` (``u`` the projections of z on S, ``xi ~ N(0, 1)``), ``eta = prox_{V q l(y', .)}(omega)``
and ``f = (eta - omega) / V``, they solve

    V = 1 / (alpha ridge - alpha E[d f / d omega]),   Q = alpha E[f^2] V^2,
    ridge b_S = E[f (s snr e_1 + u)],

and the test accuracy against the Bayes classifier is that of a weight vector with cosine
``b_1 / sqrt(|b_S|^2 + Q)`` to mu (:func:`beyond_collapse.numerics.bayes.accuracy_vs_bayes`).
Pruned rows have ``q = 0``, hence ``f = 0``.

Channels:

- :func:`rlhf_learning_curve` -- labels flipped independently with probability ``p``, kept with
  probability ``phi`` (correct) or ``psi`` (wrong) (Sec. 3.2, Fig. 5). Clean labels: ``p = 0``.
- :func:`supervised_learning_curve` -- labels from a generator direction at angle ``theta_gen`` to mu
  (sign as in Fig. 2, or sigmoid as in Fig. 3), kept by eq. (5) with a pruner direction at angles
  ``theta_prune`` to mu and ``theta`` to the generator; ``data="isotropic"`` is the centred model of
  Sec. 3.4 (``x ~ N(0, I/d)``, true label ``1[x . mu > 0]``).

Expectations are Gauss-Legendre quadratures over the projections on the generator and pruner
directions, split where labels and keep bits jump, and Gauss-Hermite over ``xi``. The fixed point is
found by Powell's hybrid method (scipy ``root``) from a damped fixed-point iteration; a point that
does not converge raises :class:`LearningCurveError`.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from scipy.optimize import root
from scipy.special import expit, roots_hermitenorm, roots_legendre

from beyond_collapse._validation import (
    check_broadcast,
    check_choice,
    check_in_interval,
    check_positive,
    check_probability,
    scalar_or_array,
)
from beyond_collapse.numerics.bayes import accuracy_vs_bayes, mixture_accuracy

LOSSES = ("logistic", "square")
DATA_MODELS = ("mixture", "isotropic")
GENERATORS = ("sign", "sigmoid")

# E over N(0, 1). 128 nodes, not 32: at small ridge the logistic f(omega) is a ramp of width ~V with
# corners of width ~1, and once sqrt(Q) > 3 a 32-node rule misses them (accuracy off by 1e-4 at
# alpha = 10, ridge = 2e-4; tests/numerics/test_learning_curves_published.py)
_XI, _XI_W = roots_hermitenorm(128)
_XI_W = _XI_W / _XI_W.sum()
_GL, _GL_W = roots_legendre(48)
_CUT = 9.0  # |v| beyond 9 standard deviations carries 2e-19 of the mass
_OMEGA_SPACING = 0.05  # knot spacing of the logistic proximal map's Hermite table in omega
_HANDOFF = 1e-2  # residual at which the damped iteration hands over to Powell's method
_TOL = 1e-6  # residual of the fixed point (log Q, log V, and beta relative to 1 + |beta|): below it the
# accuracy is exact to ~1e-7, above the quadrature's noise floor at extreme parameters


class LearningCurveError(ValueError):
    """The saddle-point equations did not converge at one point (the message names it)."""


class LearningCurve(NamedTuple):
    """Asymptotic test accuracy and order parameters; each field has the broadcast shape of the inputs.

    accuracy: agreement with the Bayes classifier (the package's convention, Sec. 3.1).
    accuracy_true: agreement with the true label (``Phi(snr cos)`` for the mixture).
    cosine: cosine of the angle between the fitted weights and mu.
    q_perp: ``Q = |b_perp|^2``, the squared norm of the part of the weights outside S (noise fitted).
    v: susceptibility ``V``.
    b_norm2: ``|b_S|^2``.
    kept_fraction: expected fraction of rows with ``q = 1``.
    """

    accuracy: np.ndarray
    accuracy_true: np.ndarray
    cosine: np.ndarray
    q_perp: np.ndarray
    v: np.ndarray
    b_norm2: np.ndarray
    kept_fraction: np.ndarray


def proportional_parameters(n, d, mu_norm, lam):
    """``(alpha, snr, ridge)`` of a finite problem of eq. (1): ``n`` rows (pruned ones included),
    dimension ``d``, mixture mean norm ``mu_norm`` (E|x|^2 = 1) and ridge ``lam``.

    ``alpha = n / d``, ``snr = mu_norm sqrt(d / (1 - mu_norm^2))`` and ``ridge = lam d / (1 -
    mu_norm^2)`` (the ridge on ``b = sigma w``). For the isotropic model (``x ~ N(0, I / d)``) pass
    ``mu_norm=0``: then ``ridge = lam d``.
    """
    n = check_positive("n", n)
    d = check_positive("d", d)
    mu_norm = check_in_interval("mu_norm", mu_norm, 0.0, 1.0, high_open=True)
    lam = check_positive("lam", lam)
    var = (1.0 - mu_norm**2) / d
    return scalar_or_array(n / d), scalar_or_array(mu_norm / np.sqrt(var)), scalar_or_array(lam / var)


# ------------------------------------------------------------------------------------------------
# Proximal map of the loss (per sample, weight 1): eta = argmin_x (x - omega)^2 / (2 V) + l(y, x)
# ------------------------------------------------------------------------------------------------

@numba.njit(cache=True)
def _logistic_prox(y, omegas, V):
    """``f, f', f''`` (derivatives in omega) at each ``omega`` for the logistic loss
    ``l = log(1 + exp(-y x))``, where ``f = (eta - omega) / V = y sigmoid(-y eta)`` and eta is the
    proximal point: with ``s = sigmoid(-y eta)``, ``c = s (1 - s)``, ``f' = -c / (1 + V c)`` and
    ``f'' = y c (1 - 2 s) / (1 + V c)^3``.

    eta lies between omega and omega + y V (|l'| < 1) and g(eta) = eta - omega - V y sigmoid(-y eta)
    is increasing with slope in [1, 1 + V/4], so safeguarded Newton steps inside the bracket
    (bisection otherwise) converge for every omega.
    """
    out = np.empty((3, omegas.size))
    for j in range(omegas.size):
        omega = omegas[j]
        lo, hi = (omega, omega + V) if y > 0 else (omega - V, omega)
        eta = omega + 0.5 * V * y
        dx = dx_old = hi - lo
        for _ in range(400):
            sig = 1.0 / (1.0 + np.exp(y * eta))  # sigmoid(-y eta)
            g = eta - omega - V * y * sig
            if g == 0.0:
                break
            if g < 0:
                lo = eta
            else:
                hi = eta
            slope = 1.0 + V * sig * (1.0 - sig)
            # rtsafe: Newton while it stays in the bracket and halves the step, else bisect
            # (plain Newton can cycle on this sigmoid-shaped g when V is large).
            if lo < eta - g / slope < hi and abs(2.0 * g) <= abs(dx_old * slope):
                dx_old, dx = dx, g / slope
                eta -= dx
            else:
                dx_old, dx = dx, 0.5 * (hi - lo)
                eta = lo + dx
            if abs(dx) <= 1e-14 * (1.0 + abs(eta)):
                break
        sig = 1.0 / (1.0 + np.exp(y * eta))
        c = sig * (1.0 - sig)
        out[0, j] = y * sig
        out[1, j] = -c / (1.0 + V * c)
        out[2, j] = y * c * (1.0 - 2.0 * sig) / (1.0 + V * c) ** 3
    return out


@numba.njit(cache=True)
def _hermite(table, value_row, slope_row, lo, h, x):
    """Cubic Hermite interpolation at ``x`` of the function tabulated in ``table[value_row]`` on the
    uniform knots ``lo + h i``, with its derivative in ``table[slope_row]`` (error O(h^4))."""
    u = (x - lo) / h
    i = min(max(int(np.floor(u)), 0), table.shape[1] - 2)
    t = u - i
    t2, t3 = t * t, t * t * t
    return ((2 * t3 - 3 * t2 + 1) * table[value_row, i] + (t3 - 2 * t2 + t) * h * table[slope_row, i]
            + (-2 * t3 + 3 * t2) * table[value_row, i + 1] + (t3 - t2) * h * table[slope_row, i + 1])


@numba.njit(cache=True)
def _smoothed_table(prox, lo, h, m_lo, m_h, n_m, tau, xi, xi_w):
    """On the knots ``m_lo + m_h j``: ``E f, E f', E f'', E f^2, d/dm E f^2`` with ``omega = m + tau xi``,
    f and f' Hermite-interpolated from ``prox`` (rows f, f', f''); ``E f'' = E[xi f'] / tau`` (Stein)."""
    out = np.zeros((5, n_m))
    for j in range(n_m):
        m = m_lo + m_h * j
        for k in range(xi.size):
            x = m + tau * xi[k]
            f = _hermite(prox, 0, 1, lo, h, x)
            df = _hermite(prox, 1, 2, lo, h, x)
            out[0, j] += xi_w[k] * f
            out[1, j] += xi_w[k] * df
            out[2, j] += xi_w[k] * xi[k] * df / tau
            out[3, j] += xi_w[k] * f * f
            out[4, j] += xi_w[k] * 2.0 * f * df
    return out


@numba.njit(cache=True)
def _direct_moments(prox, lo, h, means, tau, xi, xi_w):
    """``E f, E f', E f^2`` at each ``omega = means[j] + tau xi``, f and f' Hermite-interpolated from ``prox``."""
    out = np.zeros((3, means.size))
    for j in range(means.size):
        for k in range(xi.size):
            x = means[j] + tau * xi[k]
            f = _hermite(prox, 0, 1, lo, h, x)
            out[0, j] += xi_w[k] * f
            out[1, j] += xi_w[k] * _hermite(prox, 1, 2, lo, h, x)
            out[2, j] += xi_w[k] * f * f
    return out


@numba.njit(cache=True)
def _node_moments(table, m_lo, m_h, means):
    """``E f, E f', E f^2`` at each node mean, Hermite-interpolated from :func:`_smoothed_table`."""
    out = np.empty((3, means.size))
    for j in range(means.size):
        out[0, j] = _hermite(table, 0, 1, m_lo, m_h, means[j])
        out[1, j] = _hermite(table, 1, 2, m_lo, m_h, means[j])
        out[2, j] = _hermite(table, 3, 4, m_lo, m_h, means[j])
    return out


def _prox_moments(loss: str, y: float, means: np.ndarray, tau: float, V: float) -> np.ndarray:
    """Rows ``E_xi[f], E_xi[df/domega], E_xi[f^2]`` at ``omega = means + tau xi``, ``f = (eta - omega) / V``
    with ``eta = argmin_x (x - omega)^2 / (2 V) + l(y, x)`` the proximal map of the loss (label ``y = +-1``)."""
    if loss == "square":  # l = (y - x)^2 / 2: f = (y - omega) / (1 + V), linear in omega
        mean = (y - means) / (1.0 + V)
        return np.stack([mean, np.full_like(means, -1.0 / (1.0 + V)), mean**2 + (tau / (1.0 + V)) ** 2])
    # f is smooth in omega on a scale of order 1 (the sigmoid's), and its Gaussian averages are
    # smoother still: tabulate f with its derivatives on uniform knots in omega, average over xi on
    # uniform knots in the mean, and interpolate both (cubic Hermite), instead of one Newton solve
    # per node and xi. The knot spacing sets the error (h^4).
    m_lo, m_hi = float(means.min()), float(means.max())
    reach = tau * np.abs(_XI).max()
    n = int(np.ceil((m_hi - m_lo + 2 * reach) / _OMEGA_SPACING)) + 2
    lo, h = m_lo - reach, (m_hi - m_lo + 2 * reach) / (n - 1)
    prox = _logistic_prox(y, lo + h * np.arange(n), V)
    n_m = int(np.ceil((m_hi - m_lo) / _OMEGA_SPACING)) + 2
    m_h = max(m_hi - m_lo, 1e-12) / (n_m - 1)
    if tau < 1e-6 or n_m >= means.size:  # no smoothing to exploit, or few nodes: average at each node
        return _direct_moments(prox, lo, h, means, tau, _XI, _XI_W)
    table = _smoothed_table(prox, lo, h, m_lo, m_h, n_m, tau, _XI, _XI_W)
    return _node_moments(table, m_lo, m_h, means)


# ------------------------------------------------------------------------------------------------
# Channels: quadrature nodes over (s, y', u) carrying the probability of a kept row
# ------------------------------------------------------------------------------------------------

class _Channel(NamedTuple):
    """Kept-row quadrature nodes and the geometry of S.

    Each node has a class sign ``s`` (0 in the isotropic model: no mean), a synthetic label ``y``,
    the projections ``v`` (generator direction) and ``w`` (pruner direction, orthogonalised) of z,
    and ``weight`` = probability mass x keep probability. ``e1`` holds mu's direction in the
    orthonormal basis (e_gen, e_w, e_o) of S, ``e_o`` being the part of mu outside span{w_gen, w_prune}.
    """

    s: np.ndarray
    y: np.ndarray
    v: np.ndarray
    w: np.ndarray
    weight: np.ndarray
    e1: np.ndarray
    snr_train: float  # snr in the training inputs (0 in the isotropic model)
    data: str


def _segment(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and N(0,1)-density weights on [lo, hi] (arrays broadcast; last axis: nodes)."""
    lo = np.clip(lo, -_CUT, _CUT)[..., None]
    hi = np.clip(hi, -_CUT, _CUT)[..., None]
    half = 0.5 * (hi - lo)
    x = lo + half * (_GL + 1.0)
    return x, half * _GL_W * np.exp(-0.5 * x**2) / np.sqrt(2.0 * np.pi)


def _rlhf_channel(p: float, phi: np.ndarray, psi: np.ndarray, snr: float) -> _Channel:
    # Labels do not depend on u; phi, psi are per class (index 0: s = -1, class y = 0).
    s, y, wt = [], [], []
    for k, sign in enumerate((-1.0, 1.0)):
        for label, prob, keep in ((sign, 1.0 - p, phi[k]), (-sign, p, psi[k])):
            s.append(sign), y.append(label), wt.append(0.5 * prob * keep)
    zeros = np.zeros(4)
    return _Channel(np.array(s), np.array(y), zeros, zeros, np.array(wt), np.array([0.0, 0.0, 1.0]), snr, "mixture")


def _supervised_channel(snr: float, theta_gen: float, theta_prune: float, theta: float, data: str,
                        generator: str, gen_scale: float, keep: str = "eq5", phi: float = 1.0, psi: float = 1.0,
                        real_fraction: float = 0.0) -> _Channel:
    """Nodes of a linear generator's labels. ``keep``: ``"eq5"`` (the pruner of eq. (5)), ``"rlhf"``
    (probability phi if y' is the true class, psi if not) or ``"all"``; a fraction ``real_fraction``
    of the rows carries the true class and is always kept (real data)."""
    cg, sg = np.cos(theta_gen), np.sin(theta_gen)
    cp, c = np.cos(theta_prune), np.cos(theta)
    # Directions in the basis (m, u1, u2) of samplers.angle_directions: w_gen = (cg, sg, 0),
    # w_prune = (cp, a, b); the orthonormal basis of S used here is (w_gen, e_w, e_o).
    a = (c - cg * cp) / sg if sg > 1e-12 else 0.0
    bb = np.sqrt(max(1.0 - cp**2 - a**2, 0.0))
    m_dir = np.array([1.0, 0.0, 0.0])
    g_dir = np.array([cg, sg, 0.0])
    p_dir = np.array([cp, a, bb])
    resid = p_dir - c * g_dir
    sc = float(np.linalg.norm(resid))
    e_w = resid / sc if sc > 1e-12 else np.zeros(3)
    rest = m_dir - (m_dir @ g_dir) * g_dir - (m_dir @ e_w) * e_w
    e_o = rest / np.linalg.norm(rest) if np.linalg.norm(rest) > 1e-12 else np.zeros(3)
    e1 = np.array([m_dir @ g_dir, m_dir @ e_w, m_dir @ e_o])
    # Projections of (s snr e_1 + z) on w_gen and w_prune: v + s snr cg and c v + sc w + s snr cp.
    snr_t = snr if data == "mixture" else 0.0
    signs = (-1.0, 1.0) if data == "mixture" else (0.0,)
    cls_w = 0.5 if data == "mixture" else 1.0
    parts = []
    for s in signs:
        t_gen = -s * snr_t * cg  # the generator says +1 iff v > t_gen
        for y in (-1.0, 1.0):
            if generator == "sign":
                lo, hi = (t_gen, _CUT) if y > 0 else (-_CUT, t_gen)
                v, wv = _segment(np.array(lo), np.array(hi))
                v, wv = v.ravel(), wv.ravel()
            else:  # P(y' = y | x) = sigmoid(y gen_scale (x . w_gen)), smooth in v: one segment
                v, wv = _segment(np.array(-_CUT), np.array(_CUT))
                v, wv = v.ravel(), wv.ravel() * expit(y * gen_scale * (v.ravel() + s * snr_t * cg))
            if keep != "eq5":  # keep bits that do not look at x beyond the label
                rate = 1.0 if keep == "all" else (phi if y == s else psi)
                parts.append((np.full(v.size, s), np.full(v.size, y), v, np.zeros_like(v),
                              (1.0 - real_fraction) * cls_w * rate * wv))
                continue
            # keep iff y (c v + sc w + s snr cp) > 0
            if sc > 1e-12:
                t_w = (-s * snr_t * cp - c * v) / sc
                lo, hi = (t_w, np.full_like(v, _CUT)) if y > 0 else (np.full_like(v, -_CUT), t_w)
                w, ww = _segment(lo, hi)
                vv = np.broadcast_to(v[:, None], w.shape)
                weight = wv[:, None] * ww
            else:
                agrees = y * (c * v + s * snr_t * cp) > 0
                vv, w, weight = v, np.zeros_like(v), wv * agrees
            parts.append((np.full(w.size, s), np.full(w.size, y), vv.ravel(), w.ravel(),
                          (1.0 - real_fraction) * cls_w * weight.ravel()))
        if real_fraction > 0:  # real rows: true label, x unconstrained
            v, wv = (a.ravel() for a in _segment(np.array(-_CUT), np.array(_CUT)))
            if sc > 1e-12:
                w, ww = _segment(np.full_like(v, -_CUT), np.full_like(v, _CUT))
                vv, weight = np.broadcast_to(v[:, None], w.shape), wv[:, None] * ww
            else:
                vv, w, weight = v, np.zeros_like(v), wv
            parts.append((np.full(w.size, s), np.full(w.size, s), vv.ravel(), w.ravel(),
                          real_fraction * cls_w * weight.ravel()))
    s, y, v, w, wt = (np.concatenate(x) for x in zip(*parts))
    good = wt > 0
    return _Channel(s[good], y[good], v[good], w[good], wt[good], e1, snr_t, data)


# ------------------------------------------------------------------------------------------------
# Saddle-point equations
# ------------------------------------------------------------------------------------------------

def _moments(ch: _Channel, loss: str, Q: float, V: float, beta: np.ndarray) -> tuple[float, ...]:
    """``E[f], E[s f], E[f v], E[f w], E[df], E[f^2]`` over kept rows (pruned rows give f = 0)."""
    b1 = float(ch.e1 @ beta)
    tau = np.sqrt(Q + beta[2] ** 2)  # the e_o part of b_S . u joins the noise fitted outside S
    mean = ch.s * ch.snr_train * b1 + beta[0] * ch.v + beta[1] * ch.w
    out = np.zeros(6)
    for y in (-1.0, 1.0):
        sel = ch.y == y
        if not sel.any():
            continue
        m, wt = mean[sel], ch.weight[sel]
        ef, edf, ef2 = _prox_moments(loss, y, m, tau, V)
        out += [wt @ ef, wt @ (ch.s[sel] * ef), wt @ (ch.v[sel] * ef), wt @ (ch.w[sel] * ef), wt @ edf, wt @ ef2]
    return tuple(out)


def _update(ch: _Channel, loss: str, alpha: float, ridge: float, Q: float, V: float, beta: np.ndarray):
    """New ``Q, V`` from the saddle-point equations and a step for ``beta``.

    The ``beta`` equation ``ridge beta = E[f (s snr e_1 + u)]`` is the stationarity of a concave
    function of ``beta`` (the expected Moreau envelope minus the ridge), so its step is the
    residual divided by an estimate of the curvature, ``ridge - E[df] (1 + snr^2 e_1k^2)``: the
    plain iteration ``beta <- E[...] / ridge`` diverges when the ridge is small.
    """
    _, e_sf, e_fv, e_fw, e_df, e_f2 = _moments(ch, loss, Q, V, beta)
    V_new = 1.0 / (alpha * ridge - alpha * e_df)
    Q_new = alpha * e_f2 * V_new**2
    mean_part = ch.snr_train * e_sf * ch.e1
    # the e_o part of u enters only through omega: Stein gives E[f u_o] = beta_o E[df]
    grad = np.array([mean_part[0] + e_fv, mean_part[1] + e_fw, mean_part[2] + beta[2] * e_df]) - ridge * beta
    return Q_new, V_new, grad / (ridge - e_df * (1.0 + ch.snr_train**2 * ch.e1**2))


def _solve(ch: _Channel, loss: str, alpha: float, ridge: float) -> tuple[float, float, np.ndarray]:
    def pack(Q, V, beta):
        return np.concatenate([[np.log(Q), np.log(V)], beta])

    def residual(x):
        Q, V, beta = np.exp(min(x[0], 700.0)), np.exp(min(x[1], 700.0)), x[2:]
        if not np.all(np.isfinite(beta)):
            return np.full_like(x, np.inf)
        Qn, Vn, step = _update(ch, loss, alpha, ridge, Q, V, beta)
        return np.concatenate([[np.log(max(Qn, 1e-300)) - x[0], np.log(Vn) - x[1]], step])

    def converged(x, r):
        return np.all(np.isfinite(r)) and np.max(np.abs(r) / (1.0 + np.abs(x))) <= _TOL

    # Damped iteration until the residual is small (it converges from this cold start where the
    # ridge is small and Powell's method from far away does not), then Powell's hybrid method to
    # polish; if that fails, the damped iteration continues to the tolerance.
    x = pack(1.0 / (1.0 + ridge), 1.0 / (alpha * ridge + alpha), np.zeros(3))
    r = residual(x)
    for _ in range(300):
        if not np.all(np.isfinite(r)) or np.max(np.abs(r)) < _HANDOFF:
            break
        x = x + 0.5 * r
        r = residual(x)
    message = "damped iteration"
    if np.all(np.isfinite(r)) and not converged(x, r):
        sol = root(residual, x, method="hybr", options={"xtol": 1e-12, "maxfev": 400})
        r_sol = residual(sol.x)
        if converged(sol.x, r_sol):
            x, r = sol.x, r_sol
        else:
            message = sol.message
            for _ in range(3000):
                if not np.all(np.isfinite(r)) or converged(x, r):
                    break
                x = x + 0.5 * r
                r = residual(x)
    if not converged(x, r):
        raise LearningCurveError(
            f"saddle-point equations did not converge at alpha={alpha!r}, ridge={ridge!r} ({loss} loss): "
            f"largest residual {np.max(np.abs(r)):.3g} ({message})")
    sol_x = x
    return float(np.exp(sol_x[0])), float(np.exp(sol_x[1])), sol_x[2:].copy()


def _point(ch: _Channel, loss: str, alpha: float, ridge: float, snr: float) -> tuple[tuple, np.ndarray]:
    Q, V, beta = _solve(ch, loss, alpha, ridge)
    b1 = float(ch.e1 @ beta)
    norm = float(np.sqrt(beta @ beta + Q))
    cos = b1 / norm if norm > 0 else 0.0
    w = np.array([cos, np.sqrt(max(1.0 - cos * cos, 0.0))])
    if ch.data == "mixture":
        acc = float(accuracy_vs_bayes(w, mu=np.array([snr, 0.0]), noise_std=1.0))
        acc_true = float(mixture_accuracy(w, mu=np.array([snr, 0.0]), noise_std=1.0))
    else:  # centred data: two half-spaces under an isotropic Gaussian
        acc = acc_true = 1.0 - np.arccos(np.clip(cos, -1.0, 1.0)) / np.pi
    row = (acc, acc_true, cos, Q, V, float(beta @ beta), float(ch.weight.sum()))
    return row, beta


def _curve(make_channel, loss: str, alpha, ridge, snr, params: dict) -> LearningCurve:
    check_choice("loss", loss, LOSSES)
    alpha = check_positive("alpha", alpha)
    ridge = check_positive("ridge", ridge)
    snr = check_positive("snr", snr, allow_zero=True)
    arrays = {"alpha": alpha, "ridge": ridge, "snr": snr, **params}
    shaped = check_broadcast(**arrays)
    flat = {k: v.ravel() for k, v in zip(arrays, shaped)}
    shape = shaped[0].shape
    rows = []
    for i in range(shaped[0].size):
        ch = make_channel(**{k: flat[k][i] for k in arrays if k not in ("alpha", "ridge")})
        if ch.weight.sum() < 1e-15:  # nothing survives pruning: w = 0, accuracy 1/2 by convention
            rows.append((0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0))
            continue
        rows.append(_point(ch, loss, float(flat["alpha"][i]), float(flat["ridge"][i]), float(flat["snr"][i]))[0])
    cols = np.array(rows, dtype=float).T.reshape((7,) + shape) if rows else np.zeros((7,) + shape)
    return LearningCurve(*(scalar_or_array(c) for c in cols))


def rlhf_learning_curve(alpha, *, p, phi, psi, snr, ridge, loss: str = "logistic") -> LearningCurve:
    """Asymptotic accuracy of eq. (1) on data with independent label flips and RLHF-type pruning.

    ``alpha = N / d`` (all synthesized rows), ``p`` the flip probability, ``phi`` / ``psi`` the
    keep probabilities of correct / wrong labels (Sec. 3.2, symmetric in the classes), ``snr`` and
    ``ridge`` as in :func:`proportional_parameters`, ``loss`` ``"logistic"`` (eq. (1)) or
    ``"square"``. Every argument broadcasts; the result's fields have the broadcast shape. Clean
    labels: ``p=0, phi=1, psi=1``.
    """
    p = check_probability("p", p)
    phi = check_probability("phi", phi)
    psi = check_probability("psi", psi)
    if np.any((phi == 0) & (psi == 0)):
        raise ValueError("phi and psi are both 0 somewhere: nothing survives pruning")

    def channel(snr, p, phi, psi):
        return _rlhf_channel(float(p), np.array([phi, phi], float), np.array([psi, psi], float), float(snr))

    return _curve(channel, loss, alpha, ridge, snr, {"p": p, "phi": phi, "psi": psi})


def supervised_learning_curve(alpha, *, snr, theta_gen, theta_prune, theta, ridge, loss: str = "logistic",
                              data: str = "mixture", generator: str = "sign", gen_scale=1.0) -> LearningCurve:
    """Asymptotic accuracy of eq. (1) on labels of a linear generator kept by a linear pruner (eq. (5)).

    The generator's direction is at angle ``theta_gen`` to mu; ``generator="sign"`` labels
    ``y' = sign(x . w_gen)`` (Sec. 3.4, Fig. 2), ``"sigmoid"`` draws ``P(y' = 1 | x) =
    sigmoid(gen_scale x . w_gen / sigma)`` (Fig. 3's label channel with ``gen_scale = sigma
    |w_gen|``). The pruner keeps a row iff ``y' (x . w_prune) > 0``, ``w_prune`` at angle
    ``theta_prune`` to mu and ``theta`` to w_gen (the triple must be realisable, see
    :func:`beyond_collapse.theory.check_angle_triple`). ``data="isotropic"``: ``x ~ N(0, I / d)``,
    true label ``1[x . mu > 0]`` (``snr`` is then unused; pass 0). Arguments broadcast.
    """
    check_choice("data", data, DATA_MODELS)
    check_choice("generator", generator, GENERATORS)
    tg = check_in_interval("theta_gen", theta_gen, 0.0, np.pi)
    tp = check_in_interval("theta_prune", theta_prune, 0.0, np.pi)
    t = check_in_interval("theta", theta, 0.0, np.pi)
    scale = check_positive("gen_scale", gen_scale)
    low, high = np.abs(tg - tp), np.minimum(tg + tp, 2 * np.pi - tg - tp)
    bad = (t < low - 1e-9) | (t > high + 1e-9)
    if np.any(bad):
        raise ValueError("theta must lie in [|theta_gen - theta_prune|, min(theta_gen + theta_prune, "
                         "2 pi - theta_gen - theta_prune)] (otherwise no three unit vectors have these angles)")

    def channel(snr, theta_gen, theta_prune, theta, gen_scale):
        return _supervised_channel(float(snr), float(theta_gen), float(theta_prune), float(theta), data, generator,
                                   float(gen_scale))

    return _curve(channel, loss, alpha, ridge, snr,
                  {"theta_gen": tg, "theta_prune": tp, "theta": t, "gen_scale": scale})


def linear_generator_step(alpha, *, snr, ridge, theta_gen, verifier: str = "none", phi=1.0, psi=1.0,
                          theta_prune=0.0, theta=None, real_fraction=0.0, loss: str = "logistic") -> dict:
    """One generation of the loop of :mod:`beyond_collapse.numerics.generations` in the proportional
    limit: the model eq. (1) fits on ``alpha d`` rows labelled by a linear generator at angle
    ``theta_gen`` to mu (``y' = sign(x . w_gen)``), filtered by ``verifier`` (``"none"``,
    ``"rlhf"`` with keep rates phi / psi on correct / wrong labels, ``"supervised"``: eq. (5) with a
    pruner at ``theta_prune`` to mu and ``theta`` to the generator), a fraction ``real_fraction`` of
    the rows being real (true label, always kept). Scalars only.

    Returns the new model's ``accuracy`` (against Bayes), ``cos_mu`` (cosine with mu) and, for the
    supervised verifier, ``cos_prune`` (cosine with the pruner direction: the part of the weights
    outside S is orthogonal to it), the ``kept_fraction`` and the order parameters ``q_perp``, ``v``.
    """
    check_choice("verifier", verifier, ("none", "rlhf", "supervised"))
    check_choice("loss", loss, LOSSES)
    alpha = float(check_positive("alpha", alpha))
    ridge = float(check_positive("ridge", ridge))
    snr = float(check_positive("snr", snr, allow_zero=True))
    tg = float(check_in_interval("theta_gen", theta_gen, 0.0, np.pi))
    r = float(check_probability("real_fraction", real_fraction))
    if verifier == "supervised":
        tp = float(check_in_interval("theta_prune", theta_prune, 0.0, np.pi))
        t = float(check_in_interval("theta", theta, 0.0, np.pi))
        ch = _supervised_channel(snr, tg, tp, t, "mixture", "sign", 1.0, real_fraction=r)
    else:
        ch = _supervised_channel(snr, tg, tg, 0.0, "mixture", "sign", 1.0,
                                 keep="all" if verifier == "none" else "rlhf",
                                 phi=float(check_probability("phi", phi)), psi=float(check_probability("psi", psi)),
                                 real_fraction=r)
    if ch.weight.sum() < 1e-15:
        return {"accuracy": 0.5, "cos_mu": 0.0, "cos_prune": 0.0, "kept_fraction": 0.0, "q_perp": 0.0, "v": 0.0}
    (acc, _, cos, Q, V, _, kept), beta = _point(ch, loss, alpha, ridge, snr)
    norm = float(np.sqrt(beta @ beta + Q))
    cos_prune = 0.0
    if verifier == "supervised":  # w_prune = c w_gen + sc e_w in the basis (w_gen, e_w, e_o)
        c = np.cos(t)
        cos_prune = float((beta[0] * c + beta[1] * np.sqrt(max(1.0 - c * c, 0.0))) / norm) if norm > 0 else 0.0
    return {"accuracy": acc, "cos_mu": cos, "cos_prune": cos_prune, "kept_fraction": kept, "q_perp": Q, "v": V}
