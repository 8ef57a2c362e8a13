"""Generations (issue 17): iterated retraining on verifier-selected synthetic data, simulated and predicted.

Settings: five verifiers for an initial generator with error rate ``p0`` (RLHF-type with
``p0 < p*``, ``p0`` just below ``p*`` and ``p0 > p*``; no verifier, ``p* = 1/2``; a supervised verifier at 60 degrees to
mu), each in replace and accumulate mode, without and with a fraction of real data. The mixture's
signal-to-noise ratio ``b`` is held fixed across profiles (``||mu|| = b / sqrt(d + b^2)``), so the
Bayes error ``Phi(-b)`` and the generator error rates are the same at every size; only N and d grow.
One resumable unit per (setting, seed) holds the whole trajectory. Prediction:
``predicted_bayes_probability`` (finite N) and the limit map of ``theory.generations``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from beyond_collapse.numerics.experiments._common import unit_rng
from beyond_collapse.runs import RUNS_DIR, pick_profile, run_unit, runs_folder


@dataclass(frozen=True, kw_only=True)
class GenerationsProfile:
    n: int                 # inputs per generation
    d: int
    generations: int       # retrained generations T
    seeds: int
    snr: float = 2.0       # b = ||mu|| / noise_std; Bayes error Phi(-b) = 2.3% at b = 2
    p0: float = 0.3        # error rate of the initial generator
    lam: float = 1e-2
    real_fraction: float = 0.3


CONFIGS = {  # one per name of runs.PROFILES; read through get_profile
    "quick": GenerationsProfile(n=200, d=20, generations=10, seeds=8),
    "cpu": GenerationsProfile(n=2000, d=100, generations=20, seeds=20),
    "paper": GenerationsProfile(n=20000, d=1000, generations=30, seeds=50),
}


def get_profile(profile: str) -> GenerationsProfile:
    """The config of ``profile`` (one of ``runs.PROFILES``); ``ValueError`` for another name."""
    return pick_profile(profile, CONFIGS)


# name -> (verifier, phi, psi, theta_prune); the RLHF ones put p0 = 0.3 below, near and above p*
VERIFIERS = {
    "none (p*=0.5)": ("none", 1.0, 1.0, 0.0),
    "rlhf p*=0.8": ("rlhf", 1.0, 0.25, 0.0),
    "rlhf p*=0.32": ("rlhf", 0.32 / 0.68, 1.0, 0.0),
    "rlhf p*=0.2": ("rlhf", 0.25, 1.0, 0.0),
    "supervised 60deg": ("supervised", 1.0, 1.0, math.pi / 3),
}


def settings(prof: GenerationsProfile) -> list[tuple[str, "GenerationsConfig"]]:  # noqa: F821
    """Every (label, GenerationsConfig) of a profile."""
    from scipy.special import ndtri

    from beyond_collapse.numerics.generations import GenerationsConfig

    mu_norm = prof.snr / math.sqrt(prof.d + prof.snr**2)
    theta0 = float(np.arccos(-ndtri(prof.p0) / prof.snr))
    out = []
    for name, (verifier, phi, psi, theta_prune) in VERIFIERS.items():
        for mode in ("replace", "accumulate"):
            for alpha in (0.0, prof.real_fraction):
                cfg = GenerationsConfig(n=prof.n, d=prof.d, mu_norm=mu_norm, lam=prof.lam, generations=prof.generations,
                                        theta_gen0=theta0, verifier=verifier, phi=phi, psi=psi,
                                        theta_prune=theta_prune, mode=mode, real_fraction=alpha)
                out.append((f"{name}, {mode}, real {alpha:g}", cfg))
    return out


def _unit_name(cfg) -> str:
    tag = {"none": "none", "rlhf": f"rlhf{cfg.phi:.4f}-{cfg.psi:.4f}", "supervised": f"sup{math.degrees(cfg.theta_prune):.0f}"}
    return f"{tag[cfg.verifier]}_{cfg.mode}_real{cfg.real_fraction:g}"


def summarize(cfg, trajectories: list[dict]) -> dict:
    """Per generation: mean, std and standard error of the accuracy over seeds; the fraction of seeds on
    the Bayes side (accuracy > 1/2) with its binomial standard error; predicted P(Bayes side) at finite
    N and the limit map's accuracy."""
    from beyond_collapse.numerics.generations import learning_curve_trajectory, predicted_bayes_probability, state_rates
    from beyond_collapse.theory.generations import limit_trajectory, margin_rate

    acc = np.array([tr["accuracy"] for tr in trajectories])  # (seeds, T + 1)
    k = acc.shape[0]
    side = (acc[:, 1:] > 0.5).mean(axis=0)
    rates = state_rates(cfg)
    deltas = [float(margin_rate(*r, cfg.real_fraction)) for r in (rates.initial, rates.bayes, rates.flipped)]
    limit = limit_trajectory(*deltas, cfg.generations, cfg.mode)
    return {
        "config": cfg.to_dict(),
        "seeds": k,
        "accuracy_mean": acc.mean(axis=0),
        "accuracy_std": acc.std(axis=0, ddof=1) if k > 1 else np.zeros(acc.shape[1]),
        "accuracy_sem": acc.std(axis=0, ddof=1) / np.sqrt(k) if k > 1 else np.zeros(acc.shape[1]),
        "error_rate_mean": np.mean([tr["error_rate"] for tr in trajectories], axis=0),
        "bayes_side_fraction": side,
        "bayes_side_sem": np.sqrt(side * (1 - side) / k),
        "predicted_bayes_side": predicted_bayes_probability(cfg, rates),
        # accuracy level per generation from the learning curve (issue 16); replace mode only
        "learning_curve_accuracy": learning_curve_trajectory(cfg)["accuracy"] if cfg.mode == "replace" else None,
        "limit_accuracy": limit.accuracy,
        "limit_bayes_fixed": limit.bayes_fixed,
        "limit_flipped_fixed": limit.flipped_fixed,
        "margins": {"initial": deltas[0], "bayes": deltas[1], "flipped": deltas[2]},
        "rates": asdict(rates),
    }


