"""Normal and bivariate normal CDFs with relative accuracy in the tails (numba).

``Phi2(h, k; rho) = P(X <= h, Y <= k)`` for standard normal ``(X, Y)`` with correlation ``rho``
is what App. D.6 needs (the supervised-pruning keep rates). General-purpose routines (Genz's
BVND, used by scipy) aim at absolute accuracy and return 0 far in the tails; here every branch
adds positive terms or loses at most 3 bits to a subtraction, so the relative error stays near
machine precision. All start from Plackett's identity ``dPhi2/drho = phi2``, integrated from the
end that avoids cancellation, with ``s = cos v`` the intermediate correlation and
``E(v) = (h^2 + k^2 - 2 h k s) / (2 (1 - s^2))`` written as a sum of non-negative terms:

- ``0 < rho <= 0.925``: ``Phi2 = Phi(h) Phi(k) + (1/2pi) int_{acos rho}^{pi/2} exp(-E(v)) dv``. The
  range of E on the interval is known in closed form (E has one stationary point, a minimum
  ``max(h^2, k^2) / 2`` at ``s = min/max`` of h, k), and it picks one Gauss-Legendre rule of 12 to
  32 nodes calibrated against the adaptive rule (benchmarks/calibrate_bvn.py); beyond the
  calibrated range, global adaptive Gauss-Kronrod (7/15) with breakpoints at the integrand's scales.
- ``rho > 0.925``: from ``rho = 1`` down, ``Phi2 = Phi(min(h, k)) - J`` (taken when it cancels at
  most 3 bits). J, over correlations in ``[rho, 1]``, has an essential singularity at ``s = 1``;
  Drezner and Wesolowsky's form (as in Genz's BVND) integrates its singular part in closed form,
  rewritten with the Mills ratio's continued fraction so that it does not cancel, and the smooth
  remainder by Gauss-Legendre; where ``|h - k| / sqrt(1 - rho^2) > 6`` (J crowds at one end),
  Gauss-Laguerre in ``y = E - E_end``. Two rules of different order bound the error; J is skipped
  outright when a closed-form bound puts it below 1e-17 of the result.
- ``rho < 0``: the subtraction ``Phi(h) Phi(k) - (Plackett from 0)`` when it loses at most 3 bits;
  otherwise from ``rho = -1`` up, two positive terms: ``P(-k <= X <= h)`` and the density over
  correlations in ``[-1, rho]`` (J of ``(h, -k; -rho)``, split between the corner form and the
  calibrated rule). Failing those, ``int_{-inf}^{min(h,k)} phi(x) Phi((max(h,k) - rho x) / sqrt(1 - rho^2)) dx``,
  adaptively.
- ``rho = 1``: ``Phi(min(h, k))``; ``rho = -1``: ``P(-k <= X <= h)``, computed without cancellation.

Each fast branch returns only when its error estimate is below 2e-14 of the result; otherwise the
next, slower one runs. The remaining error is the rounding of the exponent, a relative ~E eps
(1.5e-13 at E = 600).

Accuracy: relative error <= 1e-12 wherever the true value is a normal double (>= 1e-300); smaller
values underflow towards 0. Tested (tests/theory/test_special.py) against mpmath at >= 30 digits:
Plackett's identity on grids of h, k up to |30| and rho up to 1 - 1e-9; a positive-integrand
quadrature table for rho in [-(1 - 1e-12), -0.3]; 400-digit values in far negative-rho tails;
a table near rho = +-1 and of strong cancellation at moderate negative rho (two mpmath recipes
agreeing to 1e-15); a corner-quadrature table within 1e-5 of rho = -1 (where an earlier version
erred by up to 2e-11); Sheppard's orthant formula up to rho = -1 + 2^-40; and the rho = +-1 limits.

The kernels below assume validated input (the public functions check it) and do no checking.
"""

from __future__ import annotations

import math

import mpmath
import numba
import numpy as np

from beyond_collapse._validation import as_float_array, check_in_interval, scalar_or_array

__all__ = ["normal_cdf", "bivariate_normal_cdf"]

_SQRT1_2 = 1.0 / math.sqrt(2.0)
# Rounding error of _SQRT1_2: with it, Phi's erfc argument is corrected to full precision.
with mpmath.workdps(40):
    _SQRT1_2_LO = float(1 / mpmath.sqrt(2) - mpmath.mpf(_SQRT1_2))
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

