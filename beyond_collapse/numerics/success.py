"""Exact finite-N probability of the success events of Props. E.3 and E.4 under the sampling of App. D.3.

Each of N examples independently ends up kept with a right label (probability
r = p00 + p11 = (phi0 + phi1) (1 - p) / 2), kept with a wrong label (w = p01 + p10 =
(psi01 + psi10) p / 2), or discarded (eqs. (14)-(16)). Prop. E.3's success event is that the kept
wrong count is below the kept right count, N10 + N01 < N11 + N00 (eq. (45)), which (b = -a, large
gamma) makes the downstream classifier perfect. Theorem D.3 bounds where its probability goes
from 1 to 0 as N -> infinity; this module gives its exact value at finite N. Prop. E.4's event
(b = 0), N10 < N11 and N01 < N00, is ``success_probability(..., condition="per-class")``; its
derivation is in that function's docstring.

Method (pooled). The kept count K = N11 + N00 + N10 + N01 is Bin(N, s), s = r + w; given K the wrong count
W is Bin(K, w / s), and success means W <= ceil(K / 2) - 1. So

    P(success) = sum_K P(K) P(W <= ceil(K/2) - 1 | K),   P(failure) = sum_K P(K) P(W >= ceil(K/2) | K).

Both sums are done separately in log space (logsumexp), so each stays accurate when the other is
1 - tiny. Binomial log-pmfs use Loader's saddle-point form (stirlerr, bd0), accurate to relative
~1e-15 at N = 1e9 where lgamma differences lose six digits.

Array path (N <= 1e7, numba, ``_pooled_many``): the K whose term can be within e^-120 of the
largest (a window from a bound on the log-pmf, or for deep tails above N = 2e4 a ternary search
and bisections on the summand), the tail over the window by the recurrence
Bin(K + 1) = Bin(K) + Bernoulli run in the direction in which it grows, seeded once by the route
below, then the sum. Scalar route (``_log_success_failure``; N > 1e7, windows over 1e6 integers,
edge cases): binomial tails from the regularised incomplete beta function (scipy), and below
1e-280, where it underflows, the identity I_x(k+1, n-k) = (k+1) pmf(k+1; n, x) J with J a smooth
Laplace-type integral done by 64-point Gauss-Laguerre quadrature. For N <= 2e4 every K is summed;
above, each parity of K is a smooth function of K/2 of width ~ sqrt(N), found by two nested grid
scans, and summed exactly when its support (terms within e^-120 of the largest) has <= 2e4
integers, else by the trapezoid rule on 2001 nodes, whose error for such smooth, wide summands is
far below double precision (Poisson summation: ~exp(-2 pi^2 (width / step)^2)).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
from scipy.special import betainc, betaincc

from beyond_collapse._validation import as_float_array, check_choice, check_probability, scalar_or_array

_EXACT_LIMIT = 20_000  # N up to this: every K is summed
_WINDOW_EXACT = 20_000  # support (per parity) up to this many integers: summed exactly
_GRID = 1001  # nodes of each support scan
_NODES = 2001  # trapezoid nodes: the support spans ~31 widths, so ~65 nodes per width
_DROP = 120.0  # terms below max - 120 nats are negligible against the ~1e-16 relative target
_LAG_Y, _LAG_W = np.polynomial.laguerre.laggauss(64)


class SuccessProbability(NamedTuple):
    """P(success) of Prop. E.3 and the logs of success and failure probabilities (each accurate
    on its own: log_failure stays accurate when probability is 1 - 1e-300)."""

    probability: float | np.ndarray
    log_success: float | np.ndarray
    log_failure: float | np.ndarray


def logsumexp(x, b=None, axis=None):
    """log(sum(b * exp(x))) without scipy's per-call overhead (b > 0); -inf for empty or all -inf."""
    x = np.asarray(x, float)
    if x.size == 0:
        return -np.inf
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(x - m) if b is None else b * np.exp(x - m)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(e, axis=axis, keepdims=True)) + m
    return out.squeeze(axis) if axis is not None else float(out.ravel()[0])


