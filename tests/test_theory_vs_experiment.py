"""Tests of the export (beyond_collapse.report.phase_export), the "Theory vs experiment" section and
the ``beyond-collapse phase`` commands, on small synthetic experiment outputs built here with
known counts."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from beyond_collapse.cli import main
from beyond_collapse.empirics.eigen.selection import decoded_errors, keep_bits, save_decisions
from beyond_collapse.empirics.eigen.tokenizer import EOS, PAD, p1000_triplets
from beyond_collapse.audit.phase import count_table
from beyond_collapse.report import ReportContext
from beyond_collapse.report.phase_export import eigen_export, export_summarization, summarization_export
from beyond_collapse.report.sections import theory_vs_experiment as section


def _ids(pred: np.ndarray) -> np.ndarray:
    """Well-formed output ids (no BOS) of predicted eigenvalues (P, n): triplets then EOS."""
    trip = p1000_triplets(pred).reshape(len(pred), -1)
    return np.concatenate([trip, np.full((len(pred), 1), EOS)], axis=1)


def _malformed(count: int, n: int) -> np.ndarray:
    return np.full((count, 3 * n + 1), PAD)


def _pred(errors) -> np.ndarray:
    """Predictions of the eigenvalues (5, -3) (sum |v| = 8) with the given relative L1 errors (P1000-exact)."""
    return np.array([[5.0 + 8 * e, -3.0] for e in errors])


def _eigen_inputs():
    """A hand-made eigen run: results in the pipeline's format and the decisions its selection rules make."""
    eig = np.tile([5.0, -3.0], (20, 1))
    greedy = np.concatenate([_ids(_pred([0.01] * 3 + [0.03] * 3 + [0.08] * 2)), _malformed(2, 2),
                             _ids(_pred([0.01] * 5 + [0.08] * 5))])[:, None, :]  # (20, 1, 7)
    beam0 = np.concatenate([_ids(_pred([0.03] * 4 + [0.08] * 4)), _malformed(2, 2)])
    beam1 = np.concatenate([_ids(_pred([0.01] * 4 + [0.03] * 4)), _malformed(2, 2)])
    beams = np.stack([beam0, beam1], axis=1)  # (10, 2, 7)
    err1, err2 = decoded_errors(greedy, eig), decoded_errors(beams, eig[:10])
    decisions = {"none_x1": (err1[:10], keep_bits(err1[:10], "none")),
                 "data_5pct_x1": (err1[:10], keep_bits(err1[:10], "data", 0.05)),
                 "label_b2_x1": (err2, keep_bits(err2, "label")),
                 "data_2pct_x2": (err1, keep_bits(err1, "data", 0.02))}
    decisions = {k: {"errors": e, "kept": kept} for k, (e, kept) in decisions.items()}
    spec = lambda sel, beam, mult, tau, size: {"selection": sel, "beam": beam, "multiple": mult, "tau": tau,
                                               "roles": ["table2"], "size": size}
    seeds = lambda *accs: {"seeds": [{"5%": a, "2%": a / 2} for a in accs],
                           "mean": {"5%": float(np.mean(accs)), "2%": float(np.mean(accs)) / 2}}
    results = {
        "profile": "quick", "seed": 0, "complete": True,
        "profile_config": {"n_train": 10, "select_tau": 0.05, "taus": [0.05, 0.02]},
        "generator": {"test": {"accuracy": {"5%": 0.5, "2%": 0.2}, "n": 100}},
        "datasets": {"none_x1": spec("none", 1, 1, None, 10), "data_5pct_x1": spec("data", 1, 1, 0.05, 6),
                     "label_b2_x1": spec("label", 2, 1, None, 8), "data_2pct_x2": spec("data", 1, 2, 0.02, 8)},
        "trained": {"none_x1": seeds(0.3, 0.3), "data_5pct_x1": seeds(0.68, 0.72), "label_b2_x1": seeds(0.5, 0.5),
                    "data_2pct_x2": {"seeds": []}},
    }
    return results, decisions


def _counts(ck, cd, wk, wd):
    return {"correct_kept": ck, "correct_dropped": cd, "wrong_kept": wk, "wrong_dropped": wd}