_GL20_X, _GL20_W = np.polynomial.legendre.leggauss(20)

# Gauss-Legendre rules of the fast Plackett path, concatenated: rule i has _GL_N[i] nodes from _GL_START[i].
_GL_N = np.array([12, 16, 20, 24, 32])
_GL_START = np.concatenate([[0], np.cumsum(_GL_N)[:-1]])
_GL_X = np.concatenate([np.polynomial.legendre.leggauss(n)[0] for n in _GL_N])
_GL_W = np.concatenate([np.polynomial.legendre.leggauss(n)[1] for n in _GL_N])
# Gauss-Laguerre rules (20 and 32 nodes, concatenated) for _corner's far-tail form.
_LAG_N = np.array([20, 32])
_LAG_START = np.array([0, 20])
_LAG_X = np.concatenate([np.polynomial.laguerre.laggauss(n)[0] for n in _LAG_N])
_LAG_W = np.concatenate([np.polynomial.laguerre.laggauss(n)[1] for n in _LAG_N])

# Gauss-Kronrod 7/15 (QUADPACK qk15): Kronrod nodes on [0, 1] (symmetric), their weights, and the
# weights of the embedded 7-point Gauss rule on the Kronrod nodes with odd index (plus the centre).
_XGK = np.array([
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.0,
])
_WGK = np.array([
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
])
_WG = np.array([
    0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
    0.381830050505118944950369775488975, 0.417959183673469387755102040816327,
])

_RTOL = 1e-14
_FAST_MAX_R = 0.925  # the calibrated Gauss-Legendre rules cover |s| <= this
_N_SAMPLES = 9
_MAX_INTERVALS = 512

_jit = numba.njit(cache=True, fastmath=False)


@_jit
def _phi(x):
    """Standard normal CDF, relative error ~1e-16 also far in the lower tail.

    erfc has relative accuracy, but rounding its argument ``u = -x / sqrt 2`` costs a relative
    error ``2 u^2 eps`` (1e-13 at x = -30); the exact rounding error ``delta`` of ``u`` (Dekker's
    two-product plus the rounding of 1/sqrt 2) gives the first-order correction
    ``erfc(u + delta) = erfc(u) - delta 2/sqrt(pi) exp(-u^2)``.
    """
    if x > -1.0:
        return 0.5 * math.erfc(-x * _SQRT1_2)
    if x < -39.0:
        return 0.0  # Phi(-39) = 2e-333 is below the smallest double (also keeps the split finite)
    a = -x
    u = a * _SQRT1_2
    # Dekker split of a and of the constant (27-bit halves) for the exact product error.
    t = 134217729.0 * a
    a_hi = t - (t - a)
    a_lo = a - a_hi
    t = 134217729.0 * _SQRT1_2
    c_hi = t - (t - _SQRT1_2)
    c_lo = _SQRT1_2 - c_hi
    err = ((a_hi * c_hi - u) + a_hi * c_lo + a_lo * c_hi) + a_lo * c_lo
    delta = err + a * _SQRT1_2_LO
    return 0.5 * (math.erfc(u) - delta * _TWO_OVER_SQRT_PI * math.exp(-u * u))


@_jit
def _interval_prob(a, b):
    """P(a <= X <= b) for standard normal X, without cancellation."""
    if b <= a:
        return 0.0
    if (b - a) * max(1.0, abs(a), abs(b)) <= 1.0:
        # The density varies by at most a factor e on [a, b]: Gauss-Legendre is exact to rounding.
        half, mid = 0.5 * (b - a), 0.5 * (a + b)
        s = 0.0
        for i in range(_GL20_X.size):
            x = mid + half * _GL20_X[i]
            s += _GL20_W[i] * math.exp(-0.5 * x * x)
        return s * half * _INV_SQRT_2PI
    if a >= 0.0:
        return _phi(-a) - _phi(-b)
    return _phi(b) - _phi(a)


