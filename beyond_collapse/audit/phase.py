"""Where a selection strategy sits on the phase diagram: p, phi, psi, p* and the predicted side.

The theory (Sec. 3.2, Thm. 3.2 / D.3) describes a synthesized data set by three rates: the
generator's error rate p = P(label wrong) (eq. (2)) and the verifier's keep rates phi = P(kept |
correct), psi = P(kept | wrong) (eq. (3)). Training on the kept data reaches the optimum when
p < p* = 1 / (1 + psi/phi) and collapses when p > p*. In the (p, psi/phi) plane the breakdown
curve is psi/phi = (1 - p) / p; points below it are predicted to improve.

Experiments with continuous-quality labels (an eigenvalue vector with a relative error, a summary
with a ROUGE score) give per-example *correctness flags* only once a notion of "correct" is fixed
(a tolerance, a threshold); this module takes those flags and the kept flags of one strategy and
estimates everything the theory needs, with exact intervals, by reusing the verifier audit
(``beyond_collapse.audit.audit`` in correctness-flag mode: exact Clopper-Pearson intervals,
Beta-binomial posterior of the margin p* - p).

It also measures how strongly two score vectors agree (Spearman's rho and Kendall's tau-b from
scipy.stats, with intervals): the paper's Sec. 5.3 explains the failure of a stronger verifier by
its weak correlation with the generator.

numpy and scipy only (no torch), so the report section can rebuild from committed counts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import warnings

import numpy as np
from scipy import special, stats

from beyond_collapse._validation import as_float_array, check_choice, check_in_interval, check_memory
from beyond_collapse.audit.estimate import audit
from beyond_collapse.audit.results import RateEstimate
from beyond_collapse.numerics.intervals import significant_sign

SIDES = ("improves", "collapses", "undecided")
OUTCOMES = ("better", "worse", "no significant difference")
CORRELATIONS = ("spearman", "kendall")
COUNT_KEYS = ("correct_kept", "correct_dropped", "wrong_kept", "wrong_dropped")


@dataclass(frozen=True)
class PhasePoint:
    """One synthesized data set on the phase diagram (Thm. 3.2 / D.3).

    ``p``, ``phi``, ``psi`` carry exact Clopper-Pearson intervals at ``confidence``. ``p_star`` and
    ``margin`` (= p* - p) are plug-in values (None when phi or psi has no data); ``ratio`` is
    psi/phi (inf when phi = 0 < psi). ``ratio_interval``, ``p_star_interval`` and
    ``margin_interval`` are equal-tailed posterior intervals (Jeffreys priors on p, phi, psi).
    ``side`` is the audit's verdict: "improves" when P(p < p*) >= ``decision_level``, "collapses"
    when it is <= 1 - ``decision_level``, else "undecided".
    """

    n: int
    counts: dict
    p: RateEstimate
    phi: RateEstimate
    psi: RateEstimate
    p_star: float | None
    margin: float | None
    ratio: float | None
    p_star_interval: tuple[float, float]
    ratio_interval: tuple[float, float]
    margin_interval: tuple[float, float]
    prob_p_below_p_star: float
    side: str

    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("ratio",):
            if d[key] is not None and math.isinf(d[key]):
                d[key] = "inf"
        d["ratio_interval"] = [("inf" if math.isinf(x) else x) for x in d["ratio_interval"]]
        return d


def _ratio_from_p_star(p_star: float) -> float:
    """psi/phi = 1/p* - 1 (Thm. 3.2 inverted); p* = 0 means phi = 0 < psi, i.e. an infinite ratio."""
    return math.inf if p_star <= 0 else 1.0 / p_star - 1.0


def phase_point(correct, kept, *, confidence: float = 0.95, decision_level: float = 0.95,
                n_draws: int = 20_000, seed: int | None = 0) -> PhasePoint:
    """Estimate p, phi, psi, p*, the margin and the predicted side from per-example flags.

    ``correct`` and ``kept`` are equal-length 0/1 (or boolean) arrays: example i is a correct
    synthesized label, and the strategy kept it. p = 1 - mean(correct) (eq. (2)),
    phi = P(kept | correct), psi = P(kept | wrong) (eq. (3)), p* = 1/(1 + psi/phi) (Thm. 3.2 / D.3).
    Intervals are exact (Clopper-Pearson); the side of the transition comes from the Beta-binomial
    posterior of p* - p (``n_draws`` Monte Carlo draws from ``seed``); see ``beyond_collapse.audit.audit``.
    Raises ``ValueError`` for non-binary or mismatched flags, empty input, or nothing kept.
    """
    correct = np.asarray(correct)
    kept = np.asarray(kept)
    if correct.ndim != 1 or kept.ndim != 1 or correct.shape != kept.shape:
        raise ValueError(f"correct and kept must be 1-D arrays of the same length, got shapes "
                         f"{correct.shape} and {kept.shape}")
    if correct.size == 0:
        raise ValueError("correct and kept must not be empty, got 0 examples")
    res = audit({"correct": correct, "kept": kept}, correct_col="correct", kept_col="kept", model="symmetric",
                confidence=confidence, decision_level=decision_level, n_draws=n_draws, seed=seed)
    counts = {"correct_kept": res.counts["n_correct_kept"], "correct_dropped": res.counts["n_correct_dropped"],
              "wrong_kept": res.counts["n_wrong_kept"], "wrong_dropped": res.counts["n_wrong_dropped"]}
    phi, psi = res.rates["phi"], res.rates["psi"]
    ratio = None
    if phi.estimate is not None and psi.estimate is not None and phi.estimate + psi.estimate > 0:
        ratio = math.inf if phi.estimate == 0 else psi.estimate / phi.estimate
    lo, hi = res.posterior.p_star_interval
    return PhasePoint(
        n=res.n_used, counts=counts, p=res.rates["p"], phi=phi, psi=psi, p_star=res.p_star, margin=res.margin,
        ratio=ratio, p_star_interval=(lo, hi), ratio_interval=(_ratio_from_p_star(hi), _ratio_from_p_star(lo)),
        margin_interval=res.posterior.margin_interval, prob_p_below_p_star=res.posterior.prob_p_below_p_star,
        side=res.verdict,
    )


def flags_from_counts(correct_kept: int, correct_dropped: int, wrong_kept: int, wrong_dropped: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per-example (correct, kept) flags with the given 2x2 counts (the estimators depend on counts only)."""
    cells = {"correct_kept": correct_kept, "correct_dropped": correct_dropped, "wrong_kept": wrong_kept,
             "wrong_dropped": wrong_dropped}
    for name, v in cells.items():
        if isinstance(v, bool) or int(v) != v or v < 0:
            raise ValueError(f"{name} must be a whole number >= 0, got {v!r}")
    reps = [int(v) for v in cells.values()]
    # two flags per example, which the audit copies to float64 and masks: about 64 bytes
    check_memory(f"the counts' {sum(reps)} examples", 64 * sum(reps))
    correct = np.repeat(np.array([1, 1, 0, 0], dtype=np.int8), reps)
    kept = np.repeat(np.array([1, 0, 1, 0], dtype=np.int8), reps)
    return correct, kept


