"""Verifier audit: from a hand-labelled sample of synthesized examples to a collapse-risk verdict.

A user checks a few hundred synthesized examples by hand and records, for each one, the true
label y, the synthetic label y' and whether the verifier kept it (q = 1). This module estimates
the paper's pruning parameters from that sample and says whether training on the
verifier-filtered data is predicted to reach the optimum (p < p*) or to collapse (p > p*).

Model (Sec. 3.2, App. D.3). Rows are iid; p = P(y' != y) (eq. (2)); phi_k = P(q = 1 | y = y' = k)
and psi_kl = P(q = 1 | y = k, y' = l) for l != k (eqs. (3), (15)). The likelihood of the sample
factorizes into one binomial per parameter (the class frequencies are a nuisance factor that
does not involve them), so:

* estimates are proportions k/n with exact Clopper-Pearson intervals (``intervals.py``);
* under independent Beta(a, b) priors the posterior is a product of independent Betas
  (Beta-binomial conjugacy), sampled by Monte Carlo with an explicit seed.

Breakdown point. For the symmetric RLHF-type strategy, p* = 1/(1 + psi/phi) (Thm. 3.2 / D.3).
For class-dependent parameters it depends on the Gram structure of Condition D.1 (App. E.3):

* ``condition="pooled"`` (default; b = -a, the Gaussian mixture): Prop. E.3 needs
  N10 + N01 < N11 + N00, i.e. with eq. (14) p (psi01 + psi10) < (1 - p)(phi0 + phi1): the
  symmetric formula with phi and psi replaced by the class averages;
* ``condition="per-class"`` (b = 0): Prop. E.4 needs N10 < N11 and N01 < N00, i.e.
  p < min(phi0 / (phi0 + psi01), phi1 / (phi1 + psi10)) for both classes to be learned.

Both reduce to the symmetric p* when phi0 = phi1 and psi01 = psi10. The model-free check gives the
posterior probability of the same inequality written on the kept rows alone (kept error rate
below 1/2, pooled or in each true class), which needs neither balanced classes nor a
class-independent error rate.

Symmetry (phi0 = phi1 and psi01 = psi10) is checked with two two-sided Fisher exact tests on the
2x2 tables (class x kept) of correct rows and of wrong rows, Bonferroni-combined at level
``symmetry_alpha`` (each test at symmetry_alpha / 2). Not rejecting symmetry is not proof of it;
``model="class"`` forces the class-dependent model.

Sample size to decide. If the posterior probability of p < p* lies strictly between
1 - decision_level and decision_level, the audit reports the number of rows n' at which a margin
m = p* - p with the current posterior mean and a posterior sd scaling as 1/sqrt(n) would give a
decision: n' = n (z sd / |mean|)^2, z = Phi^{-1}(decision_level) (normal approximation of the
margin's posterior).
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy import special, stats

from beyond_collapse._validation import check_choice, check_in_interval, check_positive
from beyond_collapse.numerics.intervals import clopper_pearson
from beyond_collapse.theory import breakdown_point, per_class_breakdown_points, pooled_breakdown_point

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none"})
_TRUE_TOKENS = {"1": 1, "1.0": 1, "true": 1, "0": 0, "0.0": 0, "false": 0}
MODELS = ("auto", "symmetric", "class")
CONDITIONS = ("pooled", "per-class")
MISSING_POLICIES = ("refuse", "drop")
FORMATS = ("csv", "jsonl")


# --------------------------------------------------------------------------- reading

def _detect_format(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        return check_choice("format", fmt, FORMATS)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    raise ValueError(f"cannot tell the format of {str(path)!r} from its extension; pass format='csv' or 'jsonl'")


def read_audit_table(path: str | os.PathLike, columns: list[str], fmt: str | None = None) -> dict[str, list]:
    """Read the named ``columns`` of a CSV (header row) or JSON Lines (one object per line) file.

    Returns raw values per column (strings for CSV, JSON values for JSON Lines; a key absent from a
    JSON object reads as None, i.e. missing). Raises ``ValueError`` for an unreadable or empty file
    and for a column that appears nowhere.
    """
    path = Path(path)
    kind = _detect_format(path, fmt)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"cannot read audit file {str(path)!r}: {exc.strerror or exc}") from None
    if kind == "csv":
        dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
        reader = csv.DictReader(text.splitlines(), dialect=dialect)
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        rows = list(reader)
        present = set(header)
    else:
        rows, present = [], set()
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{str(path)!r} line {lineno} is not valid JSON: {exc.msg}") from None
            if not isinstance(obj, dict):
                raise ValueError(f"{str(path)!r} line {lineno} must be a JSON object, got {type(obj).__name__}")
            rows.append(obj)
            present.update(obj)
    if not rows:
        raise ValueError(f"audit file {str(path)!r} has no data rows")
    for col in columns:
        if col not in present:
            shown = ", ".join(sorted(map(str, present))) or "none"
            raise ValueError(f"column {col!r} not found in {str(path)!r} (columns: {shown})")
    return {col: [row.get(col) for row in rows] for col in columns}


def _plain(v):
    """numpy scalars as Python values, so messages show 2, not np.int64(2)."""
    return v.item() if isinstance(v, np.generic) else v


def parse_binary(name: str, values) -> tuple[np.ndarray, np.ndarray]:
    """Turn a column into (values in {0, 1} as int8, missing mask).

    Accepted: 0/1 (ints, floats, strings such as "1" or "1.0") and true/false (booleans or
    strings, any case). Missing: None, NaN and the strings in ``MISSING_TOKENS``. Anything else
    raises ``ValueError`` naming the column, the (1-based) row and the value.
    """
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if arr.ndim != 1:
        raise ValueError(f"column {name!r} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind in "biuf":
        x = arr.astype(np.float64)
        missing = np.isnan(x)
        bad = ~missing & (x != 0) & (x != 1)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"column {name!r} row {i + 1}: value {_plain(arr[i])!r} is not binary "
                             "(expected 0/1 or true/false)")
        return np.where(missing, 0, x).astype(np.int8), missing
    out = np.zeros(len(arr), dtype=np.int8)
    missing = np.zeros(len(arr), dtype=bool)
    for i, v in enumerate(arr):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            missing[i] = True
        elif isinstance(v, (bool, np.bool_)):
            out[i] = int(v)
        elif isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
            out[i] = int(v)
        elif isinstance(v, str) and v.strip().lower() in MISSING_TOKENS:
            missing[i] = True
        elif isinstance(v, str) and v.strip().lower() in _TRUE_TOKENS:
            out[i] = _TRUE_TOKENS[v.strip().lower()]
        else:
            raise ValueError(f"column {name!r} row {i + 1}: value {_plain(v)!r} is not binary "
                             "(expected 0/1 or true/false)")
    return out, missing


# --------------------------------------------------------------------------- result objects

@dataclass(frozen=True)
class RateEstimate:
    """A binomial proportion: ``successes`` out of ``trials``, the estimate and its exact interval."""

    name: str
    meaning: str
    successes: int
    trials: int
    estimate: float | None
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class SymmetryTest:
    """Fisher exact tests of phi0 = phi1 and psi01 = psi10 (two-sided, Bonferroni-combined)."""

    method: str
    alpha: float
    p_value_phi: float
    p_value_psi: float
    consistent: bool
    p_value_error_by_class: float


@dataclass(frozen=True)
class Posterior:
    """Monte Carlo summary of the posterior of the margin m = p* - p."""

    prior: tuple[float, float]
    model: str
    condition: str
    n_draws: int
    seed: int | None
    prob_p_below_p_star: float
    mc_standard_error: float
    p_star_mean: float
    p_star_interval: tuple[float, float]
    margin_mean: float
    margin_sd: float
    margin_interval: tuple[float, float]
    prob_kept_error_below_half: float


@dataclass(frozen=True)
class AuditResult:
    """What ``audit`` found. ``to_dict()`` is the ``--json`` output, ``to_text()`` the default one."""

    source: str
    mode: str
    n_rows: int
    n_missing: int
    n_used: int
    missing_policy: str
    counts: dict
    rates: dict
    symmetry: SymmetryTest | None
    model: str
    p_star: float | None
    margin: float | None
    posterior: Posterior
    confidence: float
    decision_level: float
    verdict: str
    rows_needed: float | None
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["rows_needed"] is not None and math.isinf(d["rows_needed"]):
            d["rows_needed"] = "inf"
        return d

    def to_text(self) -> str:
        lines = [f"Audit of {self.source}: {self.n_rows} rows, {self.n_used} used"
                 + (f", {self.n_missing} with missing values dropped" if self.n_missing else "")]
        c = int(self.confidence * 100) if float(self.confidence * 100).is_integer() else self.confidence * 100
        lines.append(f"Estimates (exact Clopper-Pearson {c}% intervals):")
        for r in self.rates.values():
            est = "n/a" if r.estimate is None else f"{r.estimate:.4f}"
            lines.append(f"  {r.name:<8}{est:>6}  [{r.ci_low:.4f}, {r.ci_high:.4f}]  "
                         f"{r.successes}/{r.trials}  {r.meaning}")
        if self.symmetry is not None:
            s = self.symmetry
            lines.append(f"Symmetry ({s.method}): p-values phi0=phi1: {s.p_value_phi:.3g}, "
                         f"psi01=psi10: {s.p_value_psi:.3g} -> "
                         + ("consistent with symmetry" if s.consistent else "symmetry rejected")
                         + f" at level {s.alpha:g}; error rate equal across classes: p-value "
                         f"{s.p_value_error_by_class:.3g}")
        post = self.posterior
        lines.append(f"Model: {self.model}, condition {post.condition}; "
                     f"prior Beta({post.prior[0]:g}, {post.prior[1]:g}) on each rate")
        if self.p_star is not None:
            lines.append(f"Breakdown point p* = {self.p_star:.4f} (plug-in), margin p* - p = {self.margin:+.4f}")
        else:
            lines.append("Breakdown point p*: no plug-in value (a keep rate has no rows; see notes)")
        lo, hi = post.margin_interval
        lines.append(f"Posterior: P(p < p*) = {post.prob_p_below_p_star:.4f} (Monte Carlo, {post.n_draws} draws, "
                     f"seed {post.seed}, s.e. {post.mc_standard_error:.1e}); margin mean {post.margin_mean:+.4f}, "
                     f"sd {post.margin_sd:.4f}, {c}% credible interval [{lo:+.4f}, {hi:+.4f}]")
        if post.condition == "pooled":
            lines.append(f"Model-free check (Prop. E.3: kept wrong < kept right): P(p_kept < 1/2) = "
                         f"{post.prob_kept_error_below_half:.4f}")
        else:
            lines.append(f"Model-free check (Prop. E.4: kept wrong < kept right in each true class): "
                         f"P(p_kept0 < 1/2 and p_kept1 < 1/2) = {post.prob_kept_error_below_half:.4f}")
        lines.append(f"Verdict at {self.decision_level:g}: {_VERDICT_TEXT[self.verdict]}")
        if self.rows_needed is not None:
            need = "more data will not decide it (margin mean 0)" if math.isinf(self.rows_needed) \
                else f"about {int(self.rows_needed)} audited rows"
            lines.append(f"To decide at {self.decision_level:g}: {need} "
                         "(normal approximation, posterior sd of the margin scaling as 1/sqrt(n))")
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)


_VERDICT_TEXT = {
    "improves": "p < p*: training on the verifier-kept data is predicted to reach the optimum",
    "collapses": "p > p*: training on the verifier-kept data is predicted to collapse",
    "undecided": "undecided: the sample cannot tell p < p* from p > p* at this level",
}


# --------------------------------------------------------------------------- the audit

def _load_columns(source, names: dict, fmt: str | None) -> tuple[str, dict[str, list]]:
    wanted = list(names.values())
    if isinstance(source, (str, os.PathLike)):
        return str(source), read_audit_table(source, wanted, fmt)
    if isinstance(source, Mapping) or hasattr(source, "keys"):
        keys = set(source.keys())
        for col in wanted:
            if col not in keys:
                raise ValueError(f"column {col!r} not found in the audit data (columns: {', '.join(map(str, sorted(keys)))})")
        cols = {col: source[col] for col in wanted}
        lengths = {len(v) for v in cols.values()}
        if len(lengths) != 1:
            raise ValueError(f"audit columns must have equal lengths, got {sorted(lengths)}")
        if lengths == {0}:
            raise ValueError("the audit data have no rows")
        return "<in-memory data>", cols
    raise ValueError(f"source must be a file path or a mapping of column name to values, got {type(source).__name__}")


def _rate(name, meaning, k, n, confidence) -> RateEstimate:
    low, high = clopper_pearson(k, n, confidence)
    return RateEstimate(name, meaning, int(k), int(n), (k / n) if n else None, float(low), float(high))


def _tabulate(vals: dict[str, np.ndarray], mode: str, conf: float, s_alpha: float):
    """Counts, rate estimates (Clopper-Pearson) and the Fisher symmetry tests of one audit sample."""
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
    if int(n_draws) != n_draws or n_draws < 1000:
        raise ValueError(f"n_draws must be a whole number >= 1000, got {n_draws!r}")
    n_draws = int(n_draws)

    mode = "correctness" if correct_col is not None else "labels"
    if mode == "correctness" and model == "class":
        raise ValueError("model must be 'symmetric' or 'auto' in correctness-flag mode (no classes), got 'class'")
    names = {"correct": correct_col, "kept": kept_col} if mode == "correctness" else \
        {"y_true": true_col, "y_syn": syn_col, "kept": kept_col}
    label, raw = _load_columns(source, names, fmt)
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


# --------------------------------------------------------------------------- calibration

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
    if int(n_audits) != n_audits or n_audits < 1:
        raise ValueError(f"n_audits must be a whole number >= 1, got {n_audits!r}")
    true_margin = float(truth["p_star"]) - float(truth["p"])
    if true_margin == 0:
        raise ValueError("truth has p = p*: no statement can be right or wrong; choose other parameters")
    seeds = np.random.SeedSequence(seed).spawn(int(n_audits))
    rate_names = [k for k in truth if k not in ("p_star",)]
    covered = {k: 0 for k in rate_names}
    counts = {"improves": 0, "collapses": 0, "undecided": 0}
    n_right = n_margin_covered = kept_decided = kept_wrong = 0
    follow = {"n": 0, "decided": 0, "right": 0, "capped": 0, "rows": []}

    def run(rng, n):
        y_true, y_syn, kept = sample(rng, n)
        return audit({"y_true": y_true, "y_syn": y_syn, "kept": kept}, confidence=level,
                     decision_level=level, n_draws=n_draws, seed=int(rng.integers(2**63)))

    for ss in tqdm(seeds, desc="audits", disable=not progress):
        rng = np.random.default_rng(ss)
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