def run(profile: str = "quick", runs_dir: str | Path | None = None, base_seed: int = 0, progress: bool = True) -> dict:
    """Run (or resume) every setting of ``profile``, with its resumable units in ``runs_dir`` (default
    ``runs_folder("runs", profile, "generations")``); returns per-setting summaries."""
    from tqdm import tqdm

    from beyond_collapse.numerics.generations import simulate_generations

    prof = get_profile(profile)
    runs_dir = runs_folder(RUNS_DIR, profile, "generations") if runs_dir is None else Path(runs_dir)
    cases = settings(prof)
    units = [(label, cfg, s) for label, cfg in cases for s in range(prof.seeds)]
    trajectories: dict[str, list] = {label: [] for label, _ in cases}
    for label, cfg, seed in tqdm(units, desc="generations", disable=not progress):
        rec = run_unit(runs_dir / f"{_unit_name(cfg)}_seed{seed}.json",
                       lambda: simulate_generations(cfg, unit_rng(base_seed, 17, seed)),
                       config={**cfg.to_dict(), "base_seed": base_seed}, seed=seed)
        trajectories[label].append(rec["metrics"])
    return {"profile": profile, "config": asdict(prof),
            "settings": {label: summarize(cfg, trajectories[label]) for label, cfg in cases}}


def plot(result: dict, path: Path) -> Path:
    """Accuracy against generation, one panel per verifier: simulated mean ± standard error (solid),
    the predicted P(Bayes side) at finite N (dashed) and, in replace mode, the learning curve's
    accuracy (dotted), per mode and real fraction."""
    from beyond_collapse.numerics.experiments._common import new_figure, save_figure

    fig, axes = new_figure(len(VERIFIERS), width=3.6, height=3.2)
    styles = {}
    for i, (label, s) in enumerate(result["settings"].items()):
        name, mode, real = label.split(", ")
        ax = axes[list(VERIFIERS).index(name)]
        key = (mode, real)
        color = styles.setdefault(key, f"C{len(styles)}")
        mean, sem = np.asarray(s["accuracy_mean"]), np.asarray(s["accuracy_sem"])
        t = np.arange(mean.size)
        ax.errorbar(t, mean, yerr=sem, color=color, lw=1, ms=2, fmt="o-", label=f"{mode}, {real}")
        ax.plot(t[1:], s["predicted_bayes_side"], "--", color=color, lw=1)
        if s.get("learning_curve_accuracy") is not None:
            ax.plot(t, s["learning_curve_accuracy"], ":", color=color, lw=1.5)
        ax.set(title=name, xlabel="generation", ylim=(-0.03, 1.03))
    axes[0].set_ylabel("accuracy vs Bayes: simulated (solid), learning curve (dotted);\nP(Bayes side) (dashed)")
    axes[0].legend(fontsize=6)
    return save_figure(fig, path)