def _log_betainc_lower(alpha, beta, x):
    """log I_x(alpha, beta) for alpha >= 1, beta >= 1, 0 < x < 1, accurate below 1e-280 too."""
    alpha, beta, x = np.broadcast_arrays(np.asarray(alpha, float), np.asarray(beta, float), np.asarray(x, float))
    v = betainc(alpha, beta, x)
    out = np.full(v.shape, -np.inf)
    upper = v > 0.5
    out[upper] = np.log1p(-betaincc(alpha[upper], beta[upper], x[upper]))
    mid = (v > 1e-280) & ~upper
    out[mid] = np.log(v[mid])
    deep = ~(upper | mid)
    if np.any(deep):
        a, b, xx = alpha[deep], beta[deep], x[deep]
        # int_0^x t^(a-1) (1-t)^(b-1) dt = x^a (1-x)^(b-1) J, J = int_0^inf exp(h(u)) du,
        # h(u) = -a u + (b-1) log1p(x (1 - e^-u) / (1 - x)): concave, h(0) = 0, h'(0) = -kappa.
        kappa = a - (b - 1.0) * xx / (1.0 - xx)
        ok = kappa > 0  # always true this deep in the lower tail; guard against misuse
        u = _LAG_Y[None, :] / kappa[ok, None]
        h = -a[ok, None] * u + (b[ok, None] - 1.0) * np.log1p(
            (xx[ok, None] / (1.0 - xx[ok, None])) * (-np.expm1(-u)))
        log_j = logsumexp(h + _LAG_Y[None, :], b=_LAG_W[None, :], axis=1) - np.log(kappa[ok])
        n = a[ok] + b[ok] - 1.0
        res = np.log(a[ok]) + _binom_logpmf(a[ok], n, xx[ok]) + log_j
        tmp = np.full(a.shape, -np.inf)
        tmp[ok] = res
        out[deep] = tmp
    return out


def _binom_logsf(k, n, q):
    """log P(Bin(n, q) > k) for real k (continuous in k and n through I_q(k + 1, n - k))."""
    k, n, q = np.broadcast_arrays(np.asarray(k, float), np.asarray(n, float), np.asarray(q, float))
    out = np.zeros(k.shape)  # k < 0: the event is certain
    out[k >= n] = -np.inf
    mid = (k >= 0) & (k < n)
    out[mid] = _log_betainc_lower(k[mid] + 1.0, n[mid] - k[mid], q[mid])
    return out


def _binom_logcdf(k, n, q):
    """log P(Bin(n, q) <= k) = log P(Bin(n, 1 - q) > n - k - 1)."""
    k, n, q = np.broadcast_arrays(np.asarray(k, float), np.asarray(n, float), np.asarray(q, float))
    return _binom_logsf(n - k - 1.0, n, 1.0 - q)


def _terms(kk, n, s, qw, parity, want_success):
    """log P(K = kk) + log P(success or failure | K = kk) for K of one parity (real kk allowed).

    Success iff W <= ceil(K/2) - 1, i.e. W <= K/2 - 1 (even K) or W <= (K - 1)/2 (odd K); K = 0
    gives threshold -1: success impossible, failure certain.
    """
    thr = kk / 2.0 - 1.0 if parity == 0 else (kk - 1.0) / 2.0
    logp = _binom_logpmf(kk, n, s)
    with np.errstate(divide="ignore"):
        tail = _binom_logcdf(thr, kk, qw) if want_success else _binom_logsf(thr, kk, qw)
    return logp + tail


def _log_sum_one_parity(n, s, qw, parity, want_success):
    m_max = np.floor((n - parity) / 2.0)
    if m_max < 0:
        return -np.inf

    def ell(m):
        return _terms(2.0 * m + parity, n, s, qw, parity, want_success)

    lo, hi = 0.0, m_max
    for _ in range(2):  # coarse, then fine scan for the support of the summand
        grid = np.unique(np.round(np.linspace(lo, hi, _GRID)))
        vals = ell(grid)
        top = vals.max()
        if not np.isfinite(top):
            return -np.inf
        keep = np.nonzero(vals > top - _DROP)[0]
        lo = grid[max(keep[0] - 1, 0)]
        hi = grid[min(keep[-1] + 1, grid.size - 1)]
    if hi - lo + 1 <= _WINDOW_EXACT:
        return logsumexp(ell(np.arange(lo, hi + 1.0)))
    # the step from the exact width, not from differences of nodes ~1e9 (which carry ~1e-10 error)
    step = (hi - lo) / (_NODES - 1)
    nodes = lo + step * np.arange(_NODES)
    weights = np.full(nodes.size, step)
    weights[[0, -1]] *= 0.5
    return logsumexp(ell(nodes), b=weights)


