"""Fig. 2 (Sec. 3.4): supervised pruning (eq. (5)) with a linear generator and a linear pruner at
given angles; breakdown predicted from the theory's rates against breakdown measured.

For each pruner angle ``theta_prune`` the generator angle ``theta_gen`` sweeps (0, pi); the angle
``theta`` between generator and pruner, which the paper does not state, follows a coupling rule
(``coupled_theta``), and every run covers the three of ``Fig2Config.couplings``:
``"independent"``: ``cos theta = cos theta_gen cos theta_prune``, the two directions'
components orthogonal to mu are orthogonal, as for independent errors in high dimension;
``"same-side"``: ``theta = |theta_gen - theta_prune|`` (w_gen and w_prune in one plane with mu, on
the same side of it: the smallest realisable theta); ``"opposite"``: ``theta = theta_gen +
theta_prune`` folded into [0, pi] (in one plane, on opposite sides of mu: the largest).
With the keep rule of eq. (5), ``p psi - (1 - p) phi = P(both wrong) - P(both right) = p + p_prune - 1``
(``p_prune`` the pruner's own error rate) whatever theta is, so Thm. 3.2's condition ``p < p*`` is
``p + p_prune < 1`` and the predicted breakdown is ``theta_gen* = pi - theta_prune`` under every
coupling, in both data models (isotropic: ``p = theta_gen / pi``; mixture: ``p = Phi(c_gen)`` and
``Phi(c_gen) + Phi(c_prune) < 1`` iff ``cos theta_gen + cos theta_prune > 0``). The coupling moves
phi, psi, p* and the kept fraction away from that point, hence the finite-N curves.
Two data models (``sample_supervised_dataset``): ``"isotropic"`` (x ~ N(0, I/d), label
1[x . mu > 0]; Fig. 2's caption, p = theta_gen / pi) and ``"mixture"`` (App. D.6).
Predicted breakdown: the first theta_gen where p = p*(phi, psi) with the theory's rates
(``isotropic_rates``, ``gaussian_mixture_rates``). Measured: the largest theta_gen on the grid
where the fitted model's accuracy against the Bayes classifier is >= the threshold.
One resumable unit per (data model, coupling, theta_prune, seed) holds the theta_gen sweep; its
file name and stored config name the coupling. A seed's x are the same under every coupling (common
random numbers), so curves of one seed differ by the geometry only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from beyond_collapse._validation import check_choice, scalar_or_array
from beyond_collapse.numerics.bayes import accuracy_vs_bayes
from beyond_collapse.numerics.experiments._common import (
    fit_pruned, measured_breakdown, seed_summary, unit_rng,
)
from beyond_collapse.numerics.samplers import mixture_mean, sample_supervised_dataset
from beyond_collapse.runs import RUNS_DIR, pick_profile, run_unit, runs_folder

COUPLINGS = ("independent", "same-side", "opposite")
DATA = ("isotropic", "mixture")


@dataclass(frozen=True, kw_only=True)
class Fig2Config:
    n: int                           # synthesized examples before pruning
    d: int
    mu_norm: float                   # mixture only (the isotropic model uses mu's direction alone)
    lam: float                       # ridge lambda of eq. (1)
    theta_prunes: tuple[float, ...]  # pruner angles to mu, in units of pi
    steps: int                       # theta_gen grid: steps intervals on [0, pi], ends excluded
    seeds: int
    couplings: tuple[str, ...] = COUPLINGS
    thresholds: tuple[float, ...] = (0.9, 0.5)


_PRUNES = (0.0, 1 / 12, 1 / 6, 1 / 4, 1 / 3)
CONFIGS = {  # one per name of runs.PROFILES; read through get_profile
    "quick": Fig2Config(n=1500, d=100, mu_norm=0.2, lam=1e-2, theta_prunes=_PRUNES, steps=36, seeds=2),
    "cpu": Fig2Config(n=5000, d=200, mu_norm=0.15, lam=1e-2, theta_prunes=_PRUNES, steps=72, seeds=5),
    "paper": Fig2Config(n=20000, d=500, mu_norm=0.1, lam=1e-2, theta_prunes=_PRUNES, steps=144, seeds=10),
}


def get_profile(profile: str) -> Fig2Config:
    """The config of ``profile`` (one of ``runs.PROFILES``); ``ValueError`` for another name."""
    return pick_profile(profile, CONFIGS)


def coupled_theta(theta_gen, theta_prune, coupling: str = "independent"):
    """The generator-pruner angle theta = angle(w_prune, w_gen) of eq. (6) under a coupling rule.

    ``"independent"``: ``arccos(cos theta_gen cos theta_prune)``; ``"same-side"``:
    ``|theta_gen - theta_prune|``; ``"opposite"``: ``min(theta_gen + theta_prune, 2 pi - theta_gen
    - theta_prune)``. The last two are the lower and upper ends of the realisable range
    (``theory.check_angle_triple``); all three equal theta_gen when theta_prune = 0. Broadcasts.
    """
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


# w_prune = -w_gen (theta = pi, only under "opposite" at theta_gen + theta_prune = pi): nothing
# survives, phi = psi = 0 and p* is undefined; the gap p psi - (1 - p) phi tends to 0 there.
_NOTHING_KEPT = 1e-9


def breakdown_gap(cfg: Fig2Config, data: str, theta_gen: float | np.ndarray, theta_prune: float,
                  coupling: str = "independent") -> float | np.ndarray:
    """``p psi - (1 - p) phi`` from the theory's rates (Thm. 3.2): negative iff ``p < p*``.

    Unlike ``p - p*`` it is defined where nothing survives (``theta = pi``: 0). Broadcasts over
    ``theta_gen``.
    """
    check_choice("data", data, DATA)
    tg = np.asarray(theta_gen, dtype=float)
    t = np.broadcast_to(coupled_theta(tg, theta_prune, coupling), tg.shape)
    out = np.zeros(tg.shape)
    some = t <= np.pi - _NOTHING_KEPT
    if some.any():
        r = _rates(data, cfg, tg[some], theta_prune, t[some])
        out[some] = r.p * r.psi - (1 - r.p) * r.phi
    return scalar_or_array(out)


def predicted_breakdown(cfg: Fig2Config, data: str, theta_prune: float, coupling: str = "independent",
                        resolution: int = 400) -> float | None:
    """First theta_gen in (0, pi) where p - p*(phi, psi) changes sign from - to + (Thm. 3.2 with the
    theory's rates, ``breakdown_gap``), by bisection on a fine grid; None when the grid shows no such
    change (p < p* throughout, e.g. an oracle pruner theta_prune = 0). The identity in the module
    docstring gives pi - theta_prune; this computes it from the rates, to within 1e-9 rad.
    Raises ValueError for an unknown ``data`` or ``coupling``."""
    check_choice("coupling", coupling, COUPLINGS)
    grid = np.pi * np.arange(1, resolution) / resolution

    def gap(tg):
        return breakdown_gap(cfg, data, tg, theta_prune, coupling)

    values = gap(grid)
    cross = np.flatnonzero((values[:-1] < 0) & (values[1:] >= 0))
    if cross.size == 0:
        return None
    lo, hi = grid[cross[0]], grid[cross[0] + 1]
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if gap(mid) < 0 else (lo, mid)
    return 0.5 * (lo + hi)


def accuracy_curve(cfg: Fig2Config, data: str, theta_prune: float, seed: int, base_seed: int = 0,
                   coupling: str = "independent") -> dict:
    """Accuracy against the Bayes classifier along the theta_gen grid for one (data, coupling,
    theta_prune, seed); the seed's x do not depend on the coupling."""
    check_choice("data", data, DATA)
    check_choice("coupling", coupling, COUPLINGS)
    mu = mixture_mean(cfg.d, cfg.mu_norm)
    acc, kept, err, w = [], [], [], None
    for tg in theta_grid(cfg):
        t = float(coupled_theta(tg, theta_prune, coupling))
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


def theory_accuracy(config: dict, theta_gen_over_pi) -> dict[str, list[float]]:
    """The high-dimensional learning curve (issue 16, ``numerics.learning_curves``) of every
    (data, coupling, theta_prune) along ``theta_gen / pi``: the accuracy eq. (1) reaches at this N, d
    in the proportional limit, keyed like ``mean_accuracy``."""
    from beyond_collapse.numerics.learning_curves import proportional_parameters, supervised_learning_curve

    tg = np.pi * np.asarray(theta_gen_over_pi, dtype=float)
    out = {}
    for data in DATA:
        alpha, snr, ridge = proportional_parameters(config["n"], config["d"],
                                                    config["mu_norm"] if data == "mixture" else 0.0, config["lam"])
        for c in config["couplings"]:
            for tp in config["theta_prunes"]:
                t = np.clip(coupled_theta(tg, np.pi * tp, c), 0.0, np.pi)
                curve = supervised_learning_curve(alpha, snr=snr, theta_gen=tg, theta_prune=np.pi * tp, theta=t,
                                                  ridge=ridge, data=data)
                out[f"{data}:{c}:{tp:g}"] = np.atleast_1d(curve.accuracy).tolist()
    return out


def unit_path(runs_dir: str | Path, data: str, coupling: str, theta_prune: float, seed: int) -> Path:
    """Results file of one unit: ``<runs_dir>/<data>_<coupling>_prune<degrees>deg_seed<seed>.json``."""
    return Path(runs_dir) / f"{data}_{coupling}_prune{theta_prune * 180:g}deg_seed{seed}.json"


def run(profile: str = "quick", runs_dir: str | Path | None = None, base_seed: int = 0, progress: bool = True) -> dict:
    """Run (or resume) Fig. 2 on ``profile``, with its resumable units in ``runs_dir`` (default
    ``runs_folder("runs", profile, "fig2")``); returns curves and the predicted/measured breakdown table
    (one row per data model, coupling and theta_prune)."""
    from tqdm import tqdm

    cfg = get_profile(profile)
    for c in cfg.couplings:
        check_choice("coupling", c, COUPLINGS)
    runs_dir = runs_folder(RUNS_DIR, profile, "fig2") if runs_dir is None else Path(runs_dir)
    config = asdict(cfg)
    # a unit depends on its own coupling only, so the list of couplings stays out of its config
    unit_config = {k: v for k, v in config.items() if k != "couplings"}
    keys = [(data, c, tp) for data in DATA for c in cfg.couplings for tp in cfg.theta_prunes]
    curves: dict = {key: [] for key in keys}
    units = [(key, s) for key in keys for s in range(cfg.seeds)]
    for (data, c, tp), seed in tqdm(units, desc="fig2", disable=not progress):
        rec = run_unit(unit_path(runs_dir, data, c, tp, seed),
                       lambda: accuracy_curve(cfg, data, np.pi * tp, seed, base_seed, coupling=c),
                       config={**unit_config, "data": data, "coupling": c, "theta_prune": tp, "base_seed": base_seed},
                       seed=seed)
        curves[(data, c, tp)].append(rec["metrics"])
    grid = theta_grid(cfg) / np.pi
    rows = []
    for (data, c, tp), cs in curves.items():
        pred = predicted_breakdown(cfg, data, np.pi * tp, c)
        row = {"data": data, "coupling": c, "theta_prune": tp, "predicted": None if pred is None else pred / np.pi,
               "grid_step": 1.0 / cfg.steps}
        for thr in cfg.thresholds:
            per_seed = [measured_breakdown(grid, cv["accuracy"], thr)[0] for cv in cs]
            row[f"measured_{thr:g}"] = seed_summary(per_seed)
            row[f"measured_{thr:g}_per_seed"] = per_seed  # nan: no grid point reaches the threshold
        rows.append(row)

    def mean_of(field):
        return {f"{data}:{c}:{tp:g}": np.mean([cv[field] for cv in cs], axis=0).tolist()
                for (data, c, tp), cs in curves.items()}

    kept = {f"{data}:{c}:{tp:g}": (np.mean([cv["kept"] for cv in cs], axis=0) / cfg.n).tolist()
            for (data, c, tp), cs in curves.items()}
    return {"profile": profile, "config": config, "theta_gen_over_pi": grid.tolist(),
            "mean_accuracy": mean_of("accuracy"), "mean_generator_error": mean_of("generator_error"),
            "sd_accuracy": {f"{data}:{c}:{tp:g}": np.std([cv["accuracy"] for cv in cs], axis=0, ddof=1).tolist()
                            if len(cs) > 1 else None for (data, c, tp), cs in curves.items()},
            "mean_kept_fraction": kept,
            # the learning curve at every other grid point (smooth; halves its cost in the report)
            "theory_theta_gen_over_pi": grid[::2].tolist(), "theory_accuracy": theory_accuracy(config, grid[::2]),
            "breakdown": rows}


def plot(result: dict, path: Path) -> Path:
    """Fig. 2: accuracy against theta_gen / pi per pruner angle, one panel per (data model, coupling);
    dashed lines: predicted breakdown."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from beyond_collapse.numerics.experiments._common import save_figure

    cfg = result["config"]
    couplings = cfg["couplings"]
    fig, axes = plt.subplots(len(DATA), len(couplings), figsize=(4.6 * len(couplings), 3.6 * len(DATA)),
                             squeeze=False, sharex=True, sharey=True)
    x = np.asarray(result["theta_gen_over_pi"])
    for r, data in enumerate(DATA):
        for c, coupling in enumerate(couplings):
            ax = axes[r, c]
            rows = [row for row in result["breakdown"] if row["data"] == data and row["coupling"] == coupling]
            for i, row in enumerate(rows):
                tp = row["theta_prune"]
                key = f"{data}:{coupling}:{tp:g}"
                ax.plot(x, 100 * np.asarray(result["mean_accuracy"][key]), "o", ms=2,
                        color=f"C{i}", label=f"theta_prune = {tp:.3g} pi")
                if "theory_accuracy" in result:  # results written before issue 16 have no theory curve
                    ax.plot(result.get("theory_theta_gen_over_pi", x), 100 * np.asarray(result["theory_accuracy"][key]),
                            "-", lw=1, color=f"C{i}")
                if row["predicted"] is not None:
                    ax.axvline(row["predicted"], color=f"C{i}", ls="--", lw=1)
            extra = "" if data == "isotropic" else f", ||mu||={cfg['mu_norm']}"
            ax.set_title(f"{data}, {coupling} coupling\nN={cfg['n']}, d={cfg['d']}{extra}; lines: learning curve; "
                         "dashed: predicted breakdown",
                         fontsize=9)
            if r == len(DATA) - 1:
                ax.set_xlabel("theta_gen / pi")
            if c == 0:
                ax.set_ylabel("accuracy vs Bayes (%)")
        axes[r, 0].legend(fontsize=6)
    return save_figure(fig, path)
