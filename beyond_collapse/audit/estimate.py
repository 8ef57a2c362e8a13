"""The audit's statistics: proportions with exact intervals, Fisher symmetry tests, the Beta-binomial
posterior of the margin p* - p, the verdict and the sample size to decide (see the package docstring)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

import numpy as np

from beyond_collapse._validation import check_choice, check_in_interval, check_memory, check_positive
from beyond_collapse.audit.reading import load_columns, parse_binary
from beyond_collapse.audit.results import AuditResult, Posterior, RateEstimate, SymmetryTest
from beyond_collapse.numerics.intervals import clopper_pearson
from beyond_collapse.theory import breakdown_point, per_class_breakdown_points, pooled_breakdown_point

MODELS = ("auto", "symmetric", "class")
CONDITIONS = ("pooled", "per-class")
MISSING_POLICIES = ("refuse", "drop")


def _rate(name, meaning, k, n, confidence) -> RateEstimate:
    low, high = clopper_pearson(k, n, confidence)
    return RateEstimate(name, meaning, int(k), int(n), (k / n) if n else None, float(low), float(high))


def _tabulate(vals: dict[str, np.ndarray], mode: str, conf: float, s_alpha: float):
    """Counts, rate estimates (Clopper-Pearson) and the Fisher symmetry tests of one audit sample."""
    from scipy import stats  # here, not at import: the command line starts without scipy.stats

    q = vals["kept"].astype(bool)
    if mode == "correctness":
        wrong = vals["correct"] == 0
        y = y_syn = None
    else:
        y, y_syn = vals["y_true"].astype(bool), vals["y_syn"].astype(bool)
        wrong = y != y_syn
    n = len(q)
    rates = {"p": _rate("p", "P(y' != y), generator error", int(wrong.sum()), n, conf)}
    counts: dict[str, int] = {}
    rates["phi"] = _rate("phi", "P(kept | correct)", int((q & ~wrong).sum()), int((~wrong).sum()), conf)
    rates["psi"] = _rate("psi", "P(kept | wrong)", int((q & wrong).sum()), int(wrong.sum()), conf)
    # Model-free form of Prop. E.3: kept-wrong < kept-right, i.e. P(y' != y | kept) < 1/2.
    rates["p_kept"] = _rate("p_kept", "P(y' != y | kept), error among kept", int((q & wrong).sum()), int(q.sum()), conf)
    symmetry = None
    if mode == "labels":
        # key -> (true label k, synthetic label l): phi_k = psi_kk, psi_kl with k != l (eq. (15))
        cells = {"phi0": (0, 0), "phi1": (1, 1), "psi01": (0, 1), "psi10": (1, 0)}
        meaning = {"phi0": "P(kept | y=0, y'=0)", "phi1": "P(kept | y=1, y'=1)",
                   "psi01": "P(kept | y=0, y'=1)", "psi10": "P(kept | y=1, y'=0)"}
        for key, (k, l) in cells.items():
            g = (y == k) & (y_syn == l)
            rates[key] = _rate(key, meaning[key], int((q & g).sum()), int(g.sum()), conf)
            counts[f"n_{k}{l}_kept"] = int((q & g).sum())
            counts[f"n_{k}{l}_dropped"] = int((~q & g).sum())
        for k in (0, 1):  # Prop. E.4 (b = 0) compares kept-wrong with kept-right within each true class
            kept_k = q & (y == k)
            rates[f"p_kept{k}"] = _rate(f"p_kept{k}", f"P(y' != y | kept, y={k})", int((kept_k & wrong).sum()),
                                        int(kept_k.sum()), conf)
        tables = {k: [[rates[a].successes, rates[a].trials - rates[a].successes] for a in pair]
                  for k, pair in (("phi", ("phi0", "phi1")), ("psi", ("psi01", "psi10")))}
        # The paper's eq. (14) also assumes P(y' != y | y = k) = p for both classes: tested, reported, not
        # part of the phi/psi symmetry decision.
        tables["p"] = [[int((wrong & (y == k)).sum()), int((~wrong & (y == k)).sum())] for k in (0, 1)]
        pv = {k: float(stats.fisher_exact(t, alternative="two-sided").pvalue) for k, t in tables.items()}
        consistent = min(pv["phi"], pv["psi"]) > s_alpha / 2
        symmetry = SymmetryTest("two-sided Fisher exact tests, Bonferroni (each at alpha/2)",
                                s_alpha, pv["phi"], pv["psi"], consistent, pv["p"])
    else:
        counts.update(n_correct_kept=rates["phi"].successes, n_correct_dropped=rates["phi"].trials - rates["phi"].successes,
                      n_wrong_kept=rates["psi"].successes, n_wrong_dropped=rates["psi"].trials - rates["psi"].successes)
    return rates, counts, symmetry


def _posterior(rates: dict, model: str, condition: str, prior: tuple[float, float], n_draws: int, seed,
               conf: float) -> Posterior:
    """Beta-binomial posterior of the model's rates (independent Betas), summarized by Monte Carlo."""
    a0, b0 = prior
    params = ("p", "phi", "psi") if model == "symmetric" else ("p", "phi0", "phi1", "psi01", "psi10")
    rng = np.random.default_rng(seed)
    draws = {k: rng.beta(a0 + rates[k].successes, b0 + rates[k].trials - rates[k].successes, size=n_draws)
             for k in params}
    p_star_draws = _p_star(draws, model, condition)
    margin_draws = p_star_draws - draws["p"]
    prob = float((margin_draws > 0).mean())
    tail = (1 - conf) / 2
    return Posterior(
        prior=(a0, b0), model=model, condition=condition, n_draws=n_draws, seed=seed, prob_p_below_p_star=prob,
        mc_standard_error=math.sqrt(max(prob * (1 - prob), 1.0 / n_draws) / n_draws),
        p_star_mean=float(p_star_draws.mean()),
        p_star_interval=tuple(float(x) for x in np.quantile(p_star_draws, [tail, 1 - tail])),
        margin_mean=float(margin_draws.mean()), margin_sd=float(margin_draws.std(ddof=1)),
        margin_interval=tuple(float(x) for x in np.quantile(margin_draws, [tail, 1 - tail])),
        prob_kept_error_below_half=_kept_check(rates, condition, a0, b0),
    )