def _log_success_failure(n, r, w):
    """(log P(success), log P(failure)) for kept-right probability r and kept-wrong w."""
    s = r + w
    if n == 0 or s == 0.0 or r == 0.0:  # no data, nothing kept, or nothing right kept: no success
        return -np.inf, 0.0
    if w == 0.0:  # success iff K >= 1
        log_fail = n * np.log1p(-s) if s < 1.0 else -np.inf
        return float(np.log(-np.expm1(log_fail))) if log_fail < 0 else -np.inf, log_fail
    qw = w / s
    out = []
    for want_success in (True, False):
        if n <= _EXACT_LIMIT:
            kk = np.arange(0.0, n + 1.0)
            parts = [logsumexp(_terms(kk[par::2], n, s, qw, par, want_success)) if kk[par::2].size else -np.inf
                     for par in (0, 1)]
        else:
            parts = [_log_sum_one_parity(n, s, qw, par, want_success) for par in (0, 1)]
        out.append(float(np.logaddexp(*parts)))
    log_s, log_f = out
    # the sum of the larger probability (~1) carries rounding ~1e-16; its complement is exact
    if log_f < -1.0:
        log_s = float(np.log1p(-np.exp(log_f)))
    elif log_s < -1.0:
        log_f = float(np.log1p(-np.exp(log_s)))
    return log_s, log_f


# ---------------------------------------------------------------------------------------------
# Numba kernels: exact sums over integers with the conditional tail T(K) by a stable recurrence.
# ---------------------------------------------------------------------------------------------

_NB_WINDOW = 1_000_000  # pooled: windows (terms within _DROP of the largest) up to this go to numba
_SEARCH_STEPS = 500_000  # pooled: below 8 wide windows, search only windows wider than this
_NB_MAX_N = 10_000_000  # pooled: above this the scalar route (trapezoid over the support) is faster
PER_CLASS_MAX_N = 1_000_000  # per-class: exact 2-D sum with tables of length N + 1
_DROP_2D = 60.0  # per-class: e^-60 ~ 1e-26 per term left out, so < 1e-14 relative even for 1e12 terms
_HALF_LOG_2PI = 0.5 * float(np.log(2.0 * np.pi))


@numba.njit(cache=True)
def _nb_stirlerr(x):
    if x > 15.0:
        x2 = 1.0 / (x * x)
        return (1.0 / 12 - (1.0 / 360 - (1.0 / 1260 - (1.0 / 1680 - x2 / 1188) * x2) * x2) * x2) / x
    return math.lgamma(x + 1.0) - (x + 0.5) * math.log(x) + x - _HALF_LOG_2PI


@numba.njit(cache=True)
def _nb_bd0(x, m):
    if abs(x - m) < 0.1 * (x + m):
        v = (x - m) / (x + m)
        s = (x - m) * v
        ej = 2.0 * x * v
        v2 = v * v
        for j in range(1, 30):
            ej *= v2
            s_new = s + ej / (2 * j + 1)
            if s_new == s:
                break
            s = s_new
        return s
    if m < x * 1e-300:  # x / m would overflow (p ~ 1e-300): the same value without the overflow flag
        return x * (math.log(x) - math.log(m)) + m - x
    return x * math.log(x / m) + m - x


@numba.njit(cache=True)
def _nb_logpmf(k, n, p):
    """log P(Bin(n, p) = k), Loader's saddle-point form (no lgamma cancellation), 0 <= k <= n."""
    if p == 0.0:
        return 0.0 if k == 0 else -np.inf
    if p == 1.0:
        return 0.0 if k == n else -np.inf
    if k == 0:
        return n * math.log1p(-p)
    if k == n:
        return n * math.log(p)
    return (_nb_stirlerr(n) - _nb_stirlerr(k) - _nb_stirlerr(n - k) - _nb_bd0(k, n * p)
            - _nb_bd0(n - k, n * (1.0 - p)) + 0.5 * (math.log(n / (k * (n - k))) - 2.0 * _HALF_LOG_2PI))


@numba.vectorize(["float64(float64, float64, float64)"], cache=True)
def _binom_logpmf(k, n, p):
    """log P(Bin(n, p) = k) elementwise for real 0 <= k <= n (broadcasting ufunc of ``_nb_logpmf``: the
    numpy and numba paths share one implementation of Loader's form)."""
    return _nb_logpmf(k, n, p)


@numba.njit(cache=True)
def _nb_log_add(a, d, sign):
    """log(e^a + sign e^d); sign = -1 needs e^d <= e^a (exact zero gives -inf)."""
    if sign > 0:
        if a == -np.inf:
            return d
        if d == -np.inf:
            return a
        hi, lo = (a, d) if a >= d else (d, a)
        return hi + math.log1p(math.exp(lo - hi))
    if d == -np.inf:
        return a
    if d >= a:
        return -np.inf
    return a + math.log1p(-math.exp(d - a))