@_jit
def _exponent_sc(h, k, s, sv2):
    """E = (h^2 + k^2 - 2 h k s) / (2 (1 - s^2)) given s and sv2 = 1 - s^2, as non-negative terms."""
    hk = h * k
    if hk >= 0.0 and s >= 0.0:
        d = h - k
        return d * d / (2.0 * sv2) + hk / (1.0 + s)
    if hk < 0.0 and s < 0.0:
        d = h + k
        return d * d / (2.0 * sv2) - hk / (1.0 - s)
    return (h * h + k * k - 2.0 * hk * s) / (2.0 * sv2)


@_jit
def _exponent_v(h, k, v):
    """E(v) with s = cos v (Plackett's integrand exp(-E(v)) in the angle variable)."""
    sv = math.sin(v)
    return _exponent_sc(h, k, math.cos(v), sv * sv)


@_jit
def _exponent_range(h, k, s_lo, s_hi):
    """(min, max) of E(s) over s in [s_lo, s_hi] within (-1, 1), in closed form.

    dE/ds = 0 reduces to (h s - k)(k s - h) = 0, so E has one stationary point in (-1, 1), a
    minimum at s* = sign(hk) min(|h|, |k|) / max(|h|, |k|) where E(s*) = max(h^2, k^2) / 2; the
    maximum is at an end.
    """
    e_lo = _exponent_sc(h, k, s_lo, (1.0 - s_lo) * (1.0 + s_lo))
    e_hi = _exponent_sc(h, k, s_hi, (1.0 - s_hi) * (1.0 + s_hi))
    e_min, e_max = min(e_lo, e_hi), max(e_lo, e_hi)
    big = max(abs(h), abs(k))
    if big > 0.0:
        s_star = min(abs(h), abs(k)) / big
        if h * k < 0.0:
            s_star = -s_star
        if s_lo < s_star < s_hi:
            e_min = min(e_min, 0.5 * big * big)
    return e_min, e_max


@_jit
def _mills(z):
    """phi(z) / Phi(z), by the Laplace continued fraction for z < -5 (no underflow)."""
    if z > -5.0:
        return math.exp(-0.5 * z * z) * _INV_SQRT_2PI / _phi(z)
    a = -z
    frac = a
    for j in range(40, 0, -1):
        frac = a + j / frac
    return frac


@_jit
def _log_phi(z):
    """log Phi(z), finite far into the lower tail (Mills ratio below z = -30)."""
    if z > -30.0:
        return math.log(_phi(z))
    return -0.5 * z * z - math.log(_mills(z)) - 0.5 * math.log(2.0 * math.pi)


@_jit
def _integrand(kind, x, h, k, rho, sigma, shift):
    """kind 0: exp(shift - E(x)) (Plackett, variable v); kind 1: exp(shift) phi(x) Phi(.) sqrt(2 pi)."""
    if kind == 0:
        return math.exp(shift - _exponent_v(h, k, x))
    return math.exp(shift - 0.5 * x * x + _log_phi((k - rho * x) / sigma))


