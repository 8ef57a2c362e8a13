"""Learning curve (issue 16) against what a user would otherwise do: simulate the curve.

One curve of 100 points of alpha = N/d in [0.5, 50] for supervised pruning (Fig. 2's setting, mixture,
logistic loss), computed (a) by ``supervised_learning_curve`` and (b) by simulation at d = 200
with scikit-learn's ``LogisticRegression`` (lbfgs) on the kept rows, 5 seeds per point (the
minimum for a standard error), on the same 2 cores. Prints both times, their ratio, the load
average, and how far the two curves are apart (max and mean absolute gap, and the simulation's
mean standard error), so the speed-up is reported together with the agreement it buys.

    .venv/bin/python benchmarks/bench_learning_curves.py        # about 2-4 min
"""

from __future__ import annotations

import os
import time

import numpy as np
from sklearn.linear_model import LogisticRegression

from beyond_collapse.numerics import accuracy_vs_bayes, proportional_parameters, supervised_learning_curve
from beyond_collapse.numerics.samplers import mixture_mean, sample_supervised_dataset

D, MU_NORM, LAM, SEEDS = 200, 0.12, 1e-2, 5
ANGLES = dict(theta_gen=0.35 * np.pi, theta_prune=0.1 * np.pi, theta=0.3 * np.pi)
ALPHAS = np.geomspace(0.5, 50, 100)


def theory() -> np.ndarray:
    alpha, snr, ridge = proportional_parameters(ALPHAS * D, D, MU_NORM, LAM)
    return supervised_learning_curve(alpha, snr=snr, ridge=ridge, **ANGLES).accuracy


def simulate() -> tuple[np.ndarray, np.ndarray]:
    mu = mixture_mean(D, MU_NORM)
    mean, se = [], []
    for alpha in ALPHAS:
        n = int(round(alpha * D))
        accs = []
        for seed in range(SEEDS):
            X, _, y_syn, kept = sample_supervised_dataset(n, d=D, mu_norm=MU_NORM, rng=np.random.default_rng(seed),
                                                          **ANGLES)
            k = kept > 0
            # eq. (1) on the kept rows: mean loss over kept rows with ridge lam N / N_kept;
            # sklearn minimises C sum(loss) + |w|^2 / 2, so C = 1 / (lam N)
            model = LogisticRegression(C=1.0 / (LAM * n), fit_intercept=False, tol=1e-8, max_iter=1000)
            model.fit(X[k], y_syn[k])
            accs.append(accuracy_vs_bayes(model.coef_.ravel(), mu=mu))
        mean.append(np.mean(accs))
        se.append(np.std(accs, ddof=1) / np.sqrt(SEEDS))
    return np.array(mean), np.array(se)


def main() -> None:
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    supervised_learning_curve(1.0, snr=1.0, ridge=1.0, **ANGLES)  # numba compilation out of the timing
    t0 = time.perf_counter()
    th = theory()
    t_theory = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim, se = simulate()
    t_sim = time.perf_counter() - t0
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    gap = np.abs(th - sim)
    print("| method | seconds for 100 points | |\n|---|---|---|")
    print(f"| supervised_learning_curve | {t_theory:.2f} | 1x |")
    print(f"| simulation, sklearn lbfgs, d={D}, {SEEDS} seeds | {t_sim:.1f} | {t_sim / t_theory:.0f}x slower |")
    print(f"theory vs simulation: max |gap| {gap.max():.4f}, mean |gap| {gap.mean():.4f}, "
          f"mean simulation SE {se.mean():.4f}; points within max(2 SE, 0.01): {np.sum(gap <= np.maximum(2 * se, 0.01))}")


if __name__ == "__main__":
    main()
