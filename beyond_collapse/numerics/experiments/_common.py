"""Shared pieces of the simulations: seeds, the pruned fit of eq. (1), breakdown measurement, plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np

def unit_rng(base_seed: int, *keys: int) -> np.random.Generator:
    """An independent stream per unit, reproducible from (base seed, unit keys) alone."""
    return np.random.default_rng([int(base_seed), *map(int, keys)])


def fit_pruned(X: np.ndarray, y_syn: np.ndarray, kept: np.ndarray, lam: float, tol: float = 1e-8,
               w0: np.ndarray | None = None) -> np.ndarray:
    """Minimiser of eq. (1), ``(1/N) sum_i q_i l(sigma(x_i . w), y'_i) + lam/2 ||w||^2``.

    Only kept rows enter the loss, so the minimiser equals that of the mean loss over the kept rows
    with ridge ``lam N / N_kept``; fitting on those rows alone costs N_kept instead of N. With
    nothing kept the minimiser is ``w = 0``. ``w0`` only sets the starting point (eq. (1) is
    strongly convex, so the minimiser does not depend on it).
    """
    from beyond_collapse.numerics import fit_ridge_logistic

    idx = np.flatnonzero(kept)
    if idx.size == 0:
        return np.zeros(X.shape[1])
    if w0 is not None and not np.any(w0):
        w0 = None
    return np.asarray(fit_ridge_logistic(X[idx], y_syn[idx].astype(np.float64), lam * X.shape[0] / idx.size,
                                         tol=tol, w0=w0))


def measured_breakdown(grid, acc, threshold: float) -> tuple[float, float]:
    """``p_up = sup{p in grid : acc(p) >= threshold}`` (Fig. 5 right) and the next grid point.

    The true crossing lies in ``[p_up, next)`` up to seed noise; ``nan`` if no grid point passes,
    and ``next = p_up`` when the last grid point passes (the crossing is then beyond the grid).
    """
    grid = np.asarray(grid, dtype=float)
    ok = np.flatnonzero(np.asarray(acc) >= threshold)
    if ok.size == 0:
        return float("nan"), float(grid[0])
    i = int(ok[-1])
    return float(grid[i]), float(grid[min(i + 1, grid.size - 1)])


def seed_summary(values) -> dict:
    """Mean, standard deviation and count over seeds, ignoring nan (no crossing)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": float("nan"), "std": float("nan"), "n": 0}
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0, "n": int(v.size)}


def new_figure(ncols: int = 1, width: float = 5.0, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, axes[0]


def save_figure(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