@_jit
def _gk15(kind, a, b, h, k, rho, sigma, shift):
    half, mid = 0.5 * (b - a), 0.5 * (a + b)
    fc = _integrand(kind, mid, h, k, rho, sigma, shift)
    res_k = fc * _WGK[7]
    res_g = fc * _WG[3]
    for j in range(7):
        dx = half * _XGK[j]
        f = _integrand(kind, mid - dx, h, k, rho, sigma, shift) + _integrand(kind, mid + dx, h, k, rho, sigma, shift)
        res_k += _WGK[j] * f
        if j % 2 == 1:
            res_g += _WG[j // 2] * f
    err = abs((res_k - res_g) * half)
    # |K15 - G7| bounds G7's error, far above K15's own. Below the integrand's rounding noise
    # (exponents of size |shift| carry absolute error ~ |shift| eps) it is noise, and chasing it
    # would split panels forever.
    if err <= (4e-15 + 2e-15 * abs(shift)) * abs(res_k * half):
        err = 0.0
    return res_k * half, err


@_jit
def _adaptive(kind, points, n_points, h, k, rho, sigma, shift, abs_tol):
    """Global adaptive GK15 of a non-negative integrand over [points[0], points[n-1]].

    Stops when the summed error estimate is below ``_RTOL`` times the integral or below ``abs_tol``
    (the caller's share of the final result's tolerance, when the integral is added to more).
    """
    lo = np.empty(_MAX_INTERVALS)
    hi = np.empty(_MAX_INTERVALS)
    val = np.empty(_MAX_INTERVALS)
    err = np.empty(_MAX_INTERVALS)
    n = 0
    for i in range(n_points - 1):
        if points[i + 1] > points[i]:
            lo[n], hi[n] = points[i], points[i + 1]
            val[n], err[n] = _gk15(kind, lo[n], hi[n], h, k, rho, sigma, shift)
            n += 1
    while True:
        total = 0.0
        total_err = 0.0
        worst = 0
        for i in range(n):
            total += val[i]
            total_err += err[i]
            if err[i] > err[worst]:
                worst = i
        if not math.isfinite(total_err):
            return math.nan
        if total_err <= max(_RTOL * total, abs_tol) or n + 1 >= _MAX_INTERVALS or total_err == 0.0:
            return total
        a, b = lo[worst], hi[worst]
        m = 0.5 * (a + b)
        if not (a < m < b):
            err[worst] = 0.0  # interval at floating-point resolution: accept it
            continue
        hi[worst] = m
        val[worst], err[worst] = _gk15(kind, a, m, h, k, rho, sigma, shift)
        lo[n], hi[n] = m, b
        val[n], err[n] = _gk15(kind, m, b, h, k, rho, sigma, shift)
        n += 1


@_jit
def _fast_rule(r, variation):
    """Index into _GL_N of a Gauss-Legendre rule that integrates exp(-E(v)) over an interval with
    |s| <= r and max E - min E = variation to ~1e-13 relative to the integral, or -1 (use the
    adaptive rule).

    Read off benchmarks/calibrate_bvn.py, which measures each rule's worst relative error against
    the adaptive rule on 600,000 random (h, k, rho) with |h|, |k| log-uniform up to 40: the error
    is set by the variation (how peaked the integrand is), and for r > 0.8 also by r (the
    integrand's essential singularity at s = 1 approaches the interval).
    """
    if r > _FAST_MAX_R:
        return -1
    if variation <= 1.0:
        return 0 if r <= 0.8 else 1
    if variation <= 4.0:
        return 1 if r <= 0.8 else 2
    if variation <= 8.0:
        return 2
    if variation <= 12.0:
        return 3
    return 4 if variation <= 25.0 else -1


@_jit
def _cut_point(h, k, s_lo, s_hi):
    """The largest s in [s_lo, s_hi] with E(s) - min E <= 24 (within the calibrated rules' reach): s_hi
    if E stays within it, else the crossing beyond the minimum of E (bisection: E increases there)."""
    e_min, _ = _exponent_range(h, k, s_lo, s_hi)
    e_cut = e_min + 24.0  # below 25, so that rounding cannot push the variation past the rule
    if _exponent_sc(h, k, s_hi, (1.0 - s_hi) * (1.0 + s_hi)) <= e_cut:
        return s_hi
    big = max(abs(h), abs(k))
    s_star = 0.0 if big == 0.0 else math.copysign(min(abs(h), abs(k)) / big, h * k)
    lo, hi = max(s_lo, s_star), s_hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _exponent_sc(h, k, mid, (1.0 - mid) * (1.0 + mid)) <= e_cut:
            lo = mid
        else:
            hi = mid
    return lo


@_jit
def _plackett_gl(h, k, v_lo, v_hi):
    """(1/2pi) int_{v_lo}^{v_hi} exp(-E(v)) dv by the calibrated Gauss-Legendre rule, or -1 when
    no rule is accurate enough for this interval and variation."""
    s_top, s_bottom = math.cos(v_lo), math.cos(v_hi)
    if abs(s_top) >= 1.0 or abs(s_bottom) >= 1.0:
        return -1.0
    e_min, e_max = _exponent_range(h, k, s_bottom, s_top)
    rule = _fast_rule(max(abs(s_top), abs(s_bottom)), e_max - e_min)
    if rule < 0:
        return -1.0
    half, mid = 0.5 * (v_hi - v_lo), 0.5 * (v_hi + v_lo)
    total = 0.0
    for i in range(_GL_START[rule], _GL_START[rule] + _GL_N[rule]):
        total += _GL_W[i] * math.exp(e_min - _exponent_v(h, k, mid + half * _GL_X[i]))
    return total * half * math.exp(-e_min) / (2.0 * math.pi)


@_jit
def _plackett(h, k, v_lo, v_hi, floor):
    """(1/2pi) int_{v_lo}^{v_hi} exp(-E(v)) dv, v_lo < v_hi, to relative accuracy or absolute ``floor``."""
    fast = _plackett_gl(h, k, v_lo, v_hi)
    if fast >= 0.0:
        return fast
    length = v_hi - v_lo
    # E on 9 equally spaced points: its minimum (the integrand's peak, possibly interior) sets
    # the scaling and the points start the adaptive partition.
    points = np.empty(24)
    e_min = math.inf
    e_max = -math.inf
    for i in range(_N_SAMPLES):
        v = v_lo + length * i / (_N_SAMPLES - 1)
        points[i] = v
        e = _exponent_v(h, k, v) if math.sin(v) > 0.0 else math.inf
        e_min = min(e_min, e)
        e_max = max(e_max, e)
    to_real = math.exp(-e_min) / (2.0 * math.pi)
    # The floor in the integral's scaled units (inf when the integral cannot matter).
    abs_tol = floor * 2.0 * math.pi * math.exp(e_min) if e_min <= 700.0 else math.inf
    if e_max - e_min <= 40.0:
        val, err = _gk15(0, v_lo, v_hi, h, k, 0.0, 1.0, e_min)
        if err <= max(_RTOL * val, abs_tol):
            return val * to_real
    # Extra breakpoints at the integrand's local scale near each end, where narrow peaks sit.
    n = _N_SAMPLES
    delta = 1e-6 * length
    slope_lo = abs(_exponent_v(h, k, v_lo + delta) - _exponent_v(h, k, v_lo + 2.0 * delta)) / delta
    slope_hi = abs(_exponent_v(h, k, v_hi - delta) - _exponent_v(h, k, v_hi - 2.0 * delta)) / delta
    scale_lo = 1.0 / max(slope_lo, 1e-300)
    scale_hi = 1.0 / max(slope_hi, 1e-300)
    for c in (0.25, 4.0, 64.0):
        if c * scale_lo < length / (_N_SAMPLES - 1):
            points[n] = v_lo + c * scale_lo
            n += 1
        if c * scale_hi < length / (_N_SAMPLES - 1):
            points[n] = v_hi - c * scale_hi
            n += 1
    pts = np.sort(points[:n])
    return _adaptive(0, pts, n, h, k, 0.0, 1.0, e_min, abs_tol) * to_real


@_jit
def _corner_remainder(h, k, half, a2, bs, hk, c, d, start, n):
    """Gauss-Legendre sum of the smooth remainder in _corner (nodes x in [0, 2 half]), with the
    sum of the magnitudes of its two parts (for the rounding-error bound)."""
    total = 0.0
    size = 0.0
    for i in range(start, start + n):
        x = half * (1.0 + _GL_X[i])
        xs = x * x
        rs = math.sqrt((1.0 - x) * (1.0 + x))
        weight = _GL_W[i] * half * math.exp(-0.5 * bs * (a2 - xs) / (xs * a2))
        full = math.exp(-hk * xs / (2.0 * (1.0 + rs) ** 2)) / rs
        taylor = 1.0 + c * xs * (1.0 + d * xs)
        total += weight * (full - taylor)
        size += weight * (abs(full) + abs(taylor))
    return total, size


@_jit
def _corner_bound(h, k, r):
    """Upper bound on _corner's J: on [0, acos r], E = (h - k)^2 / (2 sin^2 v) + hk / (1 + cos v)
    with sin^2 v <= 1 - r^2 and hk / (1 + cos v) between hk / 2 and hk / (1 + r)."""
    e_low = (h - k) * (h - k) / (2.0 * (1.0 - r) * (1.0 + r)) + min(0.5 * h * k, h * k / (1.0 + r))
    return math.acos(r) * math.exp(-e_low) / (2.0 * math.pi)


@_jit
def _corner_laguerre(hk, r, a2, y0, rule):
    """int_0^A exp(-b^2 / 2x^2 + y0) exp(hk / (1 + r) - hk / (1 + sqrt(1 - x^2))) / sqrt(1 - x^2) dx
    with y = b^2 / 2x^2 - y0 (y0 = b^2 / 2A^2): Gauss-Laguerre in y. In u = y0 / (y + y0) the
    integrand is A u^(3/2) / (2 y0) times a factor smooth in u, whose nearest singularity in y is at
    -y0 r^2: for y0 >= 18 and r >= 0.925 that is >= 15 away, where 20 and 32 nodes converge (for
    smaller r, as in the negative-rho split, the caller's error test decides)."""
    a = math.sqrt(a2)
    total = 0.0
    for i in range(_LAG_START[rule], _LAG_START[rule] + _LAG_N[rule]):
        u = y0 / (_LAG_X[i] + y0)
        rs = math.sqrt(1.0 - a2 * u)
        total += _LAG_W[i] * a * u * math.sqrt(u) / (2.0 * y0) * math.exp(hk / (1.0 + r) - hk / (1.0 + rs)) / rs
    return total


@_jit
def _one_minus_z_mills(z):
    """1 - z Phi(-z) / phi(z) for z >= 0 without cancellation (it tends to 1 / z^2).

    Laplace's continued fraction phi(z) / Phi(-z) = z + C with C = 1 / (z + 2 / (z + 3 / ...))
    gives it as C / (z + C); 60 terms reach ~1e-18 for z >= 3. Below 3 the direct form loses at
    most 4 bits.
    """
    if z < 3.0:
        return 1.0 - z / _mills(-z)
    frac = z
    for j in range(60, 1, -1):
        frac = z + j / frac
    tail = 1.0 / frac
    return tail / (z + tail)


@_jit
def _corner(h, k, r):
    """(J, error bound) with J = (1/2pi) int_0^{acos r} exp(-E(v)) dv, 0 < r < 1, so that
    Phi2(h, k; r) = Phi(min(h, k)) - J (Plackett's identity integrated down from r = 1).

    Drezner and Wesolowsky's high-correlation form, as in Genz's BVND: with x = sin v, A^2 = 1 - r^2,
    b = |h - k|, z = b / A, the integrand is exp(-b^2 / 2x^2) exp(-hk/2) B(x) with
    B(x) = exp(-hk x^2 / (2 (1 + sqrt(1 - x^2))^2)) / sqrt(1 - x^2). The essential singularity at
    x = 0 sits in exp(-b^2 / 2x^2); times the Taylor part 1 + c x^2 + c d x^4 of B it is integrated
    in closed form (int_0^A x^2m exp(-b^2 / 2x^2) dx by parts), written as
    exp(-z^2/2) A [(P1 - P2) + P2 (1 - z Phi(-z) / phi(z))] so that nothing cancels as z grows;
    the remainder B - Taylor = O(x^6) is smooth and goes to Gauss-Legendre rules of 20 and 32
    nodes, whose difference (the 20-node error, far above the 32-node one) plus the rounding of
    every term bounds the error. For z > 6 the mass crowds at x = A and _corner_laguerre takes over.
    Returns (nan, inf) when exp(-E) would overflow or underflow.
    """
    a2 = (1.0 - r) * (1.0 + r)
    a = math.sqrt(a2)
    bs = (h - k) * (h - k)
    hk = h * k
    z = abs(h - k) / a
    e0 = 0.5 * (bs / a2 + hk)  # E at x = A: every term below is scaled by exp(-e0)
    if e0 > 700.0 or e0 < -700.0:
        return math.nan, math.inf
    if z > 6.0:
        # The mass crowds at x = A, where the closed form would cancel: Gauss-Laguerre instead.
        y0 = 0.5 * z * z
        fine = _corner_laguerre(hk, r, a2, y0, 1)
        coarse = _corner_laguerre(hk, r, a2, y0, 0)
        scale = math.exp(-(y0 + hk / (1.0 + r))) / (2.0 * math.pi)
        return fine * scale, (abs(fine - coarse) + 1e-15 * fine) * scale
    c = (4.0 - hk) / 8.0
    d = (12.0 - hk) / 16.0
    # P1 - P2 and P2 of the closed form, and the sum of their terms' magnitudes (rounding bound).
    p1_minus_p2 = c * a2 * (1.0 / 3.0 + d * (3.0 * a2 - bs) / 15.0)
    p2 = 1.0 - c * bs * (1.0 - d * bs / 5.0) / 3.0
    q = _one_minus_z_mills(z)
    closed = a * (p1_minus_p2 + p2 * q)
    closed_size = a * (abs(c) * a2 * (1.0 / 3.0 + abs(d) * (3.0 * a2 + bs) / 15.0)
                       + abs(q) * (1.0 + abs(c) * bs * (1.0 + abs(d) * bs / 5.0) / 3.0))
    fine, size = _corner_remainder(h, k, 0.5 * a, a2, bs, hk, c, d, _GL_START[4], _GL_N[4])
    coarse, _ = _corner_remainder(h, k, 0.5 * a, a2, bs, hk, c, d, _GL_START[2], _GL_N[2])
    scale = math.exp(-e0) / (2.0 * math.pi)
    err = abs(fine - coarse) + 8e-16 * (closed_size + size)
    return (closed + fine) * scale, err * scale


@_jit
def _x_integral(h, k, rho, sigma):
    """int_{-inf}^{h} phi(x) Phi((k - rho x)/sigma) dx for rho < 0 (log-concave, increasing on x <= 0)."""
    top = min(h, 0.0)
    a = top - 12.0  # the integrand is below its value at `top` times exp(-(top - x)^2 / 2) there
    # Local scale at the right end: 1 / (d/dx log integrand).
    z_h = (k - rho * h) / sigma
    slope = -h - rho / sigma * _mills(z_h)
    s = 1.0 / slope if slope > 1.0 else 1.0
    if h <= 0.0 and 64.0 * s < 1e-13 * max(1.0, abs(h)):
        # A spike narrower than ~1000 ulps of h: the endpoint Laplace value exp(l(h)) / l'(h) is
        # exact up to a relative l''/l'^2 ~ 1/z_h^2 < 1e-14 (here |z_h| > 1e7).
        log_val = -0.5 * h * h + _log_phi(z_h) - math.log(slope)
        return math.exp(log_val) * _INV_SQRT_2PI if log_val > -746.0 else 0.0
    if h <= 0.0 and slope > 1.0:
        # log-concave with log-derivative `slope` at its maximum h: below h - 64 s it is under
        # exp(-64) of its peak value.
        a = max(a, h - 64.0 * s)
    points = np.empty(16)
    n = 0
    points[n] = a
    n += 1
    if slope > 1.0:
        for c in (16.0, 4.0, 1.0):
            if h - c * s > a:
                points[n] = h - c * s
                n += 1
    # Step of Phi at z = 0, width sigma / |rho|.
    x_step = k / rho
    w = sigma / abs(rho)
    for c in (-8.0, 0.0, 8.0):
        x = x_step + c * w
        if a < x < h:
            points[n] = x
            n += 1
    if a < 0.0 < h:
        points[n] = 0.0
        n += 1
    points[n] = h
    n += 1
    pts = np.sort(points[:n])
    # Scale by the integrand at `top` (its value can be far below the smallest double otherwise).
    log_ref = -0.5 * top * top + _log_phi((k - rho * top) / sigma)
    # The integrand never exceeds exp(log Phi(z(h))) (z increases with x); below that, underflow.
    if _log_phi(z_h) + math.log(h - a) < -746.0:
        return 0.0
    total = _adaptive(1, pts, n, h, k, rho, sigma, -log_ref, 0.0)
    return total * math.exp(log_ref) * _INV_SQRT_2PI


@_jit
def _bvn_scalar(h, k, rho):
    if math.isnan(h) or math.isnan(k) or math.isnan(rho):
        return math.nan
    # Phi2 <= Phi(min(h, k)) < 1e-349 rounds to 0; beyond 40 a CDF factor is 1 to within 1e-349,
    # far below the relative accuracy of any normal double result (this also covers +-inf).
    if h < -40.0 or k < -40.0:
        return 0.0
    if h > 40.0:
        return _phi(k)
    if k > 40.0:
        return _phi(h)
    if rho >= 1.0:
        return _phi(min(h, k))
    if rho <= -1.0:
        return _interval_prob(-k, h)
    if rho == 0.0:
        return _phi(h) * _phi(k)
    base = _phi(h) * _phi(k)
    if rho > 0.0:
        if rho > _FAST_MAX_R:
            # Near rho = 1 Plackett's integral from 0 needs the adaptive rule; from 1 down it
            # subtracts, so it is taken only when that costs at most 3 bits.
            top = _phi(min(h, k))
            if _corner_bound(h, k, rho) <= 1e-17 * top:
                return top
            j, err = _corner(h, k, rho)
            res = top - j
            if res >= 0.125 * top and err <= 2e-14 * res:
                return res
        return base + _plackett(h, k, math.acos(rho), 0.5 * math.pi, 0.5 * _RTOL * base)
    if rho >= -_FAST_MAX_R:
        fast = _plackett_gl(h, k, 0.5 * math.pi, math.acos(rho))
        if fast >= 0.0:
            res = base - fast
            if res >= 0.125 * base and base > 1e-290:
                return res
    # From rho = -1 up, two positive terms: Phi2(h, k; -1) = P(-k <= X <= h) and the integral of
    # the density over correlations in [-1, rho], which is _corner of (h, -k; -rho).
    low = _interval_prob(-k, h)
    if _corner_bound(h, -k, -rho) <= 1e-17 * low:
        return low
    # For rho > -0.925 the corner form would reach x = sin v near 1, where its remainder is not
    # smooth: the calibrated rule covers correlations from rho down to -0.925 or to where the
    # integrand has fallen by exp(-25), and the corner form the rest (then a small share).
    r_corner = -rho
    rest = 0.0
    if -rho < _FAST_MAX_R:
        r_corner = _cut_point(h, -k, -rho, _FAST_MAX_R)
        rest = _plackett_gl(h, -k, math.acos(r_corner), math.acos(-rho)) if r_corner > -rho else 0.0
    j, err = _corner(h, -k, r_corner)
    res = low + j + rest if rest >= 0.0 else math.nan
    if err <= 2e-14 * res:
        return res
    if rho >= -_FAST_MAX_R:
        res = base - _plackett(h, k, 0.5 * math.pi, math.acos(rho), 0.05 * _RTOL * base)
        if res >= 0.125 * base and base > 1e-290:
            return res
    sigma = math.sqrt((1.0 - rho) * (1.0 + rho))
    # Integrate over the variable with the smaller upper limit: its range holds all the mass.
    if k < h:
        h, k = k, h
    return _x_integral(h, k, rho, sigma)


_bvn_ufunc = None
_phi_ufunc = None


def _ufuncs():
    """Compile the ufuncs on first use, so importing the package stays fast."""
    global _bvn_ufunc, _phi_ufunc
    if _bvn_ufunc is None:
        _bvn_ufunc = numba.vectorize(["float64(float64, float64, float64)"], cache=True)(_bvn_scalar.py_func)
        _phi_ufunc = numba.vectorize(["float64(float64)"], cache=True)(_phi.py_func)
    return _bvn_ufunc, _phi_ufunc


def normal_cdf(x):
    """Standard normal CDF ``Phi(x) = erfc(-x / sqrt 2) / 2`` (relative error ~1e-16, also for x << 0).

    Args:
        x: real number or array (+-inf allowed).
    """
    x = as_float_array("x", x)
    return scalar_or_array(_ufuncs()[1](x))


def bivariate_normal_cdf(h, k, rho):
    """Bivariate normal CDF ``Phi2(h, k; rho) = P(X <= h, Y <= k)`` (App. D.6's ``Phi_2``).

    ``(X, Y)`` standard normal with correlation ``rho``. Upper orthants are
    ``P(X > h, Y > k) = Phi2(-h, -k; rho)``, with no subtraction. See the module docstring for
    the method; relative error <= 1e-12 wherever the value is >= 1e-300 (tested against mpmath).

    Args:
        h, k: real numbers or arrays (+-inf allowed).
        rho: correlation in [-1, 1] (the degenerate ends are included).

    Returns:
        float for scalar input, else an array of the broadcast shape.
    """
    if type(h) is float and type(k) is float and type(rho) is float and -1.0 <= rho <= 1.0 and h == h and k == k:
        # Three plain floats (the rates' use): skip array conversion and broadcasting, which cost
        # ten times the evaluation itself.
        return _bvn_scalar(h, k, rho)
    h = as_float_array("h", h)
    k = as_float_array("k", k)
    rho = check_in_interval("rho", rho, -1.0, 1.0)
    return scalar_or_array(_ufuncs()[0](h, k, rho))
