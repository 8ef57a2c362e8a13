"""Exact finite-N probability of the success event of Prop. E.3 under the sampling of App. D.3.

Each of N examples independently ends up kept with a right label (probability
r = p00 + p11 = (phi0 + phi1) (1 - p) / 2), kept with a wrong label (w = p01 + p10 =
(psi01 + psi10) p / 2), or discarded (eqs. (14)-(16)). Prop. E.3's success event is that the kept
wrong count is below the kept right count, N10 + N01 < N11 + N00 (eq. (45)), which (b = -a, large
gamma) makes the downstream classifier perfect. Theorem D.3 bounds where its probability goes
from 1 to 0 as N -> infinity; this module gives its exact value at finite N.

Method. The kept count K = N11 + N00 + N10 + N01 is Bin(N, s), s = r + w; given K the wrong count
W is Bin(K, w / s), and success means W <= ceil(K / 2) - 1. So

    P(success) = sum_K P(K) P(W <= ceil(K/2) - 1 | K),   P(failure) = sum_K P(K) P(W >= ceil(K/2) | K).

Both sums are done separately in log space (logsumexp), so each stays accurate when the other is
1 - tiny. Binomial log-pmfs use Loader's saddle-point form (stirlerr, bd0), accurate to relative
~1e-15 at N = 1e9 where lgamma differences lose six digits. Binomial tails use the regularised
incomplete beta function (scipy), and below 1e-280, where it underflows, the identity
I_x(k+1, n-k) = (k+1) pmf(k+1; n, x) J with J a smooth Laplace-type integral done by 64-point
Gauss-Laguerre quadrature. For N <= 2e4 every K is summed; above, each parity of K is a smooth
function of K/2 of width ~ sqrt(N), found by two nested grid scans, and summed exactly when its
support (terms within e^-120 of the largest) has <= 4e5 integers, else by the trapezoid rule on
40001 nodes, whose error for such smooth, wide summands is far below double precision (Poisson
summation: ~exp(-2 pi^2 (width / step)^2)).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import betainc, betaincc, gammaln

from beyond_collapse._validation import as_float_array, check_probability, scalar_or_array

_EXACT_LIMIT = 20_000  # N up to this: every K is summed
_WINDOW_EXACT = 20_000  # support (per parity) up to this many integers: summed exactly
_GRID = 1001  # nodes of each support scan
_NODES = 2001  # trapezoid nodes: the support spans ~31 widths, so ~65 nodes per width
_DROP = 120.0  # terms below max - 120 nats are negligible against the ~1e-16 relative target
_LAG_Y, _LAG_W = np.polynomial.laguerre.laggauss(64)
_LOG_2PI = np.log(2.0 * np.pi)


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


def _stirlerr(x):
    """log(x!) - (x + 1/2) log x + x - log(sqrt(2 pi)) for real x > 0 (Loader 2000)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    big = x > 15.0
    xb = x[big]
    x2 = 1.0 / (xb * xb)
    out[big] = (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - x2 / 1188) * x2) * x2) * x2) / xb
    xs = x[~big]
    out[~big] = gammaln(xs + 1.0) - (xs + 0.5) * np.log(xs) + xs - 0.5 * _LOG_2PI
    return out


def _bd0(x, m):
    """x log(x / m) + m - x, accurate when x ~ m (Loader 2000)."""
    x, m = np.broadcast_arrays(np.asarray(x, float), np.asarray(m, float))
    out = np.empty(x.shape)
    near = np.abs(x - m) < 0.1 * (x + m)
    v = (x[near] - m[near]) / (x[near] + m[near])
    s = (x[near] - m[near]) * v
    ej = 2.0 * x[near] * v
    v2 = v * v
    for j in range(1, 30):  # |v| < 0.1: 30 terms reach v^60 << eps
        ej = ej * v2
        s = s + ej / (2 * j + 1)
    out[near] = s
    xf, mf = x[~near], m[~near]
    out[~near] = xf * np.log(xf / mf) + mf - xf
    return out


def _binom_logpmf(k, n, p):
    """log P(Bin(n, p) = k) for real 0 <= k <= n, 0 < p < 1 (saddle-point form, no lgamma cancellation)."""
    k, n, p = np.broadcast_arrays(np.asarray(k, float), np.asarray(n, float), np.asarray(p, float))
    out = np.empty(k.shape)
    lo = k == 0
    hi = k == n
    out[lo] = n[lo] * np.log1p(-p[lo])
    out[hi & ~lo] = n[hi & ~lo] * np.log(p[hi & ~lo])
    mid = ~(lo | hi)
    km, nm, pm = k[mid], n[mid], p[mid]
    out[mid] = (
        _stirlerr(nm) - _stirlerr(km) - _stirlerr(nm - km)
        - _bd0(km, nm * pm) - _bd0(nm - km, nm * (1.0 - pm))
        + 0.5 * (np.log(nm) - _LOG_2PI - np.log(km) - np.log(nm - km))
    )
    return out


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
    if s == 0.0 or r == 0.0:  # nothing kept, or nothing right kept: success is impossible
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


def success_probability(n, p, phi, psi, *, phi1=None, psi10=None) -> SuccessProbability:
    """Exact P(N10 + N01 < N11 + N00) at finite N (Prop. E.3's event, eq. (45)), App. D.3 sampling.

    Parameters (broadcast together)
    ----------
    n : number of generated examples N (integer >= 0, up to ~1e9 and beyond).
    p : generator error rate P(y' != y), eq. (15).
    phi, psi : keep rates of right and wrong labels (RLHF-type, eq. (17)). With ``phi1`` / ``psi10``
        given, ``phi`` is phi_0 and ``psi`` is psi_01 and the class-dependent rates of eq. (14)
        are used; only r = (phi0 + phi1)(1 - p)/2 and w = (psi01 + psi10) p / 2 matter.

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
    r = 0.5 * (phi0 + phi1) * (1.0 - p)
    w = 0.5 * (psi01 + psi10) * p
    n, r, w = np.broadcast_arrays(n, r, w)
    log_s = np.empty(n.shape)
    log_f = np.empty(n.shape)
    # log(0) = -inf is the intended value at the edges (everything kept, s = 1; q = 0 or 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        for idx in np.ndindex(n.shape):
            log_s[idx], log_f[idx] = _log_success_failure(float(n[idx]), float(r[idx]), float(w[idx]))
    prob = np.exp(log_s)
    return SuccessProbability(scalar_or_array(prob), scalar_or_array(log_s), scalar_or_array(log_f))
