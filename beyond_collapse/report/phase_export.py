"""Export each experiment's per-example data as compact counts for the "Theory vs experiment" section.

The report section places every synthesized data set of the eigenvalue (Sec. 5.1-5.2) and
summarization (Sec. 5.3) experiments on the phase diagram of Thm. 3.2 / D.3. The estimators
(``beyond_collapse.numerics.phase``) need, per data set and per notion of "correct", only the 2x2
counts correct/wrong x kept/dropped, plus the observed outcome of training on it. This module
computes those from what the experiments save and writes one JSON per experiment and profile
under ``docs/results/theory_vs_experiment/``, so the section rebuilds without retraining and
without the gitignored ``runs/`` folder.

The mapping of the binary theory onto these continuous-quality tasks is a heuristic; its choices
are stated in each JSON's ``mapping`` field and in the section.

* Eigen: a label is correct when its relative L1 error is below a reference tolerance (every
  tolerance the experiment reports, and its selection tolerance). No selection: greedy labels,
  all kept. Data selection: greedy labels kept iff within the selection tolerance. Label selection
  with beam k: each of the k beam candidates of a prompt is one synthetic example; the kept one is
  the candidate closest to the truth (the pipeline's verifier), so p is the error rate of all
  k x prompts candidates. Observed: greedy test accuracy at the reference tolerance of the model
  retrained on the data set, minus the generator's (which is the model trained on real labels with
  the same step budget); standard error treats the two accuracies as independent binomials.
* Summarization: a synthetic summary is correct when its ROUGE-1 against the reference is above a
  threshold (quantiles of the generator's ROUGE-1 over all synthetic summaries). Kept: selected by
  the strategy at the rate. Observed: paired difference of per-example test ROUGE-1 against the
  generator and against the model trained on 100% real pairs. Also the rank correlations of the
  weak verifier's and the generator's perplexities (Sec. 5.3).

Reading the eigen pools needs numpy only (the tokenizer and the verifier are numpy code); nothing
here imports torch.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from beyond_collapse.numerics.phase import count_table, rank_correlation
from beyond_collapse.runs import read_json, write_json_atomic

FORMAT_VERSION = 1
SUMMARIZATION_QUANTILES = (0.25, 0.5, 0.75)


def _se_two_binomials(a: float, b: float, n: int) -> float:
    return math.sqrt((a * (1 - a) + b * (1 - b)) / n) if n else float("nan")


def _greedy_errors(ids: np.ndarray, eig: np.ndarray) -> np.ndarray:
    """Relative L1 error of each decoded output (inf where malformed); ids (P, k, L), eig (P, n) -> (P, k).

    The same computation as ``empirics.eigen.experiments.decoded_errors``, from its numpy-only parts,
    so the export does not load torch.
    """
    from beyond_collapse.empirics.eigen.data import relative_l1_error
    from beyond_collapse.empirics.eigen.tokenizer import decode_output_ids

    p, k, length = ids.shape
    values, _ = decode_output_ids(ids.reshape(p * k, length), eig.shape[1])
    return relative_l1_error(values.reshape(p, k, -1), eig[:, None, :])


def eigen_flags(results: dict, pools: dict[int, np.ndarray], eig: np.ndarray) -> dict[str, dict]:
    """Per data set of an eigen results document: ``{"errors", "kept", "beam"}`` arrays.

    ``pools[k]``: the stored beam-k token ids (prompts, k, length) (``pool_beam{k}.npz``);
    ``eig``: the true eigenvalues of the prompts, in the pipeline's order. ``errors`` are the
    relative L1 errors of every synthetic candidate (flattened over beams), ``kept`` the
    selection's flags. Only data sets listed in ``results["datasets"]`` are returned.
    """
    prof = results["profile_config"]
    n_prompts = int(prof["n_prompts"])
    out = {}
    for name, info in results["datasets"].items():
        k = int(info["beam"])
        if k not in pools:
            raise ValueError(f"data set {name!r} needs pool_beam{k}.npz, which was not given")
        ids = pools[k]
        if name.startswith("label_selection_beam"):
            err = _greedy_errors(ids[:n_prompts], eig[:n_prompts])  # (P, k)
            best = err.argmin(axis=1)
            kept = np.zeros_like(err, dtype=bool)
            rows = np.arange(len(err))
            kept[rows, best] = np.isfinite(err[rows, best])
            out[name] = {"errors": err.reshape(-1), "kept": kept.reshape(-1), "beam": k}
            continue
        if name == "no_selection":
            count, tau = n_prompts, None
        elif name == "data_selection":
            count, tau = n_prompts, float(prof["select_tau"])
        elif name.startswith("data_selection_"):
            mult = int(name.rsplit("_x", 1)[1])
            taus = [float(t) for t, m in prof["table3"] if int(m) == mult and name == _table3_name(t, m)]
            if not taus:
                raise ValueError(f"data set {name!r} matches no (tau, multiplier) in profile_config.table3 "
                                 f"{prof['table3']}")
            count, tau = n_prompts * mult, taus[0]
        else:
            raise ValueError(f"unknown eigen data set {name!r}")
        err = _greedy_errors(ids[:count, :1], eig[:count])[:, 0]
        kept = np.ones(count, dtype=bool) if tau is None else err < tau
        out[name] = {"errors": err, "kept": kept, "beam": k}
    return out


def _table3_name(tau, mult) -> str:
    from beyond_collapse.empirics.eigen.data import tau_label

    return f"data_selection_{tau_label(float(tau))}_x{int(mult)}"


def eigen_score_correlations(results: dict, pools: dict[int, np.ndarray], scores: dict[int, np.ndarray],
                             eig: np.ndarray, *, max_prompts: int = 1000, seed: int = 0) -> list[dict]:
    """For each label-selection beam k: rank correlation, over the well-formed candidates of the first
    ``max_prompts`` prompts, between the generator's own score (beam log-likelihood) and the
    verifier's (relative L1 error to the truth). Near zero means the generator cannot tell its
    better candidates from its worse ones (the paper's Table 1: the most likely beam is no better
    than greedy)."""
    out = []
    for name, info in results["datasets"].items():
        k = int(info["beam"])
        if not name.startswith("label_selection_beam") or k not in scores:
            continue
        m = min(max_prompts, int(results["profile_config"]["n_prompts"]))
        err = _greedy_errors(pools[k][:m], eig[:m]).reshape(-1)
        ll = np.asarray(scores[k][:m], dtype=float).reshape(-1)
        entry = _correlation_entry(f"generator log-likelihood of a beam-{k} candidate", "its relative L1 error",
                                   ll, err, seed)
        entry["prompts"] = m
        out.append(entry)
    return out


def eigen_export(results: dict, pools: dict[int, np.ndarray], eig: np.ndarray, *, source: dict | None = None,
                 scores: dict[int, np.ndarray] | None = None) -> dict:
    """The committed document for one eigen results document (see the module docstring)."""
    from beyond_collapse.empirics.eigen.data import tau_label

    prof = results["profile_config"]
    gen = results["generator"]["test"]
    n_test = int(gen["n"])
    refs = sorted({float(t) for t in prof["taus"]} | {float(prof["select_tau"])}, reverse=True)
    flags = eigen_flags(results, pools, eig)
    rows = []
    for name, f in flags.items():
        ds = results["datasets"][name]
        if int(f["kept"].sum()) != int(ds["size"]):
            raise ValueError(f"data set {name!r}: {int(f['kept'].sum())} kept examples recomputed from the pools, "
                             f"but the results record {ds['size']}; the pools and results are from different runs")
        trained = (results["table2"].get(name) or {}).get("best")
        for tau in refs:
            key = tau_label(tau)
            counts = count_table(f["errors"] < tau, f["kept"])
            recorded = (ds.get("label_accuracy") or {}).get(key)
            kept_n = counts["correct_kept"] + counts["wrong_kept"]
            if recorded is not None and kept_n and abs(counts["correct_kept"] / kept_n - recorded) > 1e-9:
                raise ValueError(f"data set {name!r}: kept-label accuracy at {key} recomputed as "
                                 f"{counts['correct_kept'] / kept_n:.6f}, the pipeline recorded {recorded:.6f}")
            row = {"dataset": name, "reference": key, "beam": f["beam"], "counts": counts, "observed": {}}
            if trained is not None and key in trained and key in gen["accuracy"]:
                a, g = float(trained[key]), float(gen["accuracy"][key])
                row["observed"]["generator"] = {"value": a, "baseline": g, "difference": a - g,
                                                "se": _se_two_binomials(a, g, n_test),
                                                "metric": f"greedy test accuracy at {key} (n = {n_test})"}
            rows.append(row)
    return {
        "format": FORMAT_VERSION, "experiment": "eigen", "profile": results["profile"], "seed": results["seed"],
        "complete": bool(results.get("complete", True)), "source": source or {},
        "references": [tau_label(t) for t in refs],
        "mapping": {
            "correct": "relative L1 error of the synthetic eigenvalue vector below the reference tolerance",
            "no_selection": "greedy labels of the synthesis prompts, all kept (phi = psi = 1)",
            "data_selection": f"greedy labels kept iff their error is below the selection tolerance "
                              f"{tau_label(float(prof['select_tau']))}",
            "data_selection_<tau>_x<m>": "greedy labels of m times more prompts, kept iff within tau (Table 3)",
            "label_selection_beam<k>": "each of the k beam candidates of a prompt is one synthetic example; the "
                                       "kept one is the candidate closest to the truth (malformed-only prompts keep "
                                       "none); p is the error rate over all k x prompts candidates",
            "observed": "retrained model's greedy test accuracy at the reference tolerance minus the generator's; "
                        "the generator is the model trained on real labels (same step budget)",
        },
        "generator": {"accuracy": gen["accuracy"], "n_test": n_test, "n_train": prof.get("n_train")},
        "rows": rows,
        "correlations": eigen_score_correlations(results, pools, scores, eig) if scores else [],
    }


def export_eigen(results_path: str | Path, pools_dir: str | Path, out_path: str | Path) -> Path:
    """Read an eigen results JSON and its ``pool_beam{k}.npz`` files; write the counts document.

    The prompts are regenerated from the results' seed and profile (``sample_examples(n, count,
    seed, "prompts")``, as the pipeline does) to get the true eigenvalues.
    """
    from beyond_collapse.empirics.eigen.data import sample_examples

    results_path, pools_dir = Path(results_path), Path(pools_dir)
    if not results_path.exists():
        raise ValueError(f"eigen results {str(results_path)!r} not found: run `beyond-collapse eigen run` first")
    results = read_json(results_path)
    prof = results["profile_config"]
    mult = max([int(m) for _, m in prof["table3"]], default=1)
    count = int(prof["n_prompts"]) * mult
    prompts = sample_examples(int(prof["model"]["n"]), count, int(results["seed"]), "prompts")
    pools, scores = {}, {}
    for k in sorted({int(d["beam"]) for d in results["datasets"].values()}):
        path = pools_dir / f"pool_beam{k}.npz"
        if not path.exists():
            raise ValueError(f"{str(path)!r} not found: the eigen runs folder of this profile is needed")
        with np.load(path) as z:
            pools[k] = z["ids"].astype(np.int64)
            scores[k] = z["scores"].astype(np.float64)
    source = {"results": results_path.as_posix(), "pools": pools_dir.as_posix()}
    doc = eigen_export(results, pools, prompts.eig, source=source, scores=scores)
    return write_json_atomic(Path(out_path), doc)


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
    """The committed document for one summarization run: ``results`` is ``results_<profile>.json``,
    ``scores`` the rows of ``synthetic_scores_<profile>.jsonl`` (see the module docstring)."""
    from beyond_collapse.empirics.summarization.pipeline import paired_difference

    rouge = np.array([float(r["rouge1"]) for r in scores])
    thresholds = sorted({float(np.quantile(rouge, q)) for q in quantiles})
    gen = results["generator"]["metrics"]
    real = results["full_real"]["metrics"]
    rows = []
    for name, sel in results["selections"].items():
        kept = _selected(scores, name.removeprefix("retrain_"))
        if int(kept.sum()) != int(sel["n_train"]):
            raise ValueError(f"{name}: {int(kept.sum())} selected rows in the scores, {sel['n_train']} trained on")
        observed = {}
        for base, ref in (("generator", gen), ("real", real)):
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
        "seed": results["config"]["seed"], "complete": True, "source": source or {},
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
        "real": {"test_rouge1": float(real["test_rouge1"]), "n_train": int(real["n_train"])},
        "n_synthetic": len(scores), "rows": rows, "correlations": correlations,
    }


def export_summarization(results_path: str | Path, scores_path: str | Path, out_path: str | Path,
                         *, seed: int = 0) -> Path:
    """Read ``results_<profile>.json`` and ``synthetic_scores_<profile>.jsonl``; write the counts document."""
    results_path, scores_path = Path(results_path), Path(scores_path)
    for path in (results_path, scores_path):
        if not path.exists():
            raise ValueError(f"{str(path)!r} not found: run `beyond-collapse summarize run` first")
    results = read_json(results_path)
    scores = [json.loads(line) for line in scores_path.read_text().splitlines() if line.strip()]
    if not scores:
        raise ValueError(f"{str(scores_path)!r} has no rows")
    source = {"results": results_path.as_posix(), "scores": scores_path.as_posix()}
    doc = summarization_export(results, scores, source=source, seed=seed)
    return write_json_atomic(Path(out_path), doc)