def phase_point_from_counts(counts: dict, **kwargs) -> PhasePoint:
    """``phase_point`` from a dict with keys ``COUNT_KEYS`` (correct/wrong x kept/dropped counts)."""
    missing = [k for k in COUNT_KEYS if k not in counts]
    if missing:
        raise ValueError(f"counts must have keys {list(COUNT_KEYS)}, missing {missing}")
    return phase_point(*flags_from_counts(*(counts[k] for k in COUNT_KEYS)), **kwargs)


def count_table(correct, kept) -> dict:
    """The 2x2 counts (``COUNT_KEYS``) of boolean flag arrays: what the committed JSON stores."""
    c = np.asarray(correct, dtype=bool)
    k = np.asarray(kept, dtype=bool)
    if c.shape != k.shape or c.ndim != 1:
        raise ValueError(f"correct and kept must be 1-D arrays of the same length, got shapes {c.shape} and {k.shape}")
    return {"correct_kept": int((c & k).sum()), "correct_dropped": int((c & ~k).sum()),
            "wrong_kept": int((~c & k).sum()), "wrong_dropped": int((~c & ~k).sum())}


def breakdown_ratio(p):
    """The breakdown curve in the (p, psi/phi) plane: psi/phi = (1 - p)/p, i.e. p = p* (Thm. 3.2)."""
    p = check_in_interval("p", p, 0, 1, low_open=True)
    return (1.0 - p) / p


# --------------------------------------------------------------------------- observed outcome

def observed_outcome(difference: float, se: float, z: float = 2.0) -> str:
    """"better" / "worse" when a measured difference (strategy minus baseline) exceeds ``z``
    standard errors either way, else "no significant difference" (``numerics.intervals.significant_sign``)."""
    return {1: "better", -1: "worse", 0: "no significant difference"}[significant_sign(difference, se, z)]


def agreement(side: str, outcome: str) -> str:
    """Does the observed outcome match the predicted side? "yes" (improves & better, collapses &
    worse), "no" (the opposite), "unresolved" (an undecided prediction or no significant difference)."""
    check_choice("side", side, SIDES)
    check_choice("outcome", outcome, OUTCOMES)
    if side == "undecided" or outcome == "no significant difference":
        return "unresolved"
    return "yes" if (side == "improves") == (outcome == "better") else "no"


# --------------------------------------------------------------------------- rank correlation

