"""Ridge-regularised logistic regression, eq. (1), for N up to 1e6 rows and d up to 1000.

The downstream model of Sec. 3.1 / App. D.2 minimises

    L(w) = (1/N) sum_i q_i BCE(sigmoid(x_i . w), y_i) + (lam/2) |w|^2,            eq. (1)

where N counts every row (pruned rows, q_i = 0, included) and q_i >= 0 are per-example weights.

Method (why it is fast). A pass over X costs one read of N x d float64 numbers and dominates
everything else, so the solver minimises the number of passes:

1. A starting point: the same solver applied to a strided subsample of rows (recursively, so
   each level starts from a smaller one), solved only to its statistical error. The innermost
   level (all its rows in its Hessian) takes L-BFGS steps on one float32 Hessian, not exact
   Newton steps (at d = 1000 three 4000-row Hessians cost ~3 passes at N = 2e5).
2. Full-data iterations, each costing one fused pass (a numba kernel that reads each row once,
   computing x_i . w and the gradient together). The step is preconditioned L-BFGS: the two-loop
   recursion over the last 8 steps with, as initial matrix, the Hessian X^T D X estimated on a
   strided subsample of n_sub = max(floor, min(1e5, 8N/d)) rows, floor = 20d, or 4e9/d^2
   rows (4d at d = 1000) where 20d rows would take more than 4e9 multiply-adds (BLAS syrk in
   4096-row blocks, float32, no N x d temporary), computed once per subsample size. The
   subsample's relative error ~ sqrt(d / n_sub) would set a linear rate; the L-BFGS pairs
   correct it along the directions already explored (about 1.5 digits per pass at N = 1e6,
   d = 100, about 1 at N = 2e5, d = 1000). When the subsample is the whole data set (small N)
   the iteration is exact Newton with a float64 Hessian. Two passes in a row that each keep
   more than half of the gradient norm make the Hessian subsample 4x larger.
3. Globalisation: a full step is taken when it cuts the gradient norm by 10% (strong convexity
   makes the gradient norm a valid merit function, and this test needs no loss evaluation);
   otherwise Armijo backtracking on L, where near convergence (L's decrease below its rounding
   error) a step is accepted if it reduces the gradient norm.

Convergence is declared only on the gradient norm measured on the full data, never predicted.
"""

from __future__ import annotations

import contextlib
import types

import numba
import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.linalg.blas import dsyrk, ssyrk
from threadpoolctl import threadpool_limits

from beyond_collapse._validation import check_count, check_finite, check_positive, check_probability

_NCHUNKS = 64  # fixed chunk count: the summation order, hence the result, does not depend on threads
_HESS_BLOCK = 4096  # rows per syrk block: keeps the temporary small (block x d)
_INIT_TOL = 1e-6  # gradient norm for the subsample solve: below its statistical error at N ~ 1e6
# _SLOW_STEPS steps in a row that each leave more than _SLOW of the gradient norm mean the
# subsample is too small for this problem (e.g. most weights zero, tiny lam): the Hessian
# subsample grows 4x (down to the whole data set, where the iteration is exact Newton).
_SLOW = 0.5
_SLOW_STEPS = 2
_HESS_ROWS = 8  # Hessian subsample ~ _HESS_ROWS * N / d rows (_subsample_stride) ...
_HESS_MIN_WORK = 4_000_000_000  # ... and at least 20d rows, or 2d where 20d rows cost over this d^2
_ONE_THREAD_D = 128  # Hessian and Cholesky on one BLAS thread from this d on (_one_blas_thread)
_MEMORY = 8  # L-BFGS pairs kept (0: preconditioned Richardson)


class ConvergenceError(ValueError):
    """The solver stopped before reaching its gradient tolerance.

    Attributes: ``iterations`` (full-data passes made) and ``grad_norm`` (last gradient norm).
    """

    def __init__(self, message: str, iterations: int, grad_norm: float):
        super().__init__(f"{message} (iterations={iterations}, last gradient norm={grad_norm:.3e})")
        self.iterations = iterations
        self.grad_norm = grad_norm