def test_eigen_export_counts_by_hand():
    results, decisions = _eigen_inputs()
    doc = eigen_export(results, decisions)
    got = {(r["dataset"], r["reference"]): r["counts"] for r in doc["rows"]}
    # worked out from the constructed errors: greedy 0.01 x3, 0.03 x3, 0.08 x2, malformed x2 (first 10 prompts)
    assert got["none_x1", "5%"] == _counts(6, 0, 4, 0)
    assert got["none_x1", "2%"] == _counts(3, 0, 7, 0)
    assert got["data_5pct_x1", "5%"] == _counts(6, 0, 0, 4)
    assert got["data_5pct_x1", "2%"] == _counts(3, 0, 3, 4)
    # beams: (0.03, 0.01) x4, (0.08, 0.03) x4, both malformed x2; the closest beam is kept when well formed
    assert got["label_b2_x1", "2%"] == _counts(4, 0, 4, 12)  # 20 candidates
    assert got["label_b2_x1", "5%"] == _counts(8, 4, 0, 8)
    # Table 3 row: 20 greedy labels, kept within 2%: 0.01 x3 and x5
    assert got["data_2pct_x2", "2%"] == _counts(8, 0, 0, 12)
    assert got["data_2pct_x2", "5%"] == _counts(8, 3, 0, 9)
    obs = {(r["dataset"], r["reference"]): r["observed"] for r in doc["rows"]}
    o = obs["data_5pct_x1", "5%"]["generator"]
    assert o["difference"] == pytest.approx(0.7 - 0.5)
    # 95% half-width: t(0.975, 1) * sd / sqrt(2) with sd = 0.02 * sqrt(2), and the generator's binomial error
    half = math.hypot(stats.t.ppf(0.975, 1) * 0.02, 1.96 * math.sqrt(0.5 * 0.5 / 100))
    assert o["se"] == pytest.approx(half / 1.96)
    assert obs["data_2pct_x2", "5%"] == {}  # not trained: no observed outcome
    assert {r["title"] for r in doc["rows"]} >= {"Label selection, beam 2, 1x N0", "Data selection 2%, 2x N0"}


def test_eigen_export_refuses_mismatched_runs():
    results, decisions = _eigen_inputs()
    results["datasets"]["data_5pct_x1"]["size"] = 7
    with pytest.raises(ValueError, match="different runs"):
        eigen_export(results, decisions)
    results["datasets"]["data_5pct_x1"]["size"] = 6
    results["datasets"]["data_5pct_x1"]["label_accuracy"] = {"2%": 0.5, "5%": 1.0}  # true: 3/6 and 6/6
    eigen_export(results, decisions)
    results["datasets"]["data_5pct_x1"]["label_accuracy"] = {"2%": 0.6}
    with pytest.raises(ValueError, match="recorded 0.6"):
        eigen_export(results, decisions)
    del decisions["none_x1"]
    with pytest.raises(ValueError, match="no saved decisions"):
        eigen_export(results, decisions)


def _summ_inputs():
    rouge = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    ppl_g = [9.0, 8.0, 7.5, 6.0, 6.5, 4.0, 3.0, 3.5]
    ppl_w = [5.0, 9.0, 2.0, 6.0, 7.0, 1.0, 8.0, 3.0]
    keep = {"oracle_0.25": {6, 7}, "random_0.25": {0, 7}}
    scores = [{"index": i, "rouge1": rouge[i], "ppl_generator": ppl_g[i], "ppl_weak_verifier": ppl_w[i],
               **{f"selected_{k}": i in v for k, v in keep.items()}} for i in range(8)]
    gen_test = [0.2, 0.3, 0.1, 0.4, 0.25]
    results = {
        "config": {"profile": "quick", "seed": 0},
        "generator": {"metrics": {"test_rouge1": float(np.mean(gen_test)), "n_train": 1, "test_rouge1_per_example": gen_test}},
        "full_real": {"metrics": {"test_rouge1": 0.3, "n_train": 8, "test_rouge1_per_example": [0.3, 0.3, 0.2, 0.4, 0.3]}},
        "selections": {
            "retrain_oracle_0.25": {"strategy": "oracle", "rate": 0.25, "n_train": 2, "test_rouge1": 0.36,
                                    "test_rouge1_per_example": [0.4, 0.4, 0.2, 0.5, 0.3]},
            "retrain_random_0.25": {"strategy": "random", "rate": 0.25, "n_train": 2, "test_rouge1": 0.2,
                                    "test_rouge1_per_example": [0.1, 0.2, 0.1, 0.3, 0.3]},
        },
    }
    return results, scores


