"""Verdict rows of the report's Figs. 2, 3 and 5 sections (issue 15), on hand-made result documents whose
answers are known, and on the committed runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from beyond_collapse.report.sections import numerics as sec

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results" / "numerics"


def _fig5_doc(p_down: float, p_up: float) -> dict:
    grid = np.round(np.arange(0, 1, 0.025), 3)
    acc = np.where(grid <= p_down, 1.0, np.where(grid >= p_up, 0.0, 0.5))
    return {"config": {"p_step": 0.025, "t": 0.1},
            "curves": {"0.5": [{"p": grid.tolist(), "accuracy": acc.tolist()}]},
            "breakdown": [{"ratio": 0.5, "phi": 1.0, "psi": 0.5}]}


def test_fig5_measures_p_down_as_sup_and_p_up_as_inf_and_judges_thm_d3():
    (r,) = sec.fig5_verdicts(_fig5_doc(0.65, 0.7))  # p-*(0.1) = 0.621, p+*(0.1) = 0.710 at psi/phi = 1/2
    assert r["p_down"] == [0.65] and r["p_up"] == [0.7] and r["gap"] == [pytest.approx(0.05)]
    assert r["down_ok"] == [True] and r["up_ok"] == [True]
    (r,) = sec.fig5_verdicts(_fig5_doc(0.5, 0.8))  # breaks down too early and reaches 0% too late
    assert r["down_ok"] == [False] and r["up_ok"] == [False]


def test_fig5_text_calls_the_supremum_p_down():
    res = json.loads((RESULTS / "quick" / "fig5.json").read_text())
    text = sec._fig5(res, lambda name: name)
    assert "Measured p_down = sup{p : acc >= 90%}" in text and "Measured p_up = sup" not in text
    assert "p_up per seed (inf acc <= 10%)" in text


def test_fig2_per_seed_recovers_two_seeds_and_flags_a_crossing_above():
    step = 1 / 36
    row = {"data": "mixture", "coupling": "independent", "theta_prune": 1 / 12, "predicted": 11 / 12,
           "measured_0.5": {"mean": 11 / 12, "std": step / np.sqrt(2) * 2, "n": 2}}
    assert sec.fig2_per_seed(row) == pytest.approx([11 / 12 - step, 11 / 12 + step])
    grid = np.arange(1, 36) / 36
    res = {"config": {"steps": 36}, "theta_gen_over_pi": grid.tolist(), "breakdown": [row],
           "mean_accuracy": {"mixture:independent:0.0833333": np.where(grid < 0.9, 1.0, 0.0).tolist()}}
    (v,) = sec.fig2_verdicts(res)
    assert v["hits"] == [True, False] and v["above"] == [False, True] and v["mean_hit"]
    assert "mixture, independent, theta_prune = 0.083 pi" in sec.fig2_verdicts_markdown(res)


def _fig3_doc(oracle_last: float, weak: list[float]) -> dict:
    n_prime = [10, 100, 1000]
    band = lambda xs: {"mean": xs, "min": [x * 0.9 for x in xs], "max": [x * 1.1 for x in xs]}  # noqa: E731
    blk = {"clean": band([1e-2, 1e-3, 1e-4]), "oracle": band([1e-2, 1e-3, oracle_last]), "theta=pi/12": band(weak),
           "theta=pi/6": band(weak), "random": band([0.3] * 3), "generator": 0.1}
    return {"profile": "paper", "n_prime": n_prime, "config": {"n0_values": [100], "seeds": 3}, "summary": {"ols": {"100": blk}}}


def test_fig3_verdicts_contradict_or_hold_as_the_numbers_say():
    v = sec.fig3_verdicts(_fig3_doc(1e-2, [1e-2, 1e-3, 1e-4]))
    assert not v["oracle"][0]["matches"] and v["oracle"][0]["ratio"] == pytest.approx(100)
    assert not any(w["sweet_spot"] for w in v["sweet"])
    assert "contradicts both of the paper's claims" in sec.fig3_verdicts_markdown(_fig3_doc(1e-2, [1e-2, 1e-3, 1e-4]), "x")
    v = sec.fig3_verdicts(_fig3_doc(1.1e-4, [1e-2, 1e-3, 5e-3]))
    assert v["oracle"][0]["matches"] and all(w["sweet_spot"] and w["argmin_n_prime"] == 100 for w in v["sweet"])


def test_committed_paper_run_of_fig3_is_judged_contradicted():
    """The committed paper-size run (issue 15's numbers): oracle/clean 112x, 6.6x, 2.1x for OLS, no sweet spot."""
    big = json.loads((RESULTS / "paper" / "fig3.json").read_text())
    v = sec.fig3_verdicts(big)
    ols = [o["ratio"] for o in v["oracle"] if o["estimator"] == "ols"]
    assert [round(x, 1) for x in ols] == [112.4, 6.6, 2.1]
    assert not any(o["matches"] for o in v["oracle"]) and not any(w["sweet_spot"] for w in v["sweet"])


def test_section_writes_and_links_this_profiles_results(tmp_path, monkeypatch):
    """The section runs each figure on ctx.profile into runs/<profile>/<figure> and links the results
    under numerics/<profile>/, the layout of runs.results_path."""
    from beyond_collapse.numerics.experiments import fig2, fig3, fig5
    from beyond_collapse.report import ReportContext

    monkeypatch.setitem(fig5.CONFIGS, "quick", fig5.Fig5Config(n=120, d=40, mu_norm=0.5, lam=1e-2, ratios=(0.5,),
                                                                left_ratios=(0.5,), p_step=0.25, seeds=2))
    monkeypatch.setitem(fig2.CONFIGS, "quick", fig2.Fig2Config(n=200, d=12, mu_norm=0.3, lam=1e-2,
                                                                theta_prunes=(1 / 6,), steps=6, seeds=2))
    monkeypatch.setitem(fig3.CONFIGS, "quick", fig3.Fig3Config(n0_values=(300,), n1=20_000, n_prime=(50, 500, 5000),
                                                                seeds=1, d=40, chunk=4000))
    ctx = ReportContext(profile="quick", out_dir=tmp_path / "results", runs_dir=tmp_path / "runs" / "quick")
    text = sec.build(ctx)
    for fig in ("fig2", "fig3", "fig5"):
        assert (tmp_path / "results" / "numerics" / "quick" / f"{fig}.json").exists()
        assert f"]({'numerics/quick/' + fig}.json)" in text and f"(numerics/quick/{fig}.png)" in text
        assert any((tmp_path / "runs" / "quick" / fig).glob("*.json"))