@numba.njit(cache=True)
def _nb_tail_table(lo, hi, q, log_seed, success, forward):
    """log T(K) for K = lo..hi, T(K) = P(Bin(K, q) <= ceil(K/2) - 1) (success) or 1 - T(K) (failure).

    Bin(K + 1) = Bin(K) + Bernoulli(q) gives, with t(K) = ceil(K/2) - 1,
    T(K + 1) = T(K) - q pmf((K - 1)/2; K, q) for odd K and T(K + 1) = T(K) + (1 - q) pmf(K/2; K, q)
    for even K (1 - T the other way round). The recurrence runs in the direction in which the
    tail grows (``forward``: K increasing), so the rounding of each step stays relative to a
    larger value and the error after m steps is ~m eps relative; ``log_seed`` is the value at the
    start (K = lo if forward, else K = hi).
    """
    size = hi - lo + 1
    out = np.empty(size)
    lq, l1q = math.log(q), math.log1p(-q)
    sgn = 1.0 if success else -1.0
    if forward:
        out[0] = log_seed
        for K in range(lo, hi):
            if K % 2 == 1:
                d = lq + _nb_logpmf((K - 1) / 2, float(K), q)
                out[K + 1 - lo] = _nb_log_add(out[K - lo], d, -sgn)
            else:
                d = l1q + _nb_logpmf(K / 2, float(K), q)
                out[K + 1 - lo] = _nb_log_add(out[K - lo], d, sgn)
    else:
        out[size - 1] = log_seed
        for K in range(hi - 1, lo - 1, -1):
            if K % 2 == 1:
                d = lq + _nb_logpmf((K - 1) / 2, float(K), q)
                out[K - lo] = _nb_log_add(out[K + 1 - lo], d, sgn)
            else:
                d = l1q + _nb_logpmf(K / 2, float(K), q)
                out[K - lo] = _nb_log_add(out[K + 1 - lo], d, -sgn)
    return out


@numba.njit(cache=True)
def _add_log_term(ref, acc, t):
    """Add exp(t) to the running sum exp(ref) * acc, rescaling so that acc stays near 1."""
    if t == -np.inf:
        return ref, acc
    if t > ref:
        return t, acc * math.exp(ref - t) + 1.0
    return ref, acc + math.exp(t - ref)


@numba.njit(cache=True)
def _nb_weighted_logsum(n, s, tab, offset, lo, hi, floor_thresh, drop):
    """log sum_{K=lo..hi} P(Bin(n, s) = K) exp(tab[K - offset]), walking out from the mode.

    tab <= 0, so a term is at most its log-pmf; a walk stops once the (unimodal) log-pmf is below
    max(floor_thresh, largest term so far - drop): every term left out is below that bound.
    """
    mode = min(max(math.floor((n + 1.0) * s), lo), hi)
    best = -np.inf
    ref = -np.inf
    acc = 0.0
    for direction in (1, -1):
        k = mode if direction == 1 else mode - 1
        while lo <= k <= hi:
            lp = _nb_logpmf(float(k), n, s)
            if lp < max(floor_thresh, best - drop):
                break
            t = lp + tab[k - offset]
            ref, acc = _add_log_term(ref, acc, t)
            best = max(best, t)
            k += direction
    return ref + math.log(acc) if acc > 0.0 else -np.inf


@numba.njit(cache=True)
def _nb_walk_inner(n, u, a0, start, drop):
    """(log sum_{m=0..n} Bin(m; n, u) e^{a0[m]}, argmax): walk out from ``start`` in both directions.

    Each parity of the summand is unimodal (a log-concave pmf times a monotone tail), so a
    direction stops after two consecutive terms (one of each parity) more than drop below the
    largest term seen; started anywhere, a walk climbs to the peak before it can stop.
    """
    m_max = int(n)
    start = min(max(start, 0), m_max)
    best = -np.inf
    arg = start
    ref = -np.inf
    acc = 0.0
    odds = math.log(u) - math.log1p(-u) if 0.0 < u < 1.0 else 0.0
    for direction in (1, -1):
        m = start if direction == 1 else start - 1
        below = 0
        step = 0
        lp = 0.0
        while 0 <= m <= m_max:
            # the log-pmf by its ratio recurrence, re-anchored on Loader's form every 16 steps
            if step % 16 == 0 or odds == 0.0:
                lp = _nb_logpmf(float(m), n, u)
            elif direction == 1:
                lp += math.log((n - m + 1.0) / m) + odds
            else:
                lp += math.log((m + 1.0) / (n - m)) - odds
            step += 1
            t = lp + a0[m]
            ref, acc = _add_log_term(ref, acc, t)
            if t > best:
                best = t
                arg = m
            if best > -np.inf and t < best - drop:
                below += 1
                if below == 2:
                    break
            else:
                below = 0
            m += direction
    return (ref + math.log(acc) if acc > 0.0 else -np.inf), arg