def test_summarization_export_counts_outcomes_and_correlations():
    results, scores = _summ_inputs()
    doc = summarization_export(results, scores)
    # numpy's linear quantiles of 0.1..0.8 at 0.25, 0.5, 0.75
    assert doc["references"] == ["ROUGE-1 > 0.275", "ROUGE-1 > 0.450", "ROUGE-1 > 0.625"]
    got = {(r["dataset"], r["reference"]): r["counts"] for r in doc["rows"]}
    assert got["retrain_oracle_0.25", "ROUGE-1 > 0.450"] == _counts(2, 2, 0, 4)
    assert got["retrain_random_0.25", "ROUGE-1 > 0.450"] == _counts(1, 3, 1, 3)
    assert got["retrain_oracle_0.25", "ROUGE-1 > 0.625"] == _counts(2, 0, 0, 6)
    row = next(r for r in doc["rows"] if r["dataset"] == "retrain_oracle_0.25")
    d = [a - b for a, b in zip([0.4, 0.4, 0.2, 0.5, 0.3], [0.2, 0.3, 0.1, 0.4, 0.25])]
    assert row["observed"]["generator"]["difference"] == pytest.approx(statistics.mean(d), abs=1e-12)
    assert row["observed"]["generator"]["se"] == pytest.approx(statistics.stdev(d) / math.sqrt(5), abs=1e-12)
    corr = doc["correlations"][0]
    assert corr["spearman"]["estimate"] == pytest.approx(stats.spearmanr(
        [s["ppl_weak_verifier"] for s in scores], [s["ppl_generator"] for s in scores]).statistic, abs=1e-12)
    assert corr["kendall"]["estimate"] == pytest.approx(stats.kendalltau(
        [s["ppl_weak_verifier"] for s in scores], [s["ppl_generator"] for s in scores]).statistic, abs=1e-12)


def test_summarization_export_of_a_partial_run_leaves_the_real_baseline_out():
    results, scores = _summ_inputs()
    results["full_real"], results["complete"] = None, False  # a run cut short before the 100%-real model
    doc = summarization_export(results, scores)
    assert doc["complete"] is False and doc["real"] is None
    assert all(set(r["observed"]) == {"generator"} for r in doc["rows"])
    text = section._summ_text(doc, section.evaluate_rows(doc, n_draws=2000), "x.json")
    assert "the model on 100% real pairs is not trained yet" in text and "not trained" in text


def _write_docs(tmp_path):
    folder = tmp_path / "docs" / section.NAME
    folder.mkdir(parents=True)
    results, decisions = _eigen_inputs()
    (folder / "eigen_quick.json").write_text(json.dumps(eigen_export(results, decisions)))
    results, scores = _summ_inputs()
    (folder / "summarization_quick.json").write_text(json.dumps(summarization_export(results, scores)))
    return tmp_path / "docs"


def test_section_builds_from_committed_counts(tmp_path):
    out = _write_docs(tmp_path)
    ctx = ReportContext(profile="quick", out_dir=out, runs_dir=tmp_path / "runs")
    md = section.build(ctx)
    png = out / section.NAME / "phase_diagram.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"]({section.NAME}/phase_diagram.png)" in md
    # oracle at 25%, correct if ROUGE-1 > 0.45: p = 4/8, phi = 2/4, psi = 0/4 -> p* = 1
    assert "| oracle 25.0% | ROUGE-1 > 0.450 | 8 | 0.500 [" in md
    line = next(l for l in md.splitlines() if l.startswith("| oracle 25.0% | ROUGE-1 > 0.450"))
    assert "| 0.000 [0.000, 0.602] |" in line  # psi = 0/4: Clopper-Pearson upper bound 1 - 0.025^(1/4)
    assert abs(1 - 0.025 ** 0.25 - 0.602) < 5e-4
    assert "| Data selection 5%, 1x N0 | error < 2% | 10 | 0.700 [" in md
    assert "No committed counts" not in md


def test_section_without_documents_says_how_to_make_them(tmp_path):
    ctx = ReportContext(profile="quick", out_dir=tmp_path, runs_dir=tmp_path / "runs")
    md = section.build(ctx)
    assert md.count("No committed counts") == 2
    assert "beyond-collapse phase export eigen" in md and "beyond-collapse phase export summarization" in md


