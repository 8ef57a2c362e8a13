"""Fig. 5 (App. D.5): accuracy against the generator's error rate p under RLHF-type pruning (phi, psi),
and the measured breakdown point ``p_up = sup{p : acc >= 90%}`` against ``p-*(t = 0.1)`` of eq. (19).

Data: the balanced isotropic Gaussian mixture (E||x||^2 = 1) in the high-dimensional regime of
Condition D.1 (d large against log N); labels flipped independently with probability p (a generator
with error rate p whose errors ignore x); keep bits with (phi, psi) (Assumption 3.1); ridge-logistic
fit of eq. (1); accuracy against the Bayes classifier in closed form (``accuracy_vs_bayes``).
One resumable unit per (psi/phi, seed) holds the whole p sweep of that curve; the same seed reuses
the same data and uniforms at every p and ratio (common random numbers), so curves differ only by p.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from beyond_collapse.numerics.bayes import accuracy_vs_bayes
from beyond_collapse.numerics.experiments._common import (
    fit_pruned, measured_breakdown, seed_summary, unit_rng,
)
from beyond_collapse.numerics.samplers import flip_labels, mixture_mean, rlhf_prune, sample_gaussian_mixture
from beyond_collapse.runs import RUNS_DIR, pick_profile, run_unit, runs_folder


@dataclass(frozen=True, kw_only=True)
class Fig5Config:
    n: int                      # synthesized examples before pruning (N)
    d: int                      # dimension; Condition D.1 needs d large against log N
    mu_norm: float              # ||mu||; a = ||mu||^2 = -b in Condition D.1 (eq. (9))
    lam: float                  # ridge lambda of eq. (1)
    ratios: tuple[float, ...]   # psi/phi values (Fig. 5 right); phi = 1 if psi/phi <= 1 else psi = 1
    left_ratios: tuple[float, ...]  # the curves drawn on Fig. 5 left
    p_step: float               # grid spacing of p on [0, 1 - p_step]
    seeds: int
    threshold: float = 0.9      # "acc >= 90%" of Fig. 5 right
    t: float = 0.1              # p-*(t) of eq. (19) drawn on Fig. 5 right


_RATIOS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0)
_LEFT = (0.0, 0.2, 0.5, 1.0, 2.0)
CONFIGS = {  # one per name of runs.PROFILES; read through get_profile
    "quick": Fig5Config(n=1000, d=200, mu_norm=0.5, lam=1e-2, ratios=_RATIOS, left_ratios=_LEFT, p_step=0.025, seeds=3),
    "cpu": Fig5Config(n=3000, d=600, mu_norm=0.5, lam=1e-2, ratios=_RATIOS, left_ratios=_LEFT, p_step=0.01, seeds=5),
    "paper": Fig5Config(n=10000, d=2000, mu_norm=0.5, lam=1e-2, ratios=_RATIOS, left_ratios=_LEFT, p_step=0.005, seeds=10),
}


def get_profile(profile: str) -> Fig5Config:
    """The config of ``profile`` (one of ``runs.PROFILES``); ``ValueError`` for another name."""
    return pick_profile(profile, CONFIGS)


def keep_rates(ratio: float) -> tuple[float, float]:
    """(phi, psi) with psi/phi = ratio and max(phi, psi) = 1."""
    return (1.0, float(ratio)) if ratio <= 1 else (1.0 / ratio, 1.0)


def p_grid(cfg: Fig5Config) -> np.ndarray:
    return np.round(np.arange(0.0, 1.0 - 0.5 * cfg.p_step, cfg.p_step), 10)


def accuracy_curve(cfg: Fig5Config, ratio: float, seed: int, base_seed: int = 0) -> dict:
    """Accuracy against the Bayes classifier along the p grid for one (psi/phi, seed)."""
    phi, psi = keep_rates(ratio)
    mu = mixture_mean(cfg.d, cfg.mu_norm)
    X, y = sample_gaussian_mixture(cfg.n, mu=mu, rng=unit_rng(base_seed, 5, seed, 0))
    acc, kept, w = [], [], None
    for p in p_grid(cfg):
        # fresh generators from fixed seeds: the same uniforms at every p and ratio (common random numbers)
        y_syn = flip_labels(y, p, rng=unit_rng(base_seed, 5, seed, 1))
        q = rlhf_prune(y, y_syn, phi=phi, psi=psi, rng=unit_rng(base_seed, 5, seed, 2))
        w = fit_pruned(X, y_syn, q, cfg.lam, w0=w)  # warm start: same minimiser, fewer passes
        acc.append(accuracy_vs_bayes(w, mu=mu))
        kept.append(int(q.sum()))
    return {"p": p_grid(cfg), "accuracy": acc, "kept": kept}


def finite_n_prediction(cfg: Fig5Config, ratio: float, iterations: int = 17) -> dict:
    """Largest p where the exact finite-N probability of Prop. E.3's success event (kept-wrong count
    below kept-right count, multinomial sampling of App. D.3; the solvers' ``success_probability``)
    is still >= 1/2 and >= 0.9. That probability decreases in p (fewer right, more wrong labels
    kept), so bisection finds each crossing to 2^-iterations."""
    from beyond_collapse.numerics import success_probability

    phi, psi = keep_rates(ratio)

    def prob(p: float) -> float:
        return float(success_probability(cfg.n, p, phi, psi).probability)

    out = {}
    for key, level in (("p_half", 0.5), ("p_09", 0.9)):
        lo, hi = 0.0, 1.0
        if prob(lo) < level:
            out[key] = None
            continue
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if prob(mid) >= level else (lo, mid)
        out[key] = lo
    return out


def theory_accuracy(config: dict, p) -> dict[float, list[float]]:
    """The high-dimensional learning curve (issue 16, ``numerics.learning_curves``) of each psi/phi
    along ``p``: the accuracy eq. (1) reaches at this N, d in the proportional limit."""
    from beyond_collapse.numerics.learning_curves import proportional_parameters, rlhf_learning_curve

    alpha, snr, ridge = proportional_parameters(config["n"], config["d"], config["mu_norm"], config["lam"])
    out = {}
    for ratio in config["ratios"]:
        phi, psi = keep_rates(ratio)
        curve = rlhf_learning_curve(alpha, p=np.asarray(p), phi=phi, psi=psi, snr=snr, ridge=ridge)
        out[ratio] = np.atleast_1d(curve.accuracy).tolist()
    return out


def run(profile: str = "quick", runs_dir: str | Path | None = None, base_seed: int = 0, progress: bool = True) -> dict:
    """Run (or resume) Fig. 5 on ``profile``, with its resumable units in ``runs_dir`` (default
    ``runs_folder("runs", profile, "fig5")``); returns curves and the breakdown table."""
    from tqdm import tqdm

    from beyond_collapse.theory import breakdown_bounds, breakdown_point

    cfg = get_profile(profile)
    runs_dir = runs_folder(RUNS_DIR, profile, "fig5") if runs_dir is None else Path(runs_dir)
    config = asdict(cfg)
    units = [(r, s) for r in cfg.ratios for s in range(cfg.seeds)]
    curves: dict[float, list] = {r: [] for r in cfg.ratios}
    for ratio, seed in tqdm(units, desc="fig5", disable=not progress):
        rec = run_unit(runs_dir / f"ratio{ratio:g}_seed{seed}.json",
                       lambda: accuracy_curve(cfg, ratio, seed, base_seed),
                       config={**config, "ratio": ratio, "base_seed": base_seed}, seed=seed)
        curves[ratio].append(rec["metrics"])
    grid = p_grid(cfg)
    rows = []
    for ratio in cfg.ratios:
        phi, psi = keep_rates(ratio)
        p_ups = [measured_breakdown(grid, c["accuracy"], cfg.threshold)[0] for c in curves[ratio]]
        p_minus, _ = breakdown_bounds(phi, psi, cfg.t)
        rows.append({
            "ratio": ratio, "phi": phi, "psi": psi,
            "p_star": breakdown_point(phi, psi), "p_minus_t": p_minus,
            "p_up": seed_summary(p_ups), "p_up_per_seed": p_ups, "grid_step": cfg.p_step,
            "finite_n": finite_n_prediction(cfg, ratio),
        })
    mean_acc = {r: np.mean([c["accuracy"] for c in curves[r]], axis=0).tolist() for r in cfg.ratios}
    return {"profile": profile, "config": config, "p": grid.tolist(), "mean_accuracy": mean_acc,
            "theory_accuracy": theory_accuracy(config, grid),
            "curves": {r: curves[r] for r in cfg.ratios}, "breakdown": rows}


def plot(result: dict, path: Path) -> Path:
    """Fig. 5: left, accuracy against p with p* marked; right, measured p_up against p-*(t)."""
    from beyond_collapse.numerics.experiments._common import new_figure, save_figure

    cfg = result["config"]
    fig, (left, right) = new_figure(2)
    p = np.asarray(result["p"])
    rows = {row["ratio"]: row for row in result["breakdown"]}
    for i, ratio in enumerate(cfg["left_ratios"]):
        color = f"C{i}"
        left.plot(p, 100 * np.asarray(result["mean_accuracy"][ratio]), "o", ms=3, color=color, label=f"psi/phi={ratio:g}")
        if "theory_accuracy" in result:  # results written before issue 16 have no theory curve
            left.plot(p, 100 * np.asarray(result["theory_accuracy"][ratio]), "-", lw=1, color=color)
        left.axvline(rows[ratio]["p_star"], color=color, ls="--", lw=1)
    left.set(xlabel="generator error rate p", ylabel="accuracy vs Bayes (%)",
             title=f"N={cfg['n']}, d={cfg['d']}, ||mu||={cfg['mu_norm']}\n(dots: simulation; lines: learning curve; dashed: p*)")
    left.legend(fontsize=7)
    ratios = np.array([row["ratio"] for row in result["breakdown"]])
    pm = np.array([row["p_minus_t"] for row in result["breakdown"]])
    ps = np.array([row["p_star"] for row in result["breakdown"]])
    mean = np.array([row["p_up"]["mean"] for row in result["breakdown"]])
    err = np.sqrt(np.nan_to_num(np.array([row["p_up"]["std"] for row in result["breakdown"]])) ** 2 + cfg["p_step"] ** 2)
    right.plot(ratios, pm, "k--", label=f"p-*(t={cfg['t']:g}), eq. (19)")
    right.plot(ratios, ps, "k:", label="p* = 1/(1+psi/phi)")
    right.errorbar(ratios, mean, yerr=err, fmt="o", color="C3", label=f"measured sup{{p: acc >= {100 * cfg['threshold']:.0f}%}}")
    right.set(xlabel="psi/phi", ylabel="breakdown point", title=f"{cfg['seeds']} seeds; bars: seed std and grid step")
    right.legend(fontsize=7)
    return save_figure(fig, path)