@numba.njit(cache=True)
def _nb_joint(n, s1, u, a1, a0, drop):
    """log sum_{m1, m0} Bin(m1; n, s1) e^{a1[m1]} Bin(m0; n - m1, u) e^{a0[m0]} (the per-class event).

    M1 ~ Bin(n, s1) counts kept class-1 examples; given M1 = m1, M0 ~ Bin(n - m1, u) the kept
    class-0 ones. Rows m1 walk out from the mode of M1 and stop as in _nb_walk_inner; each row's
    inner sum is a walk started at the previous row's peak.
    """
    mode = int(min(math.floor((n + 1.0) * s1), n))
    m_max = int(n)
    best = -np.inf
    ref = -np.inf
    acc = 0.0
    for direction in (1, -1):
        m1 = mode if direction == 1 else mode - 1
        peak = int(min(math.floor((n - m1 + 1.0) * u), n - m1))
        below = 0
        while 0 <= m1 <= m_max:
            pre = _nb_logpmf(float(m1), n, s1) + a1[m1]
            t = -np.inf
            if pre > -np.inf:
                inner, peak = _nb_walk_inner(n - m1, u, a0, peak, drop)
                t = pre + inner
            ref, acc = _add_log_term(ref, acc, t)
            best = max(best, t)
            if best > -np.inf and t < best - drop:
                below += 1
                if below == 2:
                    break
            else:
                below = 0
            m1 += direction
    return ref + math.log(acc) if acc > 0.0 else -np.inf


@numba.njit(cache=True)
def _nb_pooled(n, s, q, lo, hi, seed, success, forward, drop):
    """Pooled event (Prop. E.3) for many parameter sets: sum_K P(K) T(K) over each window [lo, hi]."""
    out = np.empty(n.size)
    for i in range(n.size):
        tab = _nb_tail_table(lo[i], hi[i], q[i], seed[i], success, forward[i])
        out[i] = _nb_weighted_logsum(n[i], s[i], tab, lo[i], lo[i], hi[i], -np.inf, drop)
    return out


@numba.njit(cache=True)
def _nb_crossing(inside, outside, n, s, thresh):
    """The K nearest ``outside`` with log P(Bin(n, s) = K) >= thresh, by bisection between ``inside``
    (where it holds) and ``outside``; the log-pmf is monotone between them (one side of the mode)."""
    if _nb_logpmf(float(outside), n, s) >= thresh:
        return outside
    while abs(outside - inside) > 1:
        c = (inside + outside) // 2
        if _nb_logpmf(float(c), n, s) >= thresh:
            inside = c
        else:
            outside = c
    return inside


@numba.njit(cache=True)
def _nb_windows(n, s, mode, thresh):
    """[lo, hi] = the integers K with log P(Bin(n, s) = K) >= thresh (bisection on each side of the mode)."""
    lo = np.empty(n.size, np.int64)
    hi = np.empty(n.size, np.int64)
    for i in range(n.size):
        lo[i] = _nb_crossing(mode[i], 0, n[i], s[i], thresh[i])
        hi[i] = _nb_crossing(mode[i], int(n[i]), n[i], s[i], thresh[i])
    return lo, hi


def _log_tail(k, q, success):
    """log T(K) (success) or log(1 - T(K)), T(K) = P(Bin(K, q) <= ceil(K/2) - 1), by the incomplete beta route."""
    k = np.asarray(k, float)
    thr = np.ceil(k / 2.0) - 1.0
    return _binom_logcdf(thr, k, q) if success else _binom_logsf(thr, k, q)


def _complement(log_s, log_f):
    """The sum of the larger probability (~1) carries rounding ~1e-16; its complement is exact."""
    if log_f < -1.0:
        log_s = float(np.log1p(-np.exp(log_f)))
    elif log_s < -1.0:
        log_f = float(np.log1p(-np.exp(log_s)))
    return log_s, log_f