def test_known_phi_psi_are_covered_and_side_and_disagreement_are_reported():
    """Flags drawn with p = 0.3, phi = 0.6, psi = 0.2 (p* = 0.75): the intervals cover the truth and the
    side is "improves"; a made-up observed "worse" outcome is listed as a disagreement."""
    rng = np.random.default_rng(5)
    n = 4000
    correct = rng.random(n) >= 0.3
    kept = np.where(correct, rng.random(n) < 0.6, rng.random(n) < 0.2)
    doc = {"rows": [
        {"dataset": "data_5pct_x5", "title": "data selection", "selection": "data", "reference": "2%",
         "counts": count_table(correct, kept),
         "observed": {"generator": {"value": 0.4, "baseline": 0.5, "difference": -0.1, "se": 0.01, "metric": "acc"}}},
        {"dataset": "none_x5", "title": "no selection", "selection": "none", "reference": "2%",
         "counts": count_table(correct, np.ones(n, bool)),
         "observed": {"generator": {"value": 0.6, "baseline": 0.5, "difference": 0.1, "se": 0.01, "metric": "acc"}}},
    ]}
    rows = section.evaluate_rows(doc)
    pt = rows[0]["point"]
    for rate, truth in ((pt.p, 0.3), (pt.phi, 0.6), (pt.psi, 0.2)):
        assert rate.ci_low <= truth <= rate.ci_high
    assert pt.p_star_interval[0] <= 0.75 <= pt.p_star_interval[1]
    assert pt.side == "improves"
    assert [r["agreement"] for r in rows] == ["no", "yes"]
    text = section.disagreements_markdown(rows)
    assert "data selection" in text and "**worse**" in text and "no selection" not in text


