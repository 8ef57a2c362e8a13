"""Fig. 3 (Sec. 4): relative error against the number n' of selected synthesized points.

Sec. 4.1: ``x | y ~ N(y tau w_*, I/d)``, y in {-1, +1}; an OLS generator fitted on N0 original
points labels N1 synthesized points through the sigmoid, ``P(y' = +1 | x) = sigma(x . w_gen)``;
a selector keeps points by eq. (5) with ``w_prune`` at angle theta from ``w_*`` (oracle: theta = 0);
the downstream model is fitted on n' selected points and scored by
``relative error = 1 - acc(w) / acc(Bayes)`` with both accuracies in closed form.

Settings the paper leaves open (docs/REPRODUCTION.md, "Section 4 and Figures 2, 3, 5"): d = 108,
the n' points are the first n' kept ones in generation order (a uniform draw of n' among the kept
points of the pool), the downstream estimator is OLS like the generator (min-norm when n' < d)
and, on the same selected points, ridge-logistic regression (eq. (1), ``logistic_lam``),
and w_theta turns w_* towards a random direction orthogonal to it (independent of the generator).

Memory: the pool is streamed in chunks; for OLS each method keeps only the running Gram ``X^T X``
and ``X^T y`` of its selected prefix (plus the first d rows for the min-norm solution below
n' = d), for ridge-logistic its first max(n') selected rows; no N1 x d array is ever alive.
Generation stops once every selector has its largest n' (the remaining pool points could not
change the first n' kept ones).
One resumable unit per (N0, seed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.special import expit

from beyond_collapse.numerics.bayes import bayes_accuracy, mixture_accuracy
from beyond_collapse.numerics.experiments._common import unit_rng
from beyond_collapse.numerics.samplers import linear_pruner, sample_gaussian_mixture
from beyond_collapse.runs import RUNS_DIR, pick_profile, run_unit, runs_folder

METHODS = ("clean", "oracle", "theta=pi/12", "theta=pi/6", "random")
_THETAS = {"oracle": 0.0, "theta=pi/12": np.pi / 12, "theta=pi/6": np.pi / 6}


@dataclass(frozen=True, kw_only=True)
class Fig3Config:
    n0_values: tuple[int, ...]   # original data sizes N0 (one panel each)
    n1: int                      # synthesized pool size N1
    n_prime: tuple[int, ...]     # selected data sizes n'
    seeds: int
    d: int = 108                 # Phi(0.15 sqrt(108)) = 0.9405: the paper's "approximately 94%"
    tau: float = 0.15
    chunk: int = 50_000          # pool rows generated at once (memory: chunk x d floats)
    logistic_lam: float | None = 1e-3  # also fit ridge-logistic (eq. (1)) on the same points; None: OLS only


def _grid(lo: float, hi: float, per_decade: int) -> tuple[int, ...]:
    return tuple(int(v) for v in np.unique(np.round(np.logspace(lo, hi, int((hi - lo) * per_decade) + 1))))


CONFIGS = {  # one per name of runs.PROFILES; read through get_profile
    "quick": Fig3Config(n0_values=(100, 300, 900), n1=100_000, n_prime=_grid(1, 4, 3), seeds=2),
    "cpu": Fig3Config(n0_values=(100, 300, 900), n1=1_000_000, n_prime=_grid(1, 5, 4), seeds=5),
    "paper": Fig3Config(n0_values=(100, 300, 900), n1=1_000_000, n_prime=_grid(1, 5, 4), seeds=10),
}


def get_profile(profile: str) -> Fig3Config:
    """The config of ``profile`` (one of ``runs.PROFILES``); ``ValueError`` for another name."""
    return pick_profile(profile, CONFIGS)


class _PrefixOLS:
    """Running Gram of a stream of (x, y) rows, solved at each n' of the grid (in order).

    Below n' = d the least-squares problem is underdetermined; the first d rows are kept (d x d
    floats) for the min-norm solution ``X^T (X X^T)^-1 y``. From n' = d on, ``(X^T X)^-1 X^T y``.
    """

    def __init__(self, d: int, n_prime: tuple[int, ...]):
        self.gram = np.zeros((d, d))
        self.xty = np.zeros(d)
        self.head_x: list[np.ndarray] = []
        self.head_y: list[np.ndarray] = []
        self.count = 0
        self.n_prime = n_prime
        self.weights: list[np.ndarray] = []

    @property
    def done(self) -> bool:
        return len(self.weights) == len(self.n_prime)

    def _solve(self) -> np.ndarray:
        d = self.gram.shape[0]
        if self.count >= d:
            return np.linalg.solve(self.gram, self.xty)
        X, y = np.concatenate(self.head_x), np.concatenate(self.head_y)
        return X.T @ np.linalg.solve(X @ X.T, y)

    def add(self, X: np.ndarray, y: np.ndarray) -> None:
        d = self.gram.shape[0]
        start = 0
        while start < len(X) and not self.done:
            take = min(len(X) - start, self.n_prime[len(self.weights)] - self.count)
            block, target = X[start:start + take], y[start:start + take]
            if self.count < d:
                self.head_x.append(block[: d - self.count])
                self.head_y.append(target[: d - self.count])
            self.gram += block.T @ block
            self.xty += block.T @ target
            self.count += take
            start += take
            if self.count == self.n_prime[len(self.weights)]:
                self.weights.append(self._solve())


class _PrefixLogistic:
    """Keeps the first max(n') rows of a stream and fits eq. (1) (ridge-logistic) on each prefix.

    Memory: max(n') x d floats per method, never N1 x d. Warm starts along the grid (eq. (1) is
    strongly convex: the minimiser does not depend on the start).
    """

    def __init__(self, d: int, n_prime: tuple[int, ...], lam: float):
        self.rows = np.empty((n_prime[-1], d))
        self.labels = np.empty(n_prime[-1])
        self.count = 0
        self.n_prime = n_prime
        self.lam = lam
        self.weights: list[np.ndarray] = []

    @property
    def done(self) -> bool:
        return len(self.weights) == len(self.n_prime)

    def add(self, X: np.ndarray, y: np.ndarray) -> None:
        from beyond_collapse.numerics import fit_ridge_logistic

        take = min(len(X), len(self.rows) - self.count)
        self.rows[self.count:self.count + take] = X[:take]
        self.labels[self.count:self.count + take] = 0.5 * (y[:take] + 1.0)  # {-1, 1} -> {0, 1}
        self.count += take
        while not self.done and self.count >= self.n_prime[len(self.weights)]:
            n = self.n_prime[len(self.weights)]
            w0 = self.weights[-1] if self.weights else None
            self.weights.append(fit_ridge_logistic(self.rows[:n], self.labels[:n], self.lam, tol=1e-8, w0=w0))


def ols(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Min-norm least-squares fit (the generator of Sec. 4.1)."""
    return np.linalg.lstsq(X, y, rcond=None)[0]


def feed(fits: dict, method: str, X: np.ndarray, y: np.ndarray) -> None:
    """Pass selected rows to every estimator of ``method`` that still needs rows."""
    for key in (method, f"logistic:{method}"):
        if key in fits and not fits[key].done:
            fits[key].add(X, y)


def relative_error_curves(cfg: Fig3Config, n0: int, seed: int, base_seed: int = 0) -> dict:
    """Relative error of every method along the n' grid, for one (N0, seed)."""
    d = cfg.d
    w_star = np.zeros(d)
    w_star[0] = 1.0
    mu, noise = cfg.tau * w_star, 1.0 / np.sqrt(d)
    rng = unit_rng(base_seed, 3, n0, seed)
    X0, y0 = sample_gaussian_mixture(n0, mu=mu, noise_std=noise, rng=rng)
    w_gen = ols(X0, 2.0 * y0 - 1.0)
    prunes = {}
    for name, theta in _THETAS.items():
        u = rng.standard_normal(d)
        u[0] = 0.0  # orthogonal to w_* = e_1
        prunes[name] = np.cos(theta) * w_star + np.sin(theta) * u / np.linalg.norm(u)
    fits = {m: _PrefixOLS(d, cfg.n_prime) for m in METHODS}
    if cfg.logistic_lam is not None:
        fits.update({f"logistic:{m}": _PrefixLogistic(d, cfg.n_prime, cfg.logistic_lam) for m in METHODS})
    generated, kept = 0, dict.fromkeys(METHODS[1:], 0)
    while generated < cfg.n1 and not all(fit.done for m, fit in fits.items() if not m.endswith("clean")):
        m_rows = min(cfg.chunk, cfg.n1 - generated)
        X, _ = sample_gaussian_mixture(m_rows, mu=mu, noise_std=noise, rng=rng)  # true labels unseen
        y_syn = (rng.random(m_rows) < expit(X @ w_gen)).astype(np.int8)
        signed = 2.0 * y_syn - 1.0
        generated += m_rows
        feed(fits, "random", X, signed)
        kept["random"] += m_rows
        for name, w_prune in prunes.items():
            q = linear_pruner(X, y_syn, w_prune).astype(bool)
            kept[name] += int(q.sum())
            feed(fits, name, X[q], signed[q])
    while not fits["clean"].done:
        X, y = sample_gaussian_mixture(min(cfg.chunk, cfg.n_prime[-1]), mu=mu, noise_std=noise, rng=rng)
        feed(fits, "clean", X, 2.0 * y - 1.0)
    acc_bayes = bayes_accuracy(mu_norm=cfg.tau, noise_std=noise)
    curves = {}
    for m, fit in fits.items():
        acc = [mixture_accuracy(w, mu=mu, noise_std=noise) for w in fit.weights]
        rel = [1.0 - a / acc_bayes for a in acc]
        curves[m] = rel + [float("nan")] * (len(cfg.n_prime) - len(rel))  # pool exhausted: no fit
    return {
        "n_prime": list(cfg.n_prime),
        "relative_error": {m: curves[m] for m in METHODS},
        "relative_error_logistic": {m: curves[f"logistic:{m}"] for m in METHODS} if cfg.logistic_lam else None,
        "generator_relative_error": 1.0 - mixture_accuracy(w_gen, mu=mu, noise_std=noise) / acc_bayes,
        "pool_generated": generated, "kept_in_generated": kept, "bayes_accuracy": acc_bayes,
    }


def theory_plateau(config: dict, n0: int, seed: int, base_seed: int = 0) -> dict:
    """Relative error that the high-dimensional learning curve (issue 16) predicts at the largest n'
    for the oracle selector (theta = 0) and for clean data, and the oracle's plateau (n' = 1e9), with the OLS and the ridge-logistic
    downstream fit, given this unit's generator.

    The generator is recomputed from the unit's seed stream exactly as in
    :func:`relative_error_curves` (its OLS fit comes first in the stream); its angle to w_* and its
    norm fix the sigmoid label channel. The downstream fits use n' kept rows and no pruned ones, so
    in eq. (1)'s normalisation N = n' / kept fraction rows and ridge lam * kept fraction; OLS is the
    square loss at a vanishing ridge (1e-9).
    """
    from beyond_collapse.numerics.learning_curves import rlhf_learning_curve, supervised_learning_curve

    d, tau = config["d"], config["tau"]
    mu, noise = np.zeros(d), 1.0 / np.sqrt(d)
    mu[0] = tau
    X0, y0 = sample_gaussian_mixture(n0, mu=mu, noise_std=noise, rng=unit_rng(base_seed, 3, n0, seed))
    w_gen = ols(X0, 2.0 * y0 - 1.0)
    norm = float(np.linalg.norm(w_gen))
    theta_gen = float(np.arccos(np.clip(w_gen[0] / norm, -1.0, 1.0)))
    snr, n_prime = tau / noise, config["n_prime"][-1]
    acc_bayes = float(bayes_accuracy(mu_norm=tau, noise_std=noise))
    oracle = dict(snr=snr, theta_gen=theta_gen, theta_prune=0.0, theta=theta_gen, generator="sigmoid",
                  gen_scale=norm * noise)
    kept = float(supervised_learning_curve(1.0, ridge=1.0, **oracle).kept_fraction)
    out = {"theta_gen": theta_gen, "gen_scale": norm * noise, "kept_fraction": kept}
    fits = {"ols": ("square", 1e-9)}
    if config.get("logistic_lam") is not None:
        fits["logistic"] = ("logistic", config["logistic_lam"])
    for est, (loss, lam) in fits.items():
        # ridge on b = w / noise: lam / noise^2, times the kept fraction for eq. (1)'s normalisation
        # at the largest n', and at n' = 1e9 (the plateau: the population limit of the kept distribution)
        o = supervised_learning_curve(np.array([n_prime, 1e9]) / (d * kept), ridge=lam * kept / noise**2, loss=loss,
                                      **oracle)
        c = rlhf_learning_curve(n_prime / d, p=0.0, phi=1.0, psi=1.0, snr=snr, ridge=lam / noise**2, loss=loss)
        out[est] = {"oracle": 1.0 - float(o.accuracy_true[0]) / acc_bayes,
                    "oracle_limit": 1.0 - float(o.accuracy_true[1]) / acc_bayes,
                    "clean": 1.0 - float(c.accuracy_true) / acc_bayes}
    return out


def run(profile: str = "quick", runs_dir: str | Path | None = None, base_seed: int = 0, progress: bool = True) -> dict:
    """Run (or resume) Fig. 3 on ``profile``, with its resumable units in ``runs_dir`` (default
    ``runs_folder("runs", profile, "fig3")``); returns per-seed curves and their mean and spread."""
    from tqdm import tqdm

    cfg = get_profile(profile)
    runs_dir = runs_folder(RUNS_DIR, profile, "fig3") if runs_dir is None else Path(runs_dir)
    config = asdict(cfg)
    units = [(n0, s) for n0 in cfg.n0_values for s in range(cfg.seeds)]
    per = {n0: [] for n0 in cfg.n0_values}
    for n0, seed in tqdm(units, desc="fig3", disable=not progress):
        rec = run_unit(runs_dir / f"n0{n0}_seed{seed}.json", lambda: relative_error_curves(cfg, n0, seed, base_seed),
                       config={**config, "n0": n0, "base_seed": base_seed}, seed=seed)
        per[n0].append(rec["metrics"])
    estimators = {"ols": "relative_error"}
    if cfg.logistic_lam is not None:
        estimators["logistic"] = "relative_error_logistic"
    summary = {}
    for est, key in estimators.items():
        summary[est] = {}
        for n0 in cfg.n0_values:
            summary[est][n0] = {"generator": float(np.mean([r["generator_relative_error"] for r in per[n0]]))}
            for m in METHODS:
                arr = np.array([[np.nan if v is None else v for v in r[key][m]] for r in per[n0]], dtype=float)
                with np.errstate(all="ignore"):
                    summary[est][n0][m] = {"mean": np.nanmean(arr, axis=0).tolist(),
                                           "min": np.nanmin(arr, axis=0).tolist(), "max": np.nanmax(arr, axis=0).tolist()}
    return {"profile": profile, "config": config, "n_prime": list(cfg.n_prime), "summary": summary,
            "theory_plateau": theory_plateaus(config, base_seed), "runs": per}


def theory_plateaus(config: dict, base_seed: int = 0) -> dict:
    """:func:`theory_plateau` averaged over the seeds, per N0 and downstream estimator."""
    out = {}
    for n0 in config["n0_values"]:
        per_seed = [theory_plateau(config, n0, s, base_seed) for s in range(config["seeds"])]
        out[n0] = {est: {m: float(np.mean([r[est][m] for r in per_seed])) for m in ("oracle", "oracle_limit", "clean")}
                   for est in per_seed[0] if est in ("ols", "logistic")}
        out[n0]["kept_fraction"] = float(np.mean([r["kept_fraction"] for r in per_seed]))
    return out


def plot(result: dict, path: Path) -> Path:
    """Fig. 3: one panel per N0 (a row per downstream estimator), relative error against n'
    (mean over seeds, band: min to max)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from beyond_collapse.numerics.experiments._common import save_figure

    cfg = result["config"]
    n0s = cfg["n0_values"]
    ests = list(result["summary"])
    fig, grid = plt.subplots(len(ests), len(n0s), figsize=(4.2 * len(n0s), 3.6 * len(ests)), squeeze=False)
    x = np.asarray(result["n_prime"])
    styles = {"clean": ("k", "Oracle data (clean)"), "theta=pi/12": ("C0", "Weak sup. theta=pi/12"),
              "theta=pi/6": ("C1", "Weak sup. theta=pi/6"), "oracle": ("C2", "Oracle selection"),
              "random": ("C3", "Random selection")}
    for est, axes in zip(ests, grid):
        for ax, n0 in zip(axes, n0s):
            s = result["summary"][est][n0]
            for m, (color, label) in styles.items():
                ax.plot(x, s[m]["mean"], "o-", ms=3, color=color, label=label)
                ax.fill_between(x, s[m]["min"], s[m]["max"], color=color, alpha=0.15, lw=0)
            ax.axhline(s["generator"], color="gray", ls=":", lw=1, label="generator")
            plateau = result.get("theory_plateau", {})  # absent in results written before issue 16
            plateau = plateau.get(n0, plateau.get(str(n0)))
            if plateau is not None:
                ax.axhline(plateau[est]["oracle"], color="C2", ls="--", lw=1, label="oracle at max n' (theory)")
                ax.axhline(plateau[est]["oracle_limit"], color="C2", ls=":", lw=1, label="oracle plateau, n' -> inf (theory)")
                ax.axhline(plateau[est]["clean"], color="k", ls="--", lw=1, label="clean at max n' (theory)")
            ax.set(xscale="log", yscale="log", xlabel="number of selected synthesized data n'",
                   ylabel="relative error", title=f"{est} downstream: N0={n0}, d={cfg['d']}, tau={cfg['tau']}")
        axes[0].legend(fontsize=6)
    return save_figure(fig, path)