def _search_windows(n, s, q, success):
    """[lo, hi] holding every K whose term log P(K) + log T(K) is within _DROP of the largest.

    g(m) = log(term(2m) + term(2m + 1)) pairs the two parities into one unimodal function of m:
    ternary search for its peak, then bisection for where it falls _DROP below it (all
    vectorised over the parameter sets).
    """
    def g(m):
        k0, k1 = 2.0 * m, np.minimum(2.0 * m + 1.0, n)
        t0 = _binom_logpmf(k0, n, s) + _log_tail(k0, q, success)
        t1 = np.where(2.0 * m + 1.0 <= n, _binom_logpmf(k1, n, s) + _log_tail(k1, q, success), -np.inf)
        return np.logaddexp(t0, t1)

    a, b = np.zeros(n.size), np.floor(n / 2.0)
    while np.any(b - a > 2):
        m1, m2 = a + np.floor((b - a) / 3.0), b - np.floor((b - a) / 3.0)
        right = g(m1) < g(m2)  # the peak lies in [m1, b], else in [a, m2]
        a, b = np.where(right, m1, a), np.where(right, b, m2)
    cand = np.stack([a, np.minimum(a + 1, b), b])
    vals = np.stack([g(c) for c in cand])
    peak = cand[np.argmax(vals, axis=0), np.arange(n.size)]
    thresh = np.max(vals, axis=0) - _DROP
    edges = []
    for lo, hi, rising in ((np.zeros(n.size), peak, True), (peak, np.floor(n / 2.0), False)):
        lo, hi = lo.copy(), hi.copy()  # g >= thresh at the peak end; find the last m that keeps it
        while np.any(hi - lo > 1):
            mid = np.floor((lo + hi) / 2.0)
            inside = g(mid) >= thresh
            if rising:
                hi = np.where(inside & (hi - lo > 1), mid, hi)
                lo = np.where(~inside & (hi - lo > 1), mid, lo)
            else:
                lo = np.where(inside & (hi - lo > 1), mid, lo)
                hi = np.where(~inside & (hi - lo > 1), mid, hi)
        edges.append(lo if rising else hi)
    return (2 * edges[0]).astype(np.int64), np.minimum(2 * edges[1] + 1, n).astype(np.int64)


def _pooled_many(n, r, w):
    """(log P(success), log P(failure)) of Prop. E.3's event for flat arrays n, r, w.

    Regular entries (r, w > 0, 1 <= n <= 1e7) go to numba: the window of K whose log P(K) is within _DROP
    of a lower bound on the largest term (the term at the mode of K), the tail T(K) over it by the
    stable recurrence seeded once by the incomplete beta route, then the sum. Entries with a window
    above _NB_WINDOW integers, N > 1e7 and the edge cases use _log_success_failure.
    """
    log_s = np.empty(n.size)
    log_f = np.empty(n.size)
    slow = ~((r > 0) & (w > 0) & (n >= 1) & (n <= _NB_MAX_N))
    idx = np.nonzero(~slow)[0]
    if idx.size:
        nn = n[idx]
        s = np.minimum(r[idx] + w[idx], 1.0)
        q = w[idx] / (r[idx] + w[idx])
        mode = np.minimum(np.floor((nn + 1.0) * s), nn)
        probe = np.maximum(mode, 1.0)  # T(0) = 0: probe K >= 1 for a finite lower bound
        lpm = _binom_logpmf(probe, nn, s)
        plans = []
        for success in (True, False):
            lo, hi = _nb_windows(nn, s, mode.astype(np.int64), lpm + _log_tail(probe, q, success) - _DROP)
            # The log-pmf bound is loose deep in a tail: there, search the summand itself. A search
            # costs ~0.1 s of numpy call overhead per batch plus a few ms per entry (measured), so
            # it pays for windows above _WINDOW_EXACT in a batch of >= 8 such entries, and only
            # above _SEARCH_STEPS integers (~0.05 s of recurrence) in a smaller one.
            width = hi - lo + 1
            wide = width > _WINDOW_EXACT
            big = wide if np.sum(wide) >= 8 else width > _SEARCH_STEPS
            if np.any(big):
                lo[big], hi[big] = _search_windows(nn[big], s[big], q[big], success)
            plans.append((success, lo, hi))
            slow[idx[hi - lo + 1 > _NB_WINDOW]] = True
        ok = ~slow[idx]
        for success, lo, hi in plans:
            forward = (q <= 0.5) if success else (q > 0.5)  # the direction in which the tail grows
            lo, hi, fw = lo[ok], hi[ok], forward[ok]
            seed = _log_tail(np.where(fw, lo, hi), q[ok], success)
            res = _nb_pooled(nn[ok], s[ok], q[ok], lo, hi, seed, success, fw, _DROP)
            (log_s if success else log_f)[idx[ok]] = res
        for j in idx[ok]:
            log_s[j], log_f[j] = _complement(log_s[j], log_f[j])
    for j in np.nonzero(slow)[0]:
        log_s[j], log_f[j] = _log_success_failure(float(n[j]), float(r[j]), float(w[j]))
    return log_s, log_f