def _loss_grad_py(X, y, q, has_q, w, with_loss):
    """Sum_i q_i BCE_i and sum_i q_i (sigmoid(z_i) - y_i) x_i in one read of X (no checks).

    ``fastmath`` is limited to reassociation/contraction so that NaN and inf still propagate
    (the caller detects non-finite data from the result).
    """
    n, d = X.shape
    step = (n + _NCHUNKS - 1) // _NCHUNKS
    grads = np.zeros((_NCHUNKS, d))
    losses = np.zeros(_NCHUNKS)
    for c in numba.prange(_NCHUNKS):
        g = np.zeros(d)
        loss = 0.0
        for i in range(c * step, min(n, (c + 1) * step)):
            qi = q[i] if has_q else 1.0
            if qi == 0.0:
                continue
            z = 0.0
            for j in range(d):
                z += X[i, j] * w[j]
            # BCE(sigmoid(z), y) = softplus(z) - y z, written to avoid overflow for large |z|;
            # the log1p costs ~25% of a pass, so it is skipped when only the gradient is needed
            if z >= 0.0:
                e = np.exp(-z)
                p = 1.0 / (1.0 + e)
                if with_loss:
                    loss += qi * (z + np.log1p(e) - y[i] * z)
            else:
                e = np.exp(z)
                p = e / (1.0 + e)
                if with_loss:
                    loss += qi * (np.log1p(e) - y[i] * z)
            r = qi * (p - y[i])
            for j in range(d):
                g[j] += r * X[i, j]
        grads[c] = g
        losses[c] = loss
    total = np.zeros(d)
    for c in range(_NCHUNKS):
        total += grads[c]
    return losses.sum(), total


_FAST = {"reassoc", "contract"}
_loss_grad_parallel = numba.njit(parallel=True, fastmath=_FAST, cache=True)(_loss_grad_py)
# Small problems: a thread team costs more than it saves, and on a busy machine each parallel
# region waits for a scheduling slot. Same chunked summation order, so the same numbers.
# numba's on-disk cache keys a compiled function by its name, line and signature, not by the
# parallel flag: compiled from the same function, whichever of the two kernels is compiled first
# is loaded for both in later processes (the serial code then ran as the "parallel" kernel). So
# the serial kernel is compiled from a renamed copy of the function.
_loss_grad_serial_py = types.FunctionType(
    _loss_grad_py.__code__.replace(co_name="_loss_grad_serial_py", co_qualname="_loss_grad_serial_py"),
    _loss_grad_py.__globals__, "_loss_grad_serial_py",
)
_loss_grad_serial = numba.njit(parallel=False, fastmath=_FAST, cache=True)(_loss_grad_serial_py)
_PARALLEL_MIN = 2_000_000  # entries of X


def _loss_grad(X, y, q, w, lam, with_loss=True):
    """Objective eq. (1) (NaN unless with_loss) and its gradient at w (one pass over X)."""
    n = X.shape[0]
    has_q = q is not None
    kernel = _loss_grad_parallel if X.size >= _PARALLEL_MIN else _loss_grad_serial
    loss, g = kernel(X, y, q if has_q else y[:1], has_q, w, with_loss)
    f = loss / n + 0.5 * lam * (w @ w) if with_loss else np.nan
    return f, g / n + lam * w


def _sub_hessian(X, y, q, w, lam, stride, single):
    """Hessian of eq. (1) estimated on rows 0, stride, 2*stride, ... (exact when stride == 1).

    sum_i q_i s_i (1 - s_i) x_i x_i^T is accumulated in blocks with BLAS syrk, so the only
    temporary is a block of rows scaled by sqrt(q_i s_i (1 - s_i)). A subsampled Hessian only
    preconditions (its sampling error ~ sqrt(d / n_sub) dwarfs float32 rounding), so it is
    accumulated in float32 (``single``) at twice the speed; the exact one of the caller's own
    problem (stride 1) stays float64 so that Newton converges quadratically.
    """
    n, d = X.shape
    dtype = np.float32 if single else np.float64
    syrk = ssyrk if single else dsyrk
    H = np.zeros((d, d), dtype=dtype, order="F")
    rows = 0
    block = _HESS_BLOCK * stride
    for start in range(0, n, block):
        Xb = X[start : min(n, start + block) : stride]
        rows += Xb.shape[0]
        z = Xb @ w
        s = 1.0 / (1.0 + np.exp(-np.abs(z)))  # sigmoid(|z|); s (1 - s) is symmetric in z
        dvec = s * (1.0 - s)
        if q is not None:
            dvec *= q[start : min(n, start + block) : stride]
        A = np.multiply(Xb, np.sqrt(dvec)[:, None], dtype=dtype)
        # A.T is Fortran-ordered, so syrk reads it without a copy and computes A^T A
        H = syrk(1.0, A.T, beta=1.0, c=H, trans=0, lower=0, overwrite_c=1)
    H = np.triu(H).astype(np.float64)
    H = H + np.triu(H, 1).T
    H /= rows
    H[np.diag_indices(d)] += lam
    return H