def test_cli_export_eigen_reads_saved_decisions_and_stays_torch_free(tmp_path):
    """``phase export eigen`` through the CLI reads the decisions file a run saved, without torch."""
    err = np.array([[0.001], [0.002], [0.003], [0.004], [0.5], [np.inf]])
    runs = tmp_path / "runs" / "quick" / "eigen"
    runs.mkdir(parents=True)
    save_decisions(runs / "decisions_data_5pct_x1.npz", err, keep_bits(err, "data", 0.05), [0.05])
    results = {"profile": "quick", "seed": 5, "complete": True,
               "profile_config": {"n_train": 6, "select_tau": 0.05, "taus": [0.05]},
               "generator": {"test": {"accuracy": {"5%": 0.5}, "n": 50}},
               "datasets": {"data_5pct_x1": {"selection": "data", "beam": 1, "multiple": 1, "tau": 0.05, "size": 4,
                                             "decisions": "decisions_data_5pct_x1.npz"}},
               "trained": {"data_5pct_x1": {"seeds": [{"5%": 0.6}], "mean": {"5%": 0.6}}}}
    (tmp_path / "results.json").write_text(json.dumps(results))
    code = ("import sys, json\nfrom beyond_collapse.cli import main\n"
            f"rc = main(['phase', 'export', 'eigen', '--profile', 'quick', '--results', {str(tmp_path / 'results.json')!r}, "
            f"'--runs-dir', {str(tmp_path / 'runs')!r}, '--out', {str(tmp_path / 'out')!r}])\n"
            "print(json.dumps({'rc': rc, 'torch': 'torch' in sys.modules}))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    status = json.loads(res.stdout.strip().splitlines()[-1])
    assert status == {"rc": 0, "torch": False}
    doc = json.loads((tmp_path / "out" / "eigen_quick.json").read_text())
    assert doc["rows"][0]["counts"] == _counts(4, 0, 0, 2)


def test_cli_point_and_errors(capsys, tmp_path):
    assert main(["phase", "point", "30", "10", "5", "55", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["p_star"] == pytest.approx(0.75 / (0.75 + 5 / 60))  # Thm. 3.2 with phi = 30/40, psi = 5/60
    assert d["side"] == "improves"
    assert main(["phase", "point", "0", "4", "0", "3"]) == 2
    assert "pruned" in capsys.readouterr().err
    assert main(["phase", "export", "summarization", "--results", str(tmp_path / "none.json"),
                 "--scores", str(tmp_path / "none.jsonl"), "--out", str(tmp_path)]) == 2
    assert "summarize run" in capsys.readouterr().err


def test_summarization_export_reads_both_selection_formats():
    """Per-row list ``"selected": [...]`` (current scores files) and one flag column per selection."""
    results, scores = _summ_inputs()
    listed = [{**{k: v for k, v in s.items() if not k.startswith("selected_")},
               "selected": [k.removeprefix("selected_") for k, v in s.items() if k.startswith("selected_") and v]}
              for s in scores]
    assert summarization_export(results, listed)["rows"] == summarization_export(results, scores)["rows"]
    results["selections"]["retrain_self_0.5"] = {**results["selections"]["retrain_random_0.25"], "strategy": "self"}
    with pytest.raises(ValueError, match="self_0.5"):
        summarization_export(results, scores)


def test_export_summarization_round_trip_from_files(tmp_path):
    results, scores = _summ_inputs()
    (tmp_path / "r.json").write_text(json.dumps(results))
    (tmp_path / "s.jsonl").write_text("\n".join(json.dumps(s) for s in scores) + "\n")
    path = export_summarization(tmp_path / "r.json", tmp_path / "s.jsonl", tmp_path / "out.json")
    doc = json.loads(path.read_text())
    assert doc["experiment"] == "summarization" and len(doc["rows"]) == 2 * 3


def test_concordance_counts_pairs_by_margin_and_observed_value():
    """Three data sets under one reference with margins ordered a > b > c (p = 0.5 each; p* from psi):
    observed values 0.3, 0.2, 0.25 give pairs (a,b), (a,c) concordant and (b,c) discordant."""
    def row(name, wrong_kept, value):
        return {"dataset": name, "reference": "2%", "counts": _counts(50, 50, wrong_kept, 100 - wrong_kept),
                "observed": {"generator": {"value": value, "baseline": 0.2, "difference": value - 0.2, "se": 0.01,
                                           "metric": "acc"}}}
    rows = section.evaluate_rows({"rows": [row("a", 10, 0.3), row("b", 30, 0.2), row("c", 60, 0.25)]})
    margins = [r["point"].margin for r in rows]
    assert margins[0] > margins[1] > margins[2]
    c = section.concordance(rows, lambda r: r["reference"])
    assert (c["concordant"], c["discordant"], c["tied"]) == (2, 1, 0)
    assert [(a["dataset"], b["dataset"]) for a, b in c["discordant_pairs"]] == [("b", "c")]


def test_eigen_score_correlation_is_over_well_formed_candidates():
    results, decisions = _eigen_inputs()
    ll = -np.arange(20, dtype=float).reshape(10, 2) ** 1.5  # arbitrary generator scores
    doc = eigen_export(results, decisions, pools={2: {"scores": ll, "errors": decisions["label_b2_x1"]["errors"]}})
    (entry,) = doc["correlations"]
    errors = np.array([[0.03, 0.01]] * 4 + [[0.08, 0.03]] * 4)  # the 16 well-formed candidates, by construction
    ref = stats.spearmanr(ll[:8].ravel(), errors.ravel()).statistic
    assert entry["n"] == 16 and entry["n_dropped_nonfinite"] == 4
    assert entry["spearman"]["estimate"] == pytest.approx(ref, abs=1e-6)


def test_full_size_rows_keeps_data_sets_within_one_percent_of_the_largest():
    rows = [{"counts": _counts(50, 0, 50, 0)}, {"counts": _counts(60, 5, 39, 0)},
            {"counts": _counts(40, 10, 40, 10)}]  # kept 100, 99, 80
    assert section.full_size_rows(rows) == rows[:2]


def test_eigen_export_reads_the_saved_flags_not_float32_errors(tmp_path):
    """An error just below tau in float64 rounds up to tau in float32: the saved flag decides."""
    err = np.array([[0.05 - 1e-12], [0.01], [0.2]])
    assert not np.float32(err[0, 0]) < 0.05 and err[0, 0] < 0.05
    save_decisions(tmp_path / "d.npz", err, keep_bits(err, "none"), [0.05])
    from beyond_collapse.empirics.eigen.selection import load_decisions
    results, _ = _eigen_inputs()
    results["datasets"] = {"none_x1": {"selection": "none", "beam": 1, "multiple": 1, "tau": None, "size": 3,
                                       "label_accuracy": {"5%": 2 / 3}}}
    results["profile_config"]["taus"] = [0.05]
    doc = eigen_export(results, {"none_x1": load_decisions(tmp_path / "d.npz")})
    assert doc["rows"][0]["counts"] == _counts(2, 0, 1, 0)


def test_export_summarization_reads_the_profile_folder_by_default(tmp_path, monkeypatch):
    """Without --results/--scores the export reads docs/results/summarization/<profile>/ (the
    committed quick run), the layout ``summarize run`` writes."""
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    assert main(["phase", "export", "summarization", "--profile", "quick", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "summarization_quick.json").read_text())
    assert doc["source"] == {"results": "docs/results/summarization/quick/results.json",
                             "scores": "docs/results/summarization/quick/synthetic_scores.jsonl"}
    assert doc["profile"] == "quick" and doc["n_synthetic"] == 48