def _tail_tables(n, q):
    """(log T, log(1 - T)) on K = 0..n (see _nb_tail_table), each by its stable recurrence."""
    k = np.arange(n + 1)
    if q == 0.0:  # W = 0: success iff K >= 1
        return np.where(k >= 1, 0.0, -np.inf), np.where(k >= 1, -np.inf, 0.0)
    if q == 1.0:  # W = K: success never
        return np.full(n + 1, -np.inf), np.zeros(n + 1)
    out = []
    for success, start in ((True, -np.inf), (False, 0.0)):  # T(0) = 0, 1 - T(0) = 1
        forward = (q <= 0.5) == success
        seed = start if forward else float(_log_tail(float(n), q, success))
        out.append(_nb_tail_table(0, n, q, seed, success, forward))
    return out[0], out[1]


def _per_class_one(n, p00, p01, p10, p11):
    """(log P(success), log P(failure)) of the per-class event N10 < N11 and N01 < N00 (Prop. E.4)."""
    if n == 0 or p11 == 0.0 or p00 == 0.0:  # success needs N11 >= 1 and N00 >= 1
        return -np.inf, 0.0
    s1, s0 = p10 + p11, p00 + p01
    u = min(s0 / (1.0 - s1), 1.0)
    m = int(n)
    t1, f1 = _tail_tables(m, p10 / s1)
    t0, f0 = _tail_tables(m, p01 / s0)
    log_ss = _nb_joint(n, s1, u, t1, t0, _DROP_2D)  # class 1 and class 0 right
    log_sf = _nb_joint(n, s1, u, t1, f0, _DROP_2D)  # class 1 right, class 0 wrong
    log_f1 = _nb_walk_inner(n, s1, f1, int(min(np.floor((n + 1) * s1), n)), _DROP)[0]  # class 1 wrong
    return _complement(float(log_ss), float(np.logaddexp(log_f1, log_sf)))