def spearman(x, y) -> float:
    """Spearman's rho (``scipy.stats.spearmanr``: Pearson's correlation of average ranks); NaN if
    either variable is constant."""
    x, y = _pair(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        return float(stats.spearmanr(x, y).statistic)


def kendall_tau_b(x, y) -> float:
    """Kendall's tau-b (``scipy.stats.kendalltau``, variant "b"); NaN if either variable is constant."""
    x, y = _pair(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        return float(stats.kendalltau(x, y, variant="b").statistic)


def kendall_standard_error(x: np.ndarray, y: np.ndarray) -> float:
    """Asymptotic standard error of tau-b from the U-statistic (Hoeffding) decomposition (scipy has none).

    With s_ij = sign(x_i - x_j) sign(y_i - y_j), tau_a = mean over pairs of s_ij and
    var(tau_a) ~ (4/n) var_i(h_i), h_i = mean_{j != i} s_ij (the first Hoeffding projection);
    tau_b = tau_a n0 / sqrt((n0 - n1)(n0 - n2)), n0 = n(n-1)/2 pairs, n1 and n2 the pairs tied in x
    and in y, and its standard error is scaled alike (ties held fixed). NaN if either is constant.
    O(n^2) time, in blocks of O(n) memory.
    """
    n = len(x)
    h = np.zeros(n)
    tie_x = tie_y = 0
    block = max(1, 4_000_000 // max(n, 1))
    for start in range(0, n, block):
        sx = np.sign(x[start:start + block, None] - x[None, :])
        sy = np.sign(y[start:start + block, None] - y[None, :])
        h[start:start + block] = (sx * sy).sum(axis=1)
        tie_x += int((sx == 0).sum())
        tie_y += int((sy == 0).sum())
    n0 = n * (n - 1) // 2
    # the double loop counts each pair twice and each (i, i) diagonal as a tie
    n1, n2 = (tie_x - n) // 2, (tie_y - n) // 2
    den = math.sqrt((n0 - n1) * (n0 - n2))
    if den == 0:
        return float("nan")
    h /= n - 1
    return math.sqrt(4.0 / n * float(np.var(h, ddof=1))) * n0 / den


def _pair(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array("x", x)
    y = as_float_array("y", y)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-D arrays of the same length, got shapes {x.shape} and {y.shape}")
    if len(x) < 3:
        raise ValueError(f"x and y need at least 3 examples, got {len(x)}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be finite (drop missing scores first)")
    return x, y


@dataclass(frozen=True)
class Correlation:
    """A rank correlation with its interval; ``interval`` says how it was computed."""

    method: str
    estimate: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    interval: str


def rank_correlation(x, y, *, method: str = "spearman", confidence: float = 0.95, n_boot: int = 1000,
                     seed: int = 0) -> Correlation:
    """Spearman's rho or Kendall's tau-b of paired scores, with an interval.

    Sec. 5.3 explains why a stronger verifier may select worse data than the generator itself: its
    scores correlate weakly with the generator's. This measures that correlation.

    Intervals: Spearman, percentile bootstrap (``n_boot`` resamples of the n pairs, with
    replacement, from ``seed``; resamples with a constant variable are dropped); Kendall, the
    asymptotic normal interval tau_b +- z se from the U-statistic standard error (a bootstrap of an
    O(n^2) statistic is too slow for the n = 2,469 summaries), clipped to [-1, 1].
    """
    check_choice("method", method, CORRELATIONS)
    conf = float(check_in_interval("confidence", confidence, 0, 1, low_open=True, high_open=True))
    if int(n_boot) != n_boot or n_boot < 100:
        raise ValueError(f"n_boot must be a whole number >= 100, got {n_boot!r}")
    x, y = _pair(x, y)
    tail = (1 - conf) / 2
    if method == "kendall":
        est, se = kendall_tau_b(x, y), kendall_standard_error(x, y)
        if not math.isfinite(est):
            return Correlation(method=method, estimate=est, ci_low=float("nan"), ci_high=float("nan"),
                               confidence=conf, n=len(x), interval="undefined (a constant variable)")
        z = float(special.ndtri(1 - tail))
        return Correlation(method=method, estimate=est, ci_low=max(-1.0, est - z * se), ci_high=min(1.0, est + z * se),
                           confidence=conf, n=len(x), interval="asymptotic normal (U-statistic standard error)")
    est = spearman(x, y)
    rng = np.random.default_rng(seed)
    boots = []
    chunk = max(1, 2_000_000 // len(x))
    for start in range(0, int(n_boot), chunk):
        i = rng.integers(0, len(x), (min(chunk, int(n_boot) - start), len(x)))
        rx = stats.rankdata(x[i], axis=-1)
        ry = stats.rankdata(y[i], axis=-1)
        rx -= rx.mean(axis=1, keepdims=True)
        ry -= ry.mean(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            boots.append((rx * ry).sum(axis=1) / np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1)))
    boots = np.concatenate(boots)
    boots = boots[np.isfinite(boots)]
    lo, hi = np.quantile(boots, [tail, 1 - tail]) if boots.size else (float("nan"), float("nan"))
    return Correlation(method=method, estimate=est, ci_low=float(lo), ci_high=float(hi), confidence=conf,
                       n=len(x), interval=f"percentile bootstrap, {int(n_boot)} resamples, seed {int(seed)}")