def _kept_check(rates: dict, condition: str, a0: float, b0: float) -> float:
    """Posterior probability that kept-wrong < kept-right (pooled: Prop. E.3; in each true class: E.4).

    Beta posteriors of the kept error rates evaluated at 1/2 (regularized incomplete beta): exact, no
    sampling. The two classes use disjoint rows, so their posteriors are independent and multiply.
    """
    from scipy import special

    keys = ("p_kept",) if condition == "pooled" else ("p_kept0", "p_kept1")
    prob = 1.0
    for k in keys:
        r = rates[k]
        prob *= float(special.betainc(a0 + r.successes, b0 + r.trials - r.successes, 0.5))
    return prob


def _p_star(rates: Mapping[str, float | np.ndarray], model: str, condition: str = "pooled"):
    """p* from the theory: Thm. 3.2 / D.3 (symmetric; both conditions agree), Prop. E.3 (class-dependent,
    pooled: Gram structure b = -a) or Prop. E.4 (class-dependent, per class: b = 0, the smaller of the
    two class breakdown points, below which both classes are learned)."""
    if model == "symmetric":
        return breakdown_point(rates["phi"], rates["psi"])
    if condition == "per-class":
        return np.minimum(*per_class_breakdown_points(rates["phi0"], rates["phi1"], rates["psi01"], rates["psi10"]))
    return pooled_breakdown_point(rates["phi0"], rates["phi1"], rates["psi01"], rates["psi10"])