def _subsample_stride(n: int, d: int) -> int:
    """Rows used for the Hessian: as many as cost a fraction of one pass over X.

    A float32 syrk over n_sub rows costs n_sub d^2 / 2 multiply-adds against N d float64 reads
    for a pass (measured at d = 1000, 2 cores: ~10-15 us per row against ~0.6 ns per entry), so
    8 N / d rows cost a fraction of a pass. Floor: 20 d rows (relative error below ~0.25), except
    where those would cost more than _HESS_MIN_WORK multiply-adds (d > ~450): there the floor is
    _HESS_MIN_WORK / d^2 rows (4d at d = 1000; 20d rows made the old d = 1000 fits 2-3x slower
    than scikit-learn) and the L-BFGS pairs make up for the weaker preconditioner; never below 2d.
    Where the floor is too few (most weights zero, tiny lam) the iteration grows the subsample
    itself (_SLOW). Measured alternatives (N = 2e5, d = 1000): 32 N / d rows saved one pass of
    nine but cost the d = 100 fits ~10% in their subsample start.
    """
    floor = max(2 * d, min(20 * d, _HESS_MIN_WORK // (d * d)))
    n_sub = max(floor, min(100_000, _HESS_ROWS * n // d))
    return max(1, n // max(1, n_sub))


def _one_blas_thread(d: int):
    """Context running BLAS on one thread where d >= _ONE_THREAD_D.

    The Hessian (syrk in 4096-row blocks) and its 1000 x 1000 Cholesky factorization synchronise
    BLAS threads many times per call; on a machine with more runnable threads than cores each
    synchronisation waits for a time slice. Measured on 2 cores at load average 4.3: a 1000 x 1000
    Cholesky 2.7 s with the default threads against 0.05 s with one; the Hessians of a fit at
    N = 2e5, d = 1000, 1.3-1.5 s against 0.73 s. One thread also makes the result independent
    of the BLAS thread count. On a quiet machine it costs at most a factor 2 on the Hessian.
    """
    if d < _ONE_THREAD_D:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _cholesky(H, lam):
    """Cholesky factor of H (H + lam I if rounding spoiled definiteness, possible only for tiny lam)."""
    with _one_blas_thread(H.shape[0]):
        try:
            return cho_factor(H, lower=False, check_finite=False)
        except LinAlgError:
            return cho_factor(H + lam * np.eye(H.shape[0]), lower=False, check_finite=False)


def _remember(pairs, s, y):
    """Keep the secant pair (s, y) of the last step (L-BFGS memory), if its curvature is positive."""
    if _MEMORY and s @ y > 0:
        pairs.append((s, y, 1.0 / (s @ y)))
        del pairs[:-_MEMORY]


def _direction(g, chol, pairs):
    """L-BFGS two-loop recursion with the subsampled Hessian (Cholesky factor) as initial matrix."""
    r = g.copy()
    alphas = []
    for s, y, rho in reversed(pairs):
        a = rho * (s @ r)
        r -= a * y
        alphas.append(a)
    r = cho_solve(chol, r, check_finite=False)
    for (s, y, rho), a in zip(pairs, reversed(alphas)):
        r += (a - rho * (y @ r)) * s
    return r


def fit_ridge_logistic(
    X,
    y,
    lam: float,
    weights=None,
    tol: float = 1e-8,
    max_iter: int = 100,
    w0=None,
    _start: bool = False,
) -> np.ndarray:
    """Minimiser w of eq. (1): (1/N) sum_i q_i BCE(sigmoid(x_i . w), y_i) + (lam/2) |w|^2.

    Parameters
    ----------
    X : (N, d) array. Used in place when it is a C-contiguous float64 array (no copy is made, and
        no other N x d array is created); otherwise it is converted once.
    y : (N,) labels in {0, 1} (values in [0, 1], i.e. soft labels, are accepted too: BCE is
        defined for them).
    lam : ridge parameter lambda > 0 of eq. (1). The paper's gamma is N * lam.
    weights : (N,) per-example weights q_i >= 0 (the pruning bits of App. D.2); None means all 1.
        N in eq. (1) counts all rows, including those with q_i = 0.
    tol : stop when the Euclidean norm of the full-data gradient of eq. (1) is <= tol.
    max_iter : maximum number of full-data passes.
    w0 : optional starting point (default: this solver's solution on a subsample of rows).
    _start : internal (set on the recursive subsample solve).

    Returns
    -------
    w : (d,) float64 array with |grad L(w)| <= tol.

    Raises ``ConvergenceError`` (a ``ValueError``) carrying the iteration count and the last
    gradient norm when tol is not reached in max_iter passes, and ``ValueError`` on bad input.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-D array (N, d), got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise ValueError(f"X must be a real numeric array, got dtype {X.dtype}")
    X = np.ascontiguousarray(X, dtype=np.float64)
    n, d = X.shape
    y = np.ascontiguousarray(check_probability("y", y), dtype=np.float64)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    lam = float(check_positive("lam", lam))
    tol = float(check_positive("tol", tol))
    max_iter = check_count("max_iter", max_iter, 1)
    q = None
    if weights is not None:
        q = np.ascontiguousarray(check_positive("weights", weights, allow_zero=True), dtype=np.float64)
        if q.shape != (n,):
            raise ValueError(f"weights must have shape ({n},) to match X, got {q.shape}")

    stride = _subsample_stride(n, d)
    if w0 is not None:
        w = check_finite("w0", w0).copy()
        if w.shape != (d,):
            raise ValueError(f"w0 must have shape ({d},), got {w.shape}")
    elif stride > 1:
        # The subsample's own eq. (1) (normalised by its row count), solved the same way
        # (recursively, each level starting from a smaller one), gives a starting point within
        # the subsample's statistical error ~ sqrt(d / n_sub) of the full solution; solving it
        # more precisely than that would be wasted.
        sub = slice(0, n, stride)
        w = fit_ridge_logistic(
            X[sub], y[sub], lam, weights=None if q is None else q[sub],
            tol=max(tol, _INIT_TOL), max_iter=max_iter, _start=True,
        )
    else:
        w = np.zeros(d)

    f, g = _loss_grad(X, y, q, w, lam)
    if not (np.isfinite(f) and np.all(np.isfinite(g))):
        raise ValueError("X must contain only finite values (the objective at the start is not finite)")
    gnorm = float(np.linalg.norm(g))
    passes = 1
    chol = None
    pairs = []
    slow = 0  # consecutive slow steps
    # Exact Newton (float64 Hessian of all rows, refreshed) on the caller's own small problem; the
    # innermost start problem (stride 1, _start) takes L-BFGS steps on one float32 Hessian, and
    # exact Newton only after _SLOW_STEPS slow steps.
    newton = stride == 1 and not _start
    while gnorm > tol:
        if passes >= max_iter:
            raise ConvergenceError(f"fit_ridge_logistic did not reach tol={tol:g}", passes, gnorm)
        # From the subsample start w moves by ~1e-3 relative: the Hessian changes less than its
        # subsample error, and the L-BFGS pairs correct both, so one per subsample size is kept
        # (exact Newton always refreshes).
        if chol is None or newton:
            with _one_blas_thread(d):
                H = _sub_hessian(X, y, q, w, lam, stride, single=stride > 1 or _start)
            chol = _cholesky(H, lam)
        step = -cho_solve(chol, g, check_finite=False) if newton else -_direction(g, chol, pairs)
        # Fast path (no loss evaluation): take the full step if it cuts the gradient norm by 10%.
        # Strong convexity makes |grad L| a valid merit function: |w - w*| <= |grad L(w)| / lam.
        w_new = w + step
        _, g_new = _loss_grad(X, y, q, w_new, lam, with_loss=False)
        passes += 1
        g_new_norm = float(np.linalg.norm(g_new))
        if g_new_norm <= 0.9 * gnorm:
            slow = slow + 1 if g_new_norm > _SLOW * gnorm else 0
            if slow >= _SLOW_STEPS and not newton:
                stride, chol, slow = max(1, stride // 4), None, 0
                newton = stride == 1
            _remember(pairs, w_new - w, g_new - g)
            w, f, g, gnorm = w_new, np.nan, g_new, g_new_norm
            continue
        # Fallback: Armijo backtracking on L itself (step is a descent direction: H is PD)
        if not np.isfinite(f):
            f, _ = _loss_grad(X, y, q, w, lam)
            passes += 1
        slope = float(g @ step)
        # rounding error of the objective: N terms summed in float64
        slack = 64.0 * np.finfo(float).eps * (abs(f) + 1.0)
        t = 1.0
        while True:
            if passes >= max_iter:
                raise ConvergenceError(f"fit_ridge_logistic did not reach tol={tol:g}", passes, gnorm)
            w_new = w + t * step
            f_new, g_new = _loss_grad(X, y, q, w_new, lam)
            passes += 1
            g_new_norm = float(np.linalg.norm(g_new))
            armijo = f_new <= f + 1e-4 * t * slope
            flat = f_new <= f + slack and g_new_norm < gnorm
            if armijo or flat:
                break
            t *= 0.5
        slow = slow + 1 if g_new_norm > _SLOW * gnorm else 0
        if slow >= _SLOW_STEPS and not newton:
            stride, chol, slow = max(1, stride // 4), None, 0
            newton = stride == 1
        _remember(pairs, w_new - w, g_new - g)
        w, f, g, gnorm = w_new, f_new, g_new, g_new_norm
    return w
