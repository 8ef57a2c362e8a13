"""Calibration of the audit: how often its statements are right over simulated audits whose truth is
known (supervised pruning, eq. (5), on the Gaussian mixture of App. D.6)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import numpy as np

from beyond_collapse._validation import check_count, check_in_interval
from beyond_collapse.audit.estimate import audit


def audit_calibration(
    sample: Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray, np.ndarray]],
    truth: Mapping[str, float],
    *,
    n_rows: int,
    n_audits: int,
    seed: int,
    n_draws: int = 20_000,
    level: float = 0.95,
    followup: int = 0,
    max_followup_rows: int = 20_000,
    progress: bool = False,
) -> dict:
    """How often the audit's statements are right over ``n_audits`` simulated audits with known truth.

    ``sample(rng, n)`` returns one audit sample of ``n`` rows ``(y_true, y_syn, kept)`` (0/1 arrays);
    ``truth`` holds the true ``p``, ``p_star`` and the rates ``phi``, ``psi`` (or the four
    class-dependent ones) under the same names as ``audit``'s rates. Each audit uses the default
    settings (Jeffreys prior, model "auto") with ``decision_level = confidence = level``.

    Returns counts and fractions: verdicts stated and how many were right (a statement is right when
    its side of p* holds for the true margin p* - p), wrong statements over all audits (a calibrated
    95% statement is wrong in at most about 5% of audits), coverage of the margin's credible
    interval and of each rate's Clopper-Pearson interval, and the same decided/wrong counts for the
    model-free check P(p_kept < 1/2) (its truth has the sign of the margin in the paper's model).

    ``followup`` > 0 checks the sample-size rule: for the first ``followup`` undecided audits, a
    fresh sample of ``rows_needed`` rows (at most ``max_followup_rows``) is audited, and the
    metrics say how many of those decided and how many decided rightly.
    """
    from tqdm import tqdm

    level = float(check_in_interval("level", level, 0.5, 1, low_open=True, high_open=True))
    n_audits = check_count("n_audits", n_audits, 1)
    n_rows = check_count("n_rows", n_rows, 1)
    followup = check_count("followup", followup)
    true_margin = float(truth["p_star"]) - float(truth["p"])
    if true_margin == 0:
        raise ValueError("truth has p = p*: no statement can be right or wrong; choose other parameters")
    root = np.random.SeedSequence(seed)  # audit i uses its i-th child, spawned as it starts (no list of n_audits)
    rate_names = [k for k in truth if k not in ("p_star",)]
    covered = {k: 0 for k in rate_names}
    counts = {"improves": 0, "collapses": 0, "undecided": 0}
    n_right = n_margin_covered = kept_decided = kept_wrong = 0
    follow = {"n": 0, "decided": 0, "right": 0, "capped": 0, "rows": []}

    def run(rng, n):
        y_true, y_syn, kept = sample(rng, n)
        return audit({"y_true": y_true, "y_syn": y_syn, "kept": kept}, confidence=level,
                     decision_level=level, n_draws=n_draws, seed=int(rng.integers(2**63)))

    for _ in tqdm(range(n_audits), desc="audits", disable=not progress):
        rng = np.random.default_rng(root.spawn(1)[0])
        res = run(rng, n_rows)
        if res.verdict == "undecided" and follow["n"] < followup:
            n_new = min(res.rows_needed, max_followup_rows)
            again = run(rng, int(n_new))
            follow["n"] += 1
            follow["capped"] += n_new < res.rows_needed
            follow["rows"].append(int(n_new))
            follow["decided"] += again.verdict != "undecided"
            follow["right"] += (again.verdict == "improves") == (true_margin > 0) and again.verdict != "undecided"
        counts[res.verdict] += 1
        n_right += (res.verdict == "improves" and true_margin > 0) or (res.verdict == "collapses" and true_margin < 0)
        pk = res.posterior.prob_kept_error_below_half
        if pk >= level or pk <= 1 - level:
            kept_decided += 1
            kept_wrong += (pk >= level) != (true_margin > 0)
        lo, hi = res.posterior.margin_interval
        n_margin_covered += lo <= true_margin <= hi
        for k in rate_names:
            r = res.rates[k]
            covered[k] += r.ci_low <= float(truth[k]) <= r.ci_high
    n_decided = counts["improves"] + counts["collapses"]
    n_wrong = n_decided - n_right
    return {
        "n_audits": int(n_audits),
        "verdicts": counts,
        "n_decided": n_decided,
        "n_right": int(n_right),
        "n_wrong": int(n_wrong),
        "frac_decided": n_decided / n_audits,
        "frac_right_given_decided": (n_right / n_decided) if n_decided else None,
        "frac_wrong": n_wrong / n_audits,
        "margin_coverage": n_margin_covered / n_audits,
        "kept_check_decided": kept_decided,
        "kept_check_wrong": int(kept_wrong),
        "ci_coverage": {k: v / n_audits for k, v in covered.items()},
        "followup": {"n": follow["n"], "decided": int(follow["decided"]), "right": int(follow["right"]),
                     "capped": int(follow["capped"]),
                     "median_rows": float(np.median(follow["rows"])) if follow["rows"] else None},
    }


def supervised_truth(*, d: int, mu_norm: float, theta_gen: float, theta_prune: float, theta: float) -> dict:
    """True (p, phi, psi, p*) of supervised pruning, eq. (5), on the Gaussian mixture (App. D.6 closed
    form, ``beyond_collapse.theory.gaussian_mixture_rates``)."""
    from beyond_collapse.theory import gaussian_mixture_rates

    rates = gaussian_mixture_rates(mu_norm, d, theta_gen, theta_prune, theta)
    return {"p": float(rates.p), "phi": float(rates.phi), "psi": float(rates.psi), "p_star": float(rates.p_star)}


def supervised_audit_calibration(
    *,
    n_audits: int = 1000,
    n_rows: int = 300,
    d: int = 100,
    mu_norm: float = 0.1,
    theta_gen: float = 1.3,
    theta_prune: float = 1.7,
    theta: float = 1.7,
    n_draws: int = 20_000,
    followup: int = 0,
    seed: int = 0,
    out: str | os.PathLike | None = None,
) -> dict:
    """Calibration of the audit on supervised pruning (eq. (5)) of the Gaussian mixture (App. D.6).

    Audit samples come from ``sample_supervised_pruning``; the truth (p, phi, psi, p*) from
    ``gaussian_mixture_rates`` (App. D.6 closed form). With ``out`` the result is a resumable
    ``runs.run_unit`` record at that path. Returns ``{"config", "truth", "metrics"}``.
    """
    from beyond_collapse.numerics.samplers import sample_supervised_pruning
    from beyond_collapse.runs import run_unit

    truth = supervised_truth(d=d, mu_norm=mu_norm, theta_gen=theta_gen, theta_prune=theta_prune, theta=theta)
    config = {"n_audits": n_audits, "n_rows": n_rows, "d": d, "mu_norm": mu_norm, "theta_gen": theta_gen,
              "theta_prune": theta_prune, "theta": theta, "n_draws": n_draws, "level": 0.95}
    if followup:  # only when used, so records written without it still resume
        config["followup"] = followup

    def sample(rng, n):
        return sample_supervised_pruning(n, d=d, mu_norm=mu_norm, theta_gen=theta_gen,
                                         theta_prune=theta_prune, theta=theta, rng=rng)

    def compute():
        return audit_calibration(sample, truth, n_rows=n_rows, n_audits=n_audits, seed=seed, n_draws=n_draws,
                                 followup=followup, progress=True)

    if out is None:
        metrics = compute()
    else:
        metrics = run_unit(out, compute, config=config, seed=seed)["metrics"]
    truth["margin"] = truth["p_star"] - truth["p"]
    return {"config": config, "seed": seed, "truth": truth, "metrics": metrics}
