"""Fig. 2 (Sec. 3.4): supervised pruning (eq. (5)) with a linear generator and a linear pruner at
given angles; breakdown predicted from the theory's rates against breakdown measured.

For each pruner angle ``theta_prune`` the generator angle ``theta_gen`` sweeps (0, pi); the angle
``theta`` between generator and pruner follows a coupling rule (``coupling``):
``"independent"`` (default): ``cos theta = cos theta_gen cos theta_prune``, the two directions'
components orthogonal to mu are orthogonal, as for independent errors in high dimension;
``"same-side"``: ``theta = |theta_gen - theta_prune|``; ``"opposite"``: ``theta = theta_gen +
theta_prune`` (folded into [0, pi]).
Two data models (``sample_supervised_dataset``): ``"isotropic"`` (x ~ N(0, I/d), label
1[x . mu > 0]; Fig. 2's caption, p = theta_gen / pi) and ``"mixture"`` (App. D.6).
Predicted breakdown: the first theta_gen where p = p*(phi, psi) with the theory's rates
(``isotropic_rates``, ``gaussian_mixture_rates``). Measured: the largest theta_gen on the grid
where the fitted model's accuracy against the Bayes classifier is >= the threshold.
One resumable unit per (data model, theta_prune, seed) holds the theta_gen sweep.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from beyond_collapse._validation import check_choice
from beyond_collapse.numerics.bayes import accuracy_vs_bayes
from beyond_collapse.numerics.experiments._common import (
    fit_pruned, measured_breakdown, profile_config, seed_summary, unit_rng,
)
from beyond_collapse.numerics.samplers import mixture_mean, sample_supervised_dataset
from beyond_collapse.runs import run_unit

COUPLINGS = ("independent", "same-side", "opposite")
DATA = ("isotropic", "mixture")


@dataclass(frozen=True)
class Fig2Config:
    n: int                           # synthesized examples before pruning
    d: int
    mu_norm: float                   # mixture only (the isotropic model uses mu's direction alone)
    lam: float                       # ridge lambda of eq. (1)
    theta_prunes: tuple[float, ...]  # pruner angles to mu, in units of pi
    steps: int                       # theta_gen grid: steps intervals on [0, pi], ends excluded
    seeds: int
    coupling: str = "independent"
    thresholds: tuple[float, ...] = (0.9, 0.5)


_PRUNES = (0.0, 1 / 12, 1 / 6, 1 / 4, 1 / 3)
PROFILES = {
    "quick": Fig2Config(n=1500, d=100, mu_norm=0.2, lam=1e-2, theta_prunes=_PRUNES, steps=36, seeds=2),
    "cpu": Fig2Config(n=5000, d=200, mu_norm=0.15, lam=1e-2, theta_prunes=_PRUNES, steps=72, seeds=5),
    "paper": Fig2Config(n=20000, d=500, mu_norm=0.1, lam=1e-2, theta_prunes=_PRUNES, steps=144, seeds=10),
}


def coupled_theta(theta_gen, theta_prune, coupling: str = "independent"):
    """The generator-pruner angle theta of eq. (6) under a coupling rule (see module docstring)."""
    check_choice("coupling", coupling, COUPLINGS)
    tg, tp = np.asarray(theta_gen, dtype=float), np.asarray(theta_prune, dtype=float)
    if coupling == "independent":
        return np.arccos(np.clip(np.cos(tg) * np.cos(tp), -1.0, 1.0))
    if coupling == "same-side":
        return np.abs(tg - tp)
    return np.minimum(tg + tp, 2 * np.pi - tg - tp)


def theta_grid(cfg: Fig2Config) -> np.ndarray:
    return np.pi * np.arange(1, cfg.steps) / cfg.steps


def _rates(data: str, cfg: Fig2Config, tg: float, tp: float, t: float):
    from beyond_collapse.theory import gaussian_mixture_rates, isotropic_rates

    if data == "isotropic":
        return isotropic_rates(tg, tp, t)
    return gaussian_mixture_rates(cfg.mu_norm, cfg.d, tg, tp, t)


def predicted_breakdown(cfg: Fig2Config, data: str, theta_prune: float, resolution: int = 400) -> float | None:
    """First theta_gen in (0, pi) where p - p*(phi, psi) changes sign (theory's rates), by bisection
    on a fine grid; None when p < p* on the whole range."""
    grid = np.pi * np.arange(1, resolution) / resolution

    def gap(tg):
        r = _rates(data, cfg, tg, theta_prune, float(coupled_theta(tg, theta_prune, cfg.coupling)))
        return float(r.p) - float(r.p_star)

    values = np.array([gap(tg) for tg in grid])
    cross = np.flatnonzero((values[:-1] < 0) & (values[1:] >= 0))
    if cross.size == 0:
        return None
    lo, hi = grid[cross[0]], grid[cross[0] + 1]
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if gap(mid) < 0 else (lo, mid)
    return 0.5 * (lo + hi)


def accuracy_curve(cfg: Fig2Config, data: str, theta_prune: float, seed: int, base_seed: int = 0) -> dict:
    """Accuracy against the Bayes classifier along the theta_gen grid for one (data, theta_prune, seed)."""
    mu = mixture_mean(cfg.d, cfg.mu_norm)
    acc, kept, err, w = [], [], [], None
    for tg in theta_grid(cfg):
        t = float(coupled_theta(tg, theta_prune, cfg.coupling))
        # same seed at every theta_gen: the same x, so curves vary with the angles only
        X, y, y_syn, q = sample_supervised_dataset(
            cfg.n, d=cfg.d, mu_norm=cfg.mu_norm, theta_gen=tg, theta_prune=theta_prune, theta=t,
            rng=unit_rng(base_seed, 2, DATA.index(data), seed), data=data)
        w = fit_pruned(X, y_syn, q, cfg.lam, w0=w)
        # isotropic model: the Bayes classifier 1[x.mu > 0] of a centred Gaussian is the b -> 0 limit
        acc.append(accuracy_vs_bayes(w, mu=mu, noise_std=None if data == "mixture" else 1e12))
        kept.append(int(q.sum()))
        err.append(float(np.mean(y_syn != y)))
    return {"theta_gen": theta_grid(cfg), "accuracy": acc, "kept": kept, "generator_error": err}


def run(profile: str = "quick", runs_dir: str | Path = "runs/quick", base_seed: int = 0, progress: bool = True) -> dict:
    """Run (or resume) Fig. 2 on ``profile``; returns curves and the predicted/measured breakdown table."""
    from tqdm import tqdm

    cfg = profile_config(PROFILES, profile)
    runs_dir = Path(runs_dir) / "fig2"
    config = asdict(cfg)
    units = [(data, tp, s) for data in DATA for tp in cfg.theta_prunes for s in range(cfg.seeds)]
    curves: dict = {(data, tp): [] for data in DATA for tp in cfg.theta_prunes}
    for data, tp, seed in tqdm(units, desc="fig2", disable=not progress):
        rec = run_unit(runs_dir / f"{data}_prune{tp * 180:g}deg_seed{seed}.json",
                       lambda: accuracy_curve(cfg, data, np.pi * tp, seed, base_seed),
                       config={**config, "data": data, "theta_prune": tp, "base_seed": base_seed}, seed=seed)
        curves[(data, tp)].append(rec["metrics"])
    grid = theta_grid(cfg) / np.pi
    rows = []
    for (data, tp), cs in curves.items():
        pred = predicted_breakdown(cfg, data, np.pi * tp)
        row = {"data": data, "theta_prune": tp, "predicted": None if pred is None else pred / np.pi,
               "grid_step": 1.0 / cfg.steps}
        for thr in cfg.thresholds:
            row[f"measured_{thr:g}"] = seed_summary([measured_breakdown(grid, c["accuracy"], thr)[0] for c in cs])
        rows.append(row)
    mean_acc = {f"{data}:{tp:g}": np.mean([c["accuracy"] for c in cs], axis=0).tolist() for (data, tp), cs in curves.items()}
    mean_err = {f"{data}:{tp:g}": np.mean([c["generator_error"] for c in cs], axis=0).tolist() for (data, tp), cs in curves.items()}
    return {"profile": profile, "config": config, "theta_gen_over_pi": grid.tolist(), "mean_accuracy": mean_acc,
            "mean_generator_error": mean_err, "breakdown": rows}


def plot(result: dict, path: Path) -> Path:
    """Fig. 2: accuracy against theta_gen / pi per pruner angle; dashed lines: predicted breakdown."""
    from beyond_collapse.numerics.experiments._common import new_figure, save_figure

    cfg = result["config"]
    fig, axes = new_figure(len(DATA))
    x = np.asarray(result["theta_gen_over_pi"])
    for ax, data in zip(axes, DATA):
        for i, row in enumerate(r for r in result["breakdown"] if r["data"] == data):
            tp = row["theta_prune"]
            ax.plot(x, 100 * np.asarray(result["mean_accuracy"][f"{data}:{tp:g}"]), "o-", ms=2.5, color=f"C{i}",
                    label=f"theta_prune = {tp:.3g} pi")
            if row["predicted"] is not None:
                ax.axvline(row["predicted"], color=f"C{i}", ls="--", lw=1)
        extra = "" if data == "isotropic" else f", ||mu||={cfg['mu_norm']}"
        ax.set(xlabel="theta_gen / pi", ylabel="accuracy vs Bayes (%)",
               title=f"{data}: N={cfg['n']}, d={cfg['d']}{extra}\n{cfg['coupling']} coupling; dashed: theory")
        ax.legend(fontsize=6)
    return save_figure(fig, path)