def audit(
    source: str | os.PathLike | Mapping,
    *,
    true_col: str = "y_true",
    syn_col: str = "y_syn",
    kept_col: str = "kept",
    correct_col: str | None = None,
    fmt: str | None = None,
    missing: str = "refuse",
    model: str = "auto",
    condition: str = "pooled",
    prior: tuple[float, float] = (0.5, 0.5),
    confidence: float = 0.95,
    decision_level: float = 0.95,
    symmetry_alpha: float = 0.05,
    n_draws: int = 200_000,
    seed: int | None = 0,
) -> AuditResult:
    """Audit a verifier from a labelled sample (Sec. 3.2, App. D.3, Thm. 3.2/D.3, Prop. E.3).

    ``source``: a CSV / JSON Lines path or a mapping of column name to values (arrays, lists).
    Label mode (default): columns ``true_col``, ``syn_col``, ``kept_col`` with binary values.
    Correctness-flag mode (tasks without classes): pass ``correct_col`` (1 = the synthesized
    example is correct) and ``kept_col``; then p = P(not correct), phi = P(kept | correct),
    psi = P(kept | wrong) and only the symmetric model exists.

    ``missing``: "refuse" (default: any missing or NaN value is an error) or "drop" (rows with a
    missing value are dropped, and their number is reported). ``model``: "auto" (symmetric unless
    the Fisher tests reject symmetry), "symmetric" or "class". ``condition``: "pooled" (Prop. E.3,
    Gram structure b = -a, default) or "per-class" (Prop. E.4, b = 0). ``prior``: Beta(a, b) on each rate,
    default Jeffreys (0.5, 0.5). Posterior by ``n_draws`` Monte Carlo draws from ``seed``.
    Raises ``ValueError`` for bad input (missing columns, non-binary values, empty data, all rows
    pruned, missing values under "refuse").
    """
    check_choice("missing", missing, MISSING_POLICIES)
    check_choice("model", model, MODELS)
    check_choice("condition", condition, CONDITIONS)
    conf = float(check_in_interval("confidence", confidence, 0, 1, low_open=True, high_open=True))
    level = float(check_in_interval("decision_level", decision_level, 0.5, 1, low_open=True, high_open=True))
    s_alpha = float(check_in_interval("symmetry_alpha", symmetry_alpha, 0, 1, low_open=True, high_open=True))
    if len(prior) != 2:
        raise ValueError(f"prior must be a pair (a, b) of Beta parameters, got {prior!r}")
    a0, b0 = (float(check_positive("prior", v)) for v in prior)
    try:  # int() of inf or NaN raises OverflowError / ValueError: report both as n_draws's fault
        whole = not isinstance(n_draws, (bool, str)) and int(n_draws) == n_draws and n_draws >= 1000
    except (OverflowError, ValueError, TypeError):
        whole = False
    if not whole:
        raise ValueError(f"n_draws must be a whole number >= 1000, got {n_draws!r}")
    n_draws = int(n_draws)
    check_memory(f"n_draws = {n_draws} posterior draws", 80 * n_draws)  # ~10 float arrays of n_draws

    mode = "correctness" if correct_col is not None else "labels"
    if mode == "correctness" and model == "class":
        raise ValueError("model must be 'symmetric' or 'auto' in correctness-flag mode (no classes), got 'class'")
    names = {"correct": correct_col, "kept": kept_col} if mode == "correctness" else \
        {"y_true": true_col, "y_syn": syn_col, "kept": kept_col}
    label, raw = load_columns(source, names, fmt)
    parsed = {key: parse_binary(names[key], raw[names[key]]) for key in names}
    any_missing = np.zeros(len(next(iter(raw.values()))), dtype=bool)
    for key, (_, miss) in parsed.items():
        any_missing |= miss
    n_rows, n_missing = len(any_missing), int(any_missing.sum())
    if n_missing and missing == "refuse":
        first = int(np.argmax(any_missing)) + 1
        raise ValueError(f"{n_missing} of {n_rows} rows have missing or NaN values (first: row {first}); "
                         "fix them or pass missing='drop' (--missing drop) to drop and count them")
    keep = ~any_missing
    if not keep.any():
        raise ValueError(f"all {n_rows} rows have missing values; nothing to audit")
    vals = {key: v[keep] for key, (v, _) in parsed.items()}
    if not vals["kept"].any():
        raise ValueError(f"all {int(keep.sum())} audited rows were pruned (kept = 0): the verifier keeps nothing, "
                         "so p* is undefined")

    rates, counts, symmetry = _tabulate(vals, mode, conf, s_alpha)
    n = rates["p"].trials

    chosen = model
    if model == "auto":
        chosen = "symmetric" if symmetry is None or symmetry.consistent else "class"
    if mode == "correctness" and condition == "per-class":
        raise ValueError("condition must be 'pooled' in correctness-flag mode (no classes), got 'per-class'")
    posterior = _posterior(rates, chosen, condition, (a0, b0), n_draws, seed, conf)
    prob = posterior.prob_p_below_p_star
    p_star, margin = _plug_in(rates, chosen, condition)
    if prob >= level:
        verdict, rows_needed = "improves", None
    elif prob <= 1 - level:
        verdict, rows_needed = "collapses", None
    else:
        verdict = "undecided"
        from scipy import stats

        z = float(stats.norm.ppf(level))
        mean, sd = posterior.margin_mean, posterior.margin_sd
        rows_needed = math.inf if mean == 0 else float(math.ceil(n * (z * sd / abs(mean)) ** 2))
    notes = []
    if rates["psi"].trials == 0:
        notes.append("no wrong rows in the sample: psi is not estimated and its posterior is the prior")
    if rates["phi"].trials == 0:
        notes.append("no correct rows in the sample: phi is not estimated and its posterior is the prior")
    if symmetry is not None and symmetry.p_value_error_by_class < s_alpha:
        notes.append(f"the error rate may differ between true classes (Fisher exact p-value "
                     f"{symmetry.p_value_error_by_class:.2g} < {s_alpha:g}); the paper's eq. (14) assumes it does not: "
                     "if it does, trust P(p_kept < 1/2) (Prop. E.3 itself) over P(p < p*)")
    if chosen == "class" and condition == "pooled":
        notes.append("class-dependent model: p* = (phi0 + phi1) / (phi0 + phi1 + psi01 + psi10), the pooled "
                     "condition of Prop. E.3 (Gram structure b = -a, e.g. the Gaussian mixture)")
    if chosen == "class" and condition == "per-class":
        notes.append("class-dependent model: p* = min(phi0 / (phi0 + psi01), phi1 / (phi1 + psi10)), the "
                     "per-class conditions of Prop. E.4 (Gram structure b = 0); between the two class breakdown "
                     "points one class is learned and the other flipped")
    notes.append("the verdict is the paper's infinite-sample limit (Thm. D.3); it assumes rows are iid and the "
                 "error rate p does not depend on the class")
    return AuditResult(
        source=label, mode=mode, n_rows=n_rows, n_missing=n_missing, n_used=n, missing_policy=missing,
        counts=counts, rates=rates, symmetry=symmetry, model=chosen, p_star=p_star, margin=margin,
        posterior=posterior, confidence=conf, decision_level=level, verdict=verdict,
        rows_needed=rows_needed, notes=notes,
    )


def _plug_in(rates: dict, model: str, condition: str = "pooled") -> tuple[float | None, float | None]:
    """p* and p* - p from the point estimates (None when a rate has no data or nothing is kept)."""
    keys = ("phi", "psi") if model == "symmetric" else ("phi0", "phi1", "psi01", "psi10")
    est = {k: rates[k].estimate for k in keys}
    if any(v is None for v in est.values()):
        return None, None
    if model == "symmetric" or condition == "pooled":
        if sum(est.values()) == 0:
            return None, None
    elif est["phi0"] + est["psi01"] == 0 or est["phi1"] + est["psi10"] == 0:
        return None, None
    p_star = float(_p_star(est, model, condition))
    return p_star, p_star - rates["p"].estimate
