"""The four-scalar KKT fixed point eq. (31) of App. E.1, solved at finite gamma = N * lambda.

Under Condition D.1 (|x_i| = 1, x_i . x_j = a within a true class, b across), the ridge-logistic
minimiser of eq. (1) is w = sum_i alpha_i x_i with alpha_i = A, -B, C, -D on the kept examples with
(true, noisy) labels (1, 1), (1, 0), (0, 1), (0, 0) (eq. (30)), where, with s = N11 A - N10 B,
t = N01 C - N00 D and R = 1 - a,

    gamma A = sigmoid(-(a s + b t) - R A),    gamma B = sigmoid(a s + b t - R B),
    gamma C = sigmoid(-(b s + a t) - R C),    gamma D = sigmoid(b s + a t - R D).      eq. (31)

Method (robust for every gamma > 0 and all N_kl >= 0). Write u1 = a s + b t, u0 = b s + a t: these
are x . w for a fresh point of true class 1 and 0. Given u1, each of gamma A, gamma B solves a
scalar monotone equation in its logit y, y + u + c sigmoid(y) = 0 with c = R / gamma (u = u1 for
A, -u1 for B), bracketed in [-u - c, -u]. Then (u1, u0) = K (s, t) with K = [[a, b], [b, a]].
Factor K = L L^T (Cholesky; the second column vanishes when |b| = a) and put u = L xi: xi solves
gamma xi - L^T f(L xi) = 0, where f = gamma (s, t) is decreasing in u, so the map is the gradient
of a strictly convex function with Hessian >= gamma I. One or two nested safeguarded Newton
solves (Newton inside a shrinking sign bracket, bisection when Newton leaves it) therefore
converge for any input. Working with logits and with sigmoid(y) - 1/2 = tanh(y / 2) / 2 keeps
the deviations from 1/2, of order N / gamma, accurate to relative precision when gamma = 1e12.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numba
import numpy as np

from beyond_collapse._validation import as_float_array, check_in_interval, check_positive

_EPS = np.finfo(np.float64).eps
_MAX_ITER = 400  # bisection alone halves the bracket; 400 halvings cover any float64 range


@numba.njit(cache=True)
def _half_dev(y):
    """sigmoid(y) - 1/2, accurate for tiny y."""
    return 0.5 * np.tanh(0.5 * y)


@numba.njit(cache=True)
def _sig(y):
    if y >= 0.0:
        return 1.0 / (1.0 + np.exp(-y))
    e = np.exp(y)
    return e / (1.0 + e)


@numba.njit(cache=True)
def _c_sig(c, y):
    """c sigmoid(y) without cancellation: via tanh near y = 0 (keeps the O(y) deviation from c/2
    exact when gamma is huge), directly elsewhere (keeps tiny sigmoids exact)."""
    if abs(y) < 1.0:
        return 0.5 * c + c * _half_dev(y)
    return c * _sig(y)


@numba.njit(cache=True)
def _safe_step(x, step, lo, hi, dx_old):
    """Newton's x - step unless it leaves (lo, hi) or fails to halve the step before last; then
    bisect (Numerical Recipes' rtsafe). Guarantees the bracket shrinks geometrically, so Newton's
    ping-pong between the flat ends of a sigmoid cannot stall the solve."""
    x_new = x - step
    if not (lo < x_new < hi) or abs(step) > 0.5 * dx_old:
        return 0.5 * (lo + hi), 0.5 * (hi - lo)
    return x_new, abs(step)


@numba.njit(cache=True)
def _logit_root(u, c):
    """The y with y + u + c sigmoid(y) = 0 (c >= 0): the logit of gamma * (A, B, C or D)."""
    lo = -u - c
    hi = -u
    if c == 0.0:
        return hi
    y = -u - c * _sig(-u)
    if not (lo <= y <= hi):
        y = 0.5 * (lo + hi)
    dx = 2.0 * (hi - lo)
    for _ in range(_MAX_ITER):
        s = _sig(y)
        cs = _c_sig(c, y)
        h = y + u + cs
        if abs(h) <= 2.0 * _EPS * (abs(y) + abs(u) + cs):  # zero within rounding
            return y
        if h > 0.0:
            hi = y
        else:
            lo = y
        y_new, dx = _safe_step(y, h / (1.0 + c * s * (1.0 - s)), lo, hi, dx)
        if abs(y_new - y) <= 4.0 * _EPS * abs(y_new) or hi - lo <= 4.0 * _EPS * max(abs(lo), abs(hi)):
            return y_new
        y = y_new
    return y


@numba.njit(cache=True)
def _class_sum(u, n_pos, n_neg, c):
    """f(u) = n_pos sigmoid(y(u)) - n_neg sigmoid(y(-u)), df/du (<= 0) and the size of f's terms.

    For class 1 this is gamma s = N11 gamma A - N10 gamma B; for class 0, gamma t.
    """
    y_p = _logit_root(u, c)
    y_n = _logit_root(-u, c)
    s_p = _sig(y_p)
    s_n = _sig(y_n)
    if abs(y_p) < 1.0 and abs(y_n) < 1.0:
        # both near 1/2 (large gamma): the O(u) deviations carry f, keep them exact
        f = 0.5 * (n_pos - n_neg) + n_pos * _half_dev(y_p) - n_neg * _half_dev(y_n)
    else:
        f = n_pos * s_p - n_neg * s_n
    dp = s_p * (1.0 - s_p)
    dn = s_n * (1.0 - s_n)
    df = -n_pos * dp / (1.0 + c * dp) - n_neg * dn / (1.0 + c * dn)
    return f, df, n_pos * s_p + n_neg * s_n


@numba.njit(cache=True)
def _residual(xi1, xi2, L, n11, n10, n01, n00, gamma, c):
    """G(xi) = gamma xi - L^T f(L xi), its symmetric Jacobian (J11, J12, J22) and the rounding
    level of each component (the size of the terms that cancel in it)."""
    u1 = L[0, 0] * xi1 + L[0, 1] * xi2
    u0 = L[1, 0] * xi1 + L[1, 1] * xi2
    f1, d1, m1 = _class_sum(u1, n11, n10, c)
    f0, d0, m0 = _class_sum(u0, n01, n00, c)
    g1 = gamma * xi1 - (L[0, 0] * f1 + L[1, 0] * f0)
    g2 = gamma * xi2 - (L[0, 1] * f1 + L[1, 1] * f0)
    j11 = gamma - (L[0, 0] ** 2 * d1 + L[1, 0] ** 2 * d0)
    j12 = -(L[0, 0] * L[0, 1] * d1 + L[1, 0] * L[1, 1] * d0)
    j22 = gamma - (L[0, 1] ** 2 * d1 + L[1, 1] ** 2 * d0)
    # f's own rounding is eps times the size of its terms (m1, m0), not eps * |f| (a difference)
    r1 = 4.0 * _EPS * (gamma * abs(xi1) + abs(L[0, 0]) * m1 + abs(L[1, 0]) * m0)
    r2 = 4.0 * _EPS * (gamma * abs(xi2) + abs(L[0, 1]) * m1 + abs(L[1, 1]) * m0)
    return g1, g2, j11, j12, j22, r1, r2


@numba.njit(cache=True)
def _solve_inner(xi1, L, n11, n10, n01, n00, gamma, c, bound2, x0):
    """xi2 solving the second component of G = 0 for fixed xi1 (increasing in xi2), from x0."""
    if L[0, 1] == 0.0 and L[1, 1] == 0.0:
        return 0.0
    lo = -bound2
    hi = bound2
    x = min(max(x0, lo), hi)
    dx = 2.0 * (hi - lo)
    for _ in range(_MAX_ITER):
        g1, g2, j11, j12, j22, r1, r2 = _residual(xi1, x, L, n11, n10, n01, n00, gamma, c)
        if abs(g2) <= r2:
            return x
        if g2 > 0.0:
            hi = x
        else:
            lo = x
        x_new, dx = _safe_step(x, g2 / j22, lo, hi, dx)
        if abs(x_new - x) <= 4.0 * _EPS * abs(x_new) or hi - lo <= 4.0 * _EPS * max(abs(lo), abs(hi)):
            return x_new
        x = x_new
    return x


@numba.njit(cache=True)
def _solve_one(n11, n10, n01, n00, a, b, gamma):
    """(u1, u0) at the fixed point of eq. (31) for one draw (no input checks)."""
    c = (1.0 - a) / gamma
    # Cholesky factor of K = [[a, b], [b, a]]: u1 = sqrt(a) xi1 exactly, so u1 keeps full relative
    # precision even when u0 is ~1e10 times larger (a symmetric square root would mix them).
    L = np.zeros((2, 2))
    if a > 0.0:
        L[0, 0] = np.sqrt(a)
        L[1, 0] = b / np.sqrt(a)
        L[1, 1] = np.sqrt(max(a - b * b / a, 0.0))  # 0 when |b| = a: one column
    # |f1| <= max(N11, N10), |f0| <= max(N01, N00), so |xi_j| <= sum_g |L_gj| max_g / gamma
    m1 = max(n11, n10)
    m0 = max(n01, n00)
    bound1 = (abs(L[0, 0]) * m1 + abs(L[1, 0]) * m0) / gamma
    bound2 = (abs(L[0, 1]) * m1 + abs(L[1, 1]) * m0) / gamma
    xi1 = 0.0
    if L[0, 0] != 0.0 or L[1, 0] != 0.0:
        lo = -bound1
        hi = bound1
        xi2 = 0.0
        dx = 2.0 * (hi - lo)
        for _ in range(_MAX_ITER):
            xi2 = _solve_inner(xi1, L, n11, n10, n01, n00, gamma, c, bound2, xi2)
            g1, g2, j11, j12, j22, r1, r2 = _residual(xi1, xi2, L, n11, n10, n01, n00, gamma, c)
            if abs(g1) <= r1:
                break
            if g1 > 0.0:
                hi = xi1
            else:
                lo = xi1
            # derivative of g1 along the curve xi2*(xi1): the Schur complement (>= gamma)
            x_new, dx = _safe_step(xi1, g1 / (j11 - j12 * j12 / j22), lo, hi, dx)
            done = abs(x_new - xi1) <= 4.0 * _EPS * abs(x_new) or hi - lo <= 4.0 * _EPS * max(abs(lo), abs(hi))
            xi1 = x_new
            if done:
                break
    xi2 = _solve_inner(xi1, L, n11, n10, n01, n00, gamma, c, bound2, 0.0)
    u1 = L[0, 0] * xi1 + L[0, 1] * xi2
    u0 = L[1, 0] * xi1 + L[1, 1] * xi2
    return u1, u0, c


@numba.njit(parallel=True, cache=True)
def _solve_many(n11, n10, n01, n00, a, b, gamma, out):
    """out[:, k] = (A, B, C, D, u1, u0, logit gamma A, logit gamma B, logit gamma C, logit gamma D)."""
    for k in numba.prange(n11.size):
        u1, u0, c = _solve_one(n11[k], n10[k], n01[k], n00[k], a[k], b[k], gamma[k])
        ya = _logit_root(u1, c)
        yb = _logit_root(-u1, c)
        yc = _logit_root(u0, c)
        yd = _logit_root(-u0, c)
        g = gamma[k]
        out[0, k] = _sig(ya) / g
        out[1, k] = _sig(yb) / g
        out[2, k] = _sig(yc) / g
        out[3, k] = _sig(yd) / g
        out[4, k] = u1
        out[5, k] = u0
        out[6, k] = ya
        out[7, k] = yb
        out[8, k] = yc
        out[9, k] = yd


class KKTSolution(NamedTuple):
    """Solution of eq. (31); every field broadcasts to the common shape of the inputs.

    A, B, C, D: the scalars of eqs. (30)-(31) (alpha_i = A, -B, C, -D).
    margin1, margin0: x . w for a fresh point obeying Condition D.1 with true class 1 (a s + b t)
        and class 0 (b s + a t); the fresh point is classified correctly iff margin1 > 0 resp.
        margin0 < 0.
    train_accuracy: eq. (41), accuracy on the kept training points against their true labels
        (gamma A < 1/2, gamma D < 1/2, gamma B > 1/2, gamma C > 1/2 count as correct, decided
        from the logits so that the sign is exact even when gamma = 1e12); NaN if nothing is kept.
    test_accuracy: accuracy on fresh balanced points, (1[margin1 > 0] + 1[margin0 < 0]) / 2.
    """

    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    D: np.ndarray
    margin1: np.ndarray
    margin0: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray


def solve_kkt(n11, n10, n01, n00, a, b, gamma) -> KKTSolution:
    """Solve the KKT system eq. (31) (Prop. E.1) at finite gamma = N * lambda.

    Parameters (all broadcast together)
    ----------
    n11, n10, n01, n00 : kept counts N_kl >= 0 (true label k, noisy label l), eq. (28). Zero
        counts are allowed: the scalar of an empty group is still defined by its equation.
    a, b : Condition D.1 Gram constants, 0 <= a < 1, |b| <= a.
    gamma : N * lambda > 0 (N counts all rows, kept or not).

    Returns a ``KKTSolution``. Accuracy: the nested solves stop when each residual is at its
    rounding level, so A..D carry relative errors of order 1e-15 (checked against
    scipy.optimize.root, against actual ridge-logistic fits on exact Condition D.1 data, and against
    mpmath at 60 digits for N / gamma up to 1e14 in the tests; a random sweep of 20000 draws with
    counts up to 1e9 and gamma in [1e-6, 1e12] found nothing worse than 2e-11).
    """
    n11, n10, n01, n00 = (check_positive(nm, v, allow_zero=True) for nm, v in
                          (("n11", n11), ("n10", n10), ("n01", n01), ("n00", n00)))
    a = check_in_interval("a", a, 0.0, 1.0, high_open=True)
    b = as_float_array("b", b)
    bad = np.abs(b) > a
    if np.any(bad):
        bb, aa = np.broadcast_arrays(b, a)
        i = np.argwhere(np.broadcast_to(bad, bb.shape))[0]
        raise ValueError(f"b must satisfy |b| <= a, got b={float(bb[tuple(i)])!r} with a={float(aa[tuple(i)])!r}")
    gamma = check_positive("gamma", gamma)
    arrays = np.broadcast_arrays(n11, n10, n01, n00, a, b, gamma)
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(x, dtype=np.float64).ravel() for x in arrays]
    out = np.empty((10, flat[0].size))
    _solve_many(*flat, out)
    A, B, C, D, u1, u0, ya, yb, yc, yd = out
    kept = flat[0] + flat[1] + flat[2] + flat[3]
    right = flat[0] * (ya < 0) + flat[3] * (yd < 0) + flat[1] * (yb > 0) + flat[2] * (yc > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        train = np.where(kept > 0, right / np.where(kept > 0, kept, 1.0), np.nan)
    test = 0.5 * ((u1 > 0).astype(float) + (u0 < 0).astype(float))
    fields = (A, B, C, D, u1, u0, train, test)
    if shape == ():
        return KKTSolution(*(float(x[0]) for x in fields))
    return KKTSolution(*(x.reshape(shape) for x in fields))


def kkt_residual(abcd, counts, a: float, b: float, gamma: float) -> np.ndarray:
    """The four residuals ``gamma X - sigmoid(arg_X)`` of eq. (31) at ``abcd = (A, B, C, D)``.

    A direct evaluation of the printed equations (no logits, no factorisation): the reference the
    solver is checked against. ``counts = (N11, N10, N01, N00)``; broadcasts over leading axes of
    the four-element last axis of ``abcd`` and ``counts``.
    """
    from scipy.special import expit

    A, B, C, D = np.moveaxis(np.asarray(abcd, dtype=np.float64), -1, 0)
    n11, n10, n01, n00 = np.moveaxis(np.asarray(counts, dtype=np.float64), -1, 0)
    # x . w at a fresh point of true class 1 and 0: u1 = a s + b t, u0 = b s + a t with
    # s = N11 A - N10 B, t = N01 C - N00 D
    u1 = a * n11 * A - a * n10 * B + b * n01 * C - b * n00 * D
    u0 = b * n11 * A - b * n10 * B + a * n01 * C - a * n00 * D
    r = 1 - a
    return np.stack([gamma * A - expit(-u1 - r * A), gamma * B - expit(u1 - r * B),
                     gamma * C - expit(-u0 - r * C), gamma * D - expit(u0 - r * D)], axis=-1)


@functools.lru_cache(maxsize=None)
def _limit_functions():
    """The derived (not typed-in) B and D arguments of eq. (43), as numpy functions of (n, a, b, B, D)."""
    import sympy as sp

    from beyond_collapse.theory.derivations import GROUPS, derivation, sym

    s = sym()
    argB, argD = derivation("E3.collapsed").derived
    args = [s[f"N{g}"] for g in GROUPS] + [s["a"], s["b"], s["Bc"], s["Dc"]]
    subs = {s["gamma"]: 1}  # the counts enter as N_kl / gamma
    return (sp.lambdify(args, argB.subs(subs), "numpy"), sp.lambdify(args, argD.subs(subs), "numpy"))


def solve_limit_system(n, a: float, b: float) -> np.ndarray:
    """Solve the gamma -> infinity limit of eq. (31), the system (42)-(43) of App. E.3, for the script
    letters (A, B, C, D) (= gamma times eq. (31)'s A..D).

    ``n`` holds (N11, N10, N01, N00) / gamma. Returns ``[A, B, C, D]`` with A = 1 - B, C = 1 - D.
    Raises ``ValueError`` when the root finder does not reach a residual of 1e-12.
    """
    from scipy import optimize
    from scipy.special import expit

    n = check_positive("n", n, allow_zero=True)
    if n.shape != (4,) or n.sum() == 0:
        raise ValueError(f"n must hold four counts (N11, N10, N01, N00)/gamma, not all 0, got {n.tolist()}")
    a = float(check_in_interval("a", a, 0.0, 1.0, low_open=True, high_open=True))
    b = float(check_in_interval("b", b, -a, a))
    fB, fD = _limit_functions()
    n = [float(x) for x in n]

    def residual(x):
        B, D = x
        return [B - expit(fB(*n, a, b, B, D)), D - expit(fD(*n, a, b, B, D))]

    for start in ([0.5, 0.5], [0.9, 0.1], [0.1, 0.9], [0.9, 0.9], [0.1, 0.1]):
        sol = optimize.root(residual, start, method="hybr", tol=1e-14)
        if np.max(np.abs(residual(sol.x))) < 1e-12:
            B, D = sol.x
            return np.array([1 - B, B, 1 - D, D])
    raise ValueError(f"limit system (43) not solved for n={n}, a={a}, b={b}")