def success_probability(n, p, phi, psi, *, phi1=None, psi10=None, condition="pooled") -> SuccessProbability:
    """Exact finite-N probability that pruned synthetic data train a perfect classifier (App. D.3 sampling).

    Sampling (App. D.3, eqs. (14)-(16)): each of N examples independently lands in cell (k, l)
    (true label k, synthetic label l) and survives pruning with probability p_kk = phi_k (1 - p)/2,
    p_kl = psi_kl p/2 (k != l), or is discarded; (N00, N01, N10, N11, discarded) is multinomial.

    ``condition="pooled"`` (Gram structure b = -a, Prop. E.3, eq. (45)): success is
    N10 + N01 < N11 + N00. Only r = p00 + p11 and w = p01 + p10 matter.

    ``condition="per-class"`` (b = 0, Prop. E.4, eqs. (47)-(51)): with b = 0 the limit system (42)
    splits into B = sigma(a(N11 - (N11 + N10) B)/gamma) and D = sigma(a(N01 - (N01 + N00) D)/gamma)
    (eq. (47)); B > 1/2 iff N10 < N11 (eq. (48)) and D < 1/2 iff N01 < N00 (eq. (49)), and the
    accuracy (41) is 100% iff both hold (A = 1 - B, C = 1 - D; ties N10 = N11 give B = 1/2, i.e. not
    learned). Success is therefore N10 < N11 and N01 < N00, every entry of the 2x2 table. Its
    probability: M1 = N10 + N11 ~ Bin(N, s1), s1 = p10 + p11; given M1 = m1, N10 ~ Bin(m1, p10/s1)
    and the other N - m1 examples are kept class-0 ones with probability u = s0/(1 - s1),
    s0 = p00 + p01, so M0 ~ Bin(N - m1, u) and given it N01 ~ Bin(M0, p01/s0), independently of
    class 1. With T_k(m) = P(Bin(m, q_k) <= ceil(m/2) - 1) the probability that class k wins among
    its m kept examples,

        P(success) = sum_{m1} Bin(m1; N, s1) T_1(m1) sum_{m0} Bin(m0; N - m1, u) T_0(m0),

    and P(failure) = P(class 1 lost) + P(class 1 won, class 0 lost), each a sum of positive terms
    (so both logs are accurate on their own). The theory counterpart is
    ``theory.per_class_condition`` / ``per_class_breakdown_points``: the probability tends to 1
    for p below both per-class breakdown points and to 0 above either one.

    Method. T(m) over m = 0..N comes from the recurrence Bin(m + 1) = Bin(m) + Bernoulli(q), run in
    the direction in which the tail grows (error ~m eps relative, seeded by the incomplete beta
    function, which reaches tails below 1e-308). Pooled: numba over the whole array for
    N <= 1e7 (a window of K holding every term within e^-120 of the largest, module docstring),
    the scalar route above that. Per-class: exact double sum in numba; rows m1 and, within a row,
    m0 walk outward (each row's walk starts at the previous row's peak) and stop after two
    consecutive terms (one per parity; each parity of a summand is unimodal) 60 nats below the
    largest term seen (left-out mass < 1e-14 relative). That is ~(20 sd(M1)) x (20 sd(M0)) ~ N
    terms near the transition, for N <= ``PER_CLASS_MAX_N`` = 1e6 (0.01 s at 1e3, 0.1 s at 1e4,
    ~1 s at 1e5, ~10 s at 1e6 on a loaded 2-core machine: benchmarks/README.md, section 4c).

    Parameters (broadcast together)
    ----------
    n : number of generated examples N (integer >= 0; pooled up to ~1e9 and beyond, per-class <= 1e6).
        N = 0 means no data: nothing is kept, the trained model is w = 0 (one class for every
        input, accuracy 1/2), and success is impossible under both conditions (0 < 0 and
        0 < 0 are false): probability 0, log_success = -inf, log_failure = 0, for every p, phi, psi.
    p : generator error rate P(y' != y), eq. (15).
    phi, psi : keep rates of right and wrong labels (RLHF-type, eq. (17)). With ``phi1`` / ``psi10``
        given, ``phi`` is phi_0 and ``psi`` is psi_01 and the class-dependent rates of eq. (14)
        are used (the pooled event only depends on r = (phi0 + phi1)(1 - p)/2 and
        w = (psi01 + psi10) p / 2; the per-class one on all four).
    condition : ``"pooled"`` (Prop. E.3, default) or ``"per-class"`` (Prop. E.4), the names of
        ``theory.pooled_condition`` / ``theory.per_class_condition`` and of ``audit(condition=...)``.

    Returns ``SuccessProbability(probability, log_success, log_failure)``; log-probabilities are
    accurate to ~1e-12 relative (checked against exact enumeration, mpmath and simulation in the
    tests) including failure probabilities far below 1e-308.
    """
    n = as_float_array("n", n)
    if np.any((n < 0) | (n != np.floor(n)) | ~np.isfinite(n)):
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    p = check_probability("p", p)
    phi0 = check_probability("phi", phi)
    psi01 = check_probability("psi", psi)
    phi1 = phi0 if phi1 is None else check_probability("phi1", phi1)
    psi10 = psi01 if psi10 is None else check_probability("psi10", psi10)
    check_choice("condition", condition, ("pooled", "per-class"))
    if condition == "per-class" and np.any(n > PER_CLASS_MAX_N):
        raise ValueError(f"n must be <= {PER_CLASS_MAX_N} for condition='per-class', got max {float(np.max(n))!r}")
    cells = [0.5 * phi0 * (1.0 - p), 0.5 * psi01 * p, 0.5 * psi10 * p, 0.5 * phi1 * (1.0 - p)]  # p00 p01 p10 p11
    arrays = np.broadcast_arrays(n, *cells)
    shape = arrays[0].shape
    n, p00, p01, p10, p11 = (np.ascontiguousarray(a, dtype=float).ravel() for a in arrays)
    # log(0) = -inf is the intended value at the edges (everything kept, s = 1; q = 0 or 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if condition == "pooled":
            log_s, log_f = _pooled_many(n, p00 + p11, p01 + p10)
        else:
            log_s, log_f = np.empty(n.size), np.empty(n.size)
            for j in range(n.size):
                log_s[j], log_f[j] = _per_class_one(n[j], p00[j], p01[j], p10[j], p11[j])
    log_s, log_f = log_s.reshape(shape), log_f.reshape(shape)
    return SuccessProbability(scalar_or_array(np.exp(log_s)), scalar_or_array(log_s), scalar_or_array(log_f))
