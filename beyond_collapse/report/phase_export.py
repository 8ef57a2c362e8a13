"""Export each experiment's per-example data as compact counts for the "Theory vs experiment" section.

The report section places every synthesized data set of the eigenvalue (Sec. 5.1-5.2) and
summarization (Sec. 5.3) experiments on the phase diagram of Thm. 3.2 / D.3. The estimators
(``beyond_collapse.audit.phase``) need, per data set and per notion of "correct", only the 2x2
counts correct/wrong x kept/dropped, plus the observed outcome of training on it. This module
computes those from what the experiments save and writes one JSON per experiment and profile
under ``docs/results/theory_vs_experiment/``, so the section rebuilds without retraining and
without the gitignored ``runs/`` folder.

The mapping of the binary theory onto these continuous-quality tasks is a heuristic; its choices
are stated in each JSON's ``mapping`` field and in the section.

* Eigen: a label is correct when its relative L1 error is below a reference tolerance (every
  tolerance the experiment reports, and its selection tolerance). The errors and keep bits are the
  ones the pipeline saved per data set (``decisions_<name>.npz``). No selection: greedy labels,
  all kept. Data selection: greedy labels kept iff within the selection tolerance. Label selection
  with beam k: each of the k beam candidates of a prompt is one synthetic example; the kept one is
  the candidate closest to the truth (the pipeline's verifier), so p is the error rate of all
  k x prompts candidates. Observed: greedy test accuracy at the reference tolerance of the models
  retrained on the data set (mean over seeds), minus the generator's (trained on N0 real examples,
  early-stopped the same way); its standard error is half the 95% interval over 1.96.
* Summarization: a synthetic summary is correct when its ROUGE-1 against the reference is above a
  threshold (quantiles of the generator's ROUGE-1 over all synthetic summaries). Kept: selected by
  the strategy at the rate. Observed: paired difference of per-example test ROUGE-1 against the
  generator and against the model trained on 100% real pairs. Also the rank correlations of the
  weak verifier's and the generator's perplexities (Sec. 5.3).

Reading the eigen decisions needs numpy only; nothing here imports torch.
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path

import numpy as np

from beyond_collapse.audit.phase import count_table, rank_correlation
from beyond_collapse.runs import read_json, write_json_atomic

FORMAT_VERSION = 1
SUMMARIZATION_QUANTILES = (0.25, 0.5, 0.75)


def _se_two_binomials(a: float, b: float, n: int) -> float:
    return math.sqrt((a * (1 - a) + b * (1 - b)) / n) if n else float("nan")


def eigen_score_correlations(results: dict, pools: dict[int, dict[str, np.ndarray]], *, max_prompts: int = 1000,
                             seed: int = 0) -> list[dict]:
    """For each label-selection beam k: rank correlation, over the well-formed candidates of the first
    ``max_prompts`` prompts, between the generator's own score (beam log-likelihood) and the
    verifier's (relative L1 error to the truth). Near zero means the generator cannot tell its
    better candidates from its worse ones (the paper's Table 1: the most likely beam is no better
    than greedy). ``pools[k]``: ``{"scores", "errors"}`` (P, k) of the first label chunk."""
    out = []
    for k in sorted(pools):
        m = min(max_prompts, len(pools[k]["errors"]))
        entry = _correlation_entry(f"generator log-likelihood of a beam-{k} candidate", "its relative L1 error",
                                   np.asarray(pools[k]["scores"][:m], dtype=float).reshape(-1),
                                   np.asarray(pools[k]["errors"][:m], dtype=float).reshape(-1), seed)
        entry["prompts"] = m
        out.append(entry)
    return out


def _within(decision: dict, err: np.ndarray, tau: float) -> np.ndarray:
    """The saved "error < tau" flags where the run stored them (computed from float64 errors; the
    stored errors are float32, so recomputing could flip labels within rounding of tau)."""
    taus = [float(t) for t in decision.get("taus", [])]
    if tau in taus:
        return np.asarray(decision["within"][taus.index(tau)], dtype=bool)
    return err < tau


def eigen_export(results: dict, decisions: dict[str, dict[str, np.ndarray]], *, source: dict | None = None,
                 pools: dict[int, dict[str, np.ndarray]] | None = None) -> dict:
    """The committed document for one eigen results document (see the module docstring).

    ``decisions[name]``: what the pipeline saved for data set ``name`` (``selection.load_decisions``:
    per-candidate ``errors`` and ``kept``). Nothing is decoded or re-selected here.
    """
    from beyond_collapse.empirics.eigen.data import tau_label
    from beyond_collapse.empirics.eigen.tables import binomial_se, dataset_title, difference_interval

    prof = results["profile_config"]
    gen = results["generator"]["test"]
    n_test = int(gen["n"])
    refs = sorted({float(t) for t in prof["taus"]} | {float(prof["select_tau"])}, reverse=True)
    rows = []
    for name, ds in results["datasets"].items():
        if name not in decisions:
            raise ValueError(f"data set {name!r} has no saved decisions ({ds.get('decisions')})")
        err, kept = np.asarray(decisions[name]["errors"]), np.asarray(decisions[name]["kept"], dtype=bool)
        if int(kept.sum()) != int(ds["size"]):
            raise ValueError(f"data set {name!r}: {int(kept.sum())} kept examples in its decisions, but the "
                             f"results record {ds['size']}; the decisions and results are from different runs")
        trained = results.get("trained", {}).get(name) or {}
        for tau in refs:
            key = tau_label(tau)
            counts = count_table(_within(decisions[name], err, tau).reshape(-1), kept.reshape(-1))
            recorded = (ds.get("label_accuracy") or {}).get(key)
            kept_n = counts["correct_kept"] + counts["wrong_kept"]
            if recorded is not None and kept_n and abs(counts["correct_kept"] / kept_n - recorded) > 1e-9:
                raise ValueError(f"data set {name!r}: kept-label accuracy at {key} recomputed as "
                                 f"{counts['correct_kept'] / kept_n:.6f}, the pipeline recorded {recorded:.6f}")
            row = {"dataset": name, "title": dataset_title(ds), "selection": ds["selection"], "reference": key,
                   "beam": ds["beam"], "counts": counts, "observed": {}}
            if len(trained.get("seeds", [])) >= 2 and key in gen["accuracy"]:  # one seed: no spread, no outcome
                g = float(gen["accuracy"][key])
                diff, low, high = difference_interval([s[key] for s in trained["seeds"]], g,
                                                      binomial_se(g, n=n_test))
                row["observed"]["generator"] = {
                    "value": trained["mean"][key], "baseline": g, "difference": diff, "se": (high - low) / (2 * 1.96),
                    "metric": f"greedy test accuracy at {key}, mean over {len(trained['seeds'])} seeds (n = {n_test})"}
            rows.append(row)
    return {
        "format": FORMAT_VERSION, "experiment": "eigen", "profile": results["profile"], "seed": results["seed"],
        "complete": bool(results.get("complete", True)), "source": source or {},
        "references": [tau_label(t) for t in refs],
        "mapping": {
            "correct": "relative L1 error of the synthetic eigenvalue vector below the reference tolerance",
            "kept": "the keep bit the pipeline saved for each candidate (decisions_<data set>.npz)",
            "none": "greedy labels of the synthesis prompts, all kept (phi = psi = 1)",
            "data": "greedy labels kept iff their error is below the data set's selection tolerance",
            "label": "each of the k beam candidates of a prompt is one synthetic example; the kept one is the "
                     "candidate closest to the truth (malformed-only prompts keep none); p is the error rate over "
                     "all k x prompts candidates",
            "observed": "retrained models' greedy test accuracy at the reference tolerance (mean over seeds) minus "
                        "the generator's; se = half the 95% interval (seed spread and test-set error) / 1.96",
        },
        "generator": {"accuracy": gen["accuracy"], "n_test": n_test, "n_train": prof.get("n_train")},
        "rows": rows,
        "correlations": eigen_score_correlations(results, pools) if pools else [],
    }


def export_eigen(results_path: str | Path, runs_dir: str | Path, out_path: str | Path) -> Path:
    """Read an eigen results JSON and the decisions its run saved (``decisions_<name>.npz`` in the
    eigen runs folder, and the first label chunk of each beam for the score correlations); write
    the counts document."""
    from beyond_collapse.empirics.eigen.selection import load_decisions

    results_path, runs_dir = Path(results_path), Path(runs_dir)
    if not results_path.exists():
        raise ValueError(f"eigen results {str(results_path)!r} not found: run `beyond-collapse eigen run` first")
    results = read_json(results_path)
    if not isinstance(results, dict):
        kind = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}.get(type(results), "null")
        raise ValueError(f"{str(results_path)!r} holds a JSON {kind}, not an eigen results "
                         "document (an object); pass the results.json that `beyond-collapse eigen run` wrote")
    if "trained" not in results:
        raise ValueError(f"{str(results_path)!r} is an eigen results file of an older format (no 'trained' "
                         "section): rerun `beyond-collapse eigen run`")
    with _shape_errors(results_path, "eigen"):
        decisions = {name: load_decisions(runs_dir / ds["decisions"]) for name, ds in results["datasets"].items()}
        pools = {}
        for ds in results["datasets"].values():
            path = runs_dir / f"pool_b{ds['beam']}_c0.npz"
            if ds["selection"] == "label" and ds["beam"] not in pools and path.exists():
                with np.load(path) as z:
                    pools[ds["beam"]] = {"scores": z["scores"], "errors": z["errors"]}
        source = {"results": results_path.as_posix(), "decisions": runs_dir.as_posix()}
        doc = eigen_export(results, decisions, source=source, pools=pools)
    return write_json_atomic(Path(out_path), doc)


@contextlib.contextmanager
def _shape_errors(path: Path, experiment: str):
    """A results document of another shape (a key missing, a list where an object belongs) fails
    while it is read; say so as a ``ValueError`` naming the file, not as a bare KeyError/TypeError."""
    try:
        yield
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        what = f"no key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ValueError(f"{str(path)!r} does not have the shape of {experiment} results ({what}); pass the "
                         f"results file that `beyond-collapse {experiment}` wrote") from None


def _correlation_entry(x_name: str, y_name: str, x: np.ndarray, y: np.ndarray, seed: int) -> dict:
    ok = np.isfinite(x) & np.isfinite(y)
    entry = {"x": x_name, "y": y_name, "n": int(ok.sum()), "n_dropped_nonfinite": int((~ok).sum())}
    for method in ("spearman", "kendall"):
        c = rank_correlation(x[ok], y[ok], method=method, seed=seed)
        entry[method] = {"estimate": c.estimate, "ci_low": c.ci_low, "ci_high": c.ci_high,
                         "confidence": c.confidence, "interval": c.interval}
    return entry


def _selected(scores: list[dict], key: str) -> np.ndarray:
    """Whether selection ``key`` (e.g. ``"oracle_0.125"``) kept each synthetic summary. The scores file
    lists them per row (``"selected": [...]``); older files had one ``selected_<key>`` flag per selection."""
    if "selected" in scores[0]:
        return np.array([key in r["selected"] for r in scores])
    column = f"selected_{key}"
    if column not in scores[0]:
        raise ValueError(f"selection {key!r} missing from the synthetic scores; they are from another run")
    return np.array([bool(r[column]) for r in scores])


def summarization_export(results: dict, scores: list[dict], *, quantiles=SUMMARIZATION_QUANTILES,
                         source: dict | None = None, seed: int = 0) -> dict:
    """The committed document for one summarization run: ``results`` is its ``results.json``,
    ``scores`` the rows of its ``synthetic_scores.jsonl`` (see the module docstring)."""
    from beyond_collapse.empirics.summarization.pipeline import paired_difference

    rouge = np.array([float(r["rouge1"]) for r in scores])
    thresholds = sorted({float(np.quantile(rouge, q)) for q in quantiles})
    gen = results["generator"]["metrics"]
    baselines = [("generator", gen)]
    if results.get("full_real") is not None:  # a partial run may not have trained it yet
        baselines.append(("real", results["full_real"]["metrics"]))
    rows = []
    for name, sel in results["selections"].items():
        kept = _selected(scores, name.removeprefix("retrain_"))
        if int(kept.sum()) != int(sel["n_train"]):
            raise ValueError(f"{name}: {int(kept.sum())} selected rows in the scores, {sel['n_train']} trained on")
        observed = {}
        for base, ref in baselines:
            d, se = paired_difference(sel["test_rouge1_per_example"], ref["test_rouge1_per_example"])
            observed[base] = {"value": float(sel["test_rouge1"]), "baseline": float(ref["test_rouge1"]),
                              "difference": d, "se": se,
                              "metric": f"test ROUGE-1, paired over {len(ref['test_rouge1_per_example'])} articles"}
        for thr in thresholds:
            q = float(np.mean(rouge <= thr))
            rows.append({"dataset": name, "strategy": sel["strategy"], "rate": float(sel["rate"]),
                         "reference": f"ROUGE-1 > {thr:.3f}", "threshold": thr, "quantile": q,
                         "counts": count_table(rouge > thr, kept), "observed": observed})
    ppl_g = np.array([float(r["ppl_generator"]) for r in scores])
    ppl_w = np.array([float(r["ppl_weak_verifier"]) for r in scores])
    correlations = [
        _correlation_entry("perplexity under the weak verifier", "perplexity under the generator", ppl_w, ppl_g, seed),
        _correlation_entry("perplexity under the generator", "ROUGE-1", ppl_g, rouge, seed),
        _correlation_entry("perplexity under the weak verifier", "ROUGE-1", ppl_w, rouge, seed),
    ]
    return {
        "format": FORMAT_VERSION, "experiment": "summarization", "profile": results["config"]["profile"],
        "seed": results["config"]["seed"], "complete": results.get("complete", True), "source": source or {},
        "references": [f"ROUGE-1 > {t:.3f}" for t in thresholds],
        "mapping": {
            "correct": "ROUGE-1 of the synthetic summary against the reference above the threshold; thresholds are "
                       f"the {', '.join(f'{q:g}' for q in quantiles)} quantiles of ROUGE-1 over all synthetic summaries",
            "kept": "selected by the strategy (oracle: highest ROUGE-1; weak: lowest perplexity under the weak "
                    "verifier; self: lowest perplexity under the generator; random) at the rate",
            "observed": "paired difference of per-example test ROUGE-1 against the generator and against the model "
                        "trained on 100% real pairs",
        },
        "generator": {"test_rouge1": float(gen["test_rouge1"]), "n_train": int(gen["n_train"])},
        "real": {"test_rouge1": float(real["test_rouge1"]), "n_train": int(real["n_train"])}
        if (real := dict(baselines).get("real")) is not None else None,
        "n_synthetic": len(scores), "rows": rows, "correlations": correlations,
    }


def export_summarization(results_path: str | Path, scores_path: str | Path, out_path: str | Path,
                         *, seed: int = 0) -> Path:
    """Read a run's ``results.json`` and ``synthetic_scores.jsonl``; write the counts document."""
    results_path, scores_path = Path(results_path), Path(scores_path)
    for path in (results_path, scores_path):
        if not path.exists():
            raise ValueError(f"{str(path)!r} not found: run `beyond-collapse summarize run` first")
    results = read_json(results_path)
    scores = [json.loads(line) for line in scores_path.read_text().splitlines() if line.strip()]
    if not scores:
        raise ValueError(f"{str(scores_path)!r} has no rows")
    source = {"results": results_path.as_posix(), "scores": scores_path.as_posix()}
    with _shape_errors(results_path, "summarization"):
        doc = summarization_export(results, scores, source=source, seed=seed)
    return write_json_atomic(Path(out_path), doc)
