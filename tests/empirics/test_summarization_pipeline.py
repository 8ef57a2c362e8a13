"""The whole Sec. 5.3 pipeline on a tiny configuration: units, selections, outputs and resume."""

import json

import numpy as np
import pytest

pytestmark = pytest.mark.empirics  # needs the [empirics] extra: pytest -m "not empirics" leaves it out
pytest.importorskip("torch")
pytest.importorskip("transformers")

from beyond_collapse.empirics.summarization.pipeline import (  # noqa: E402
    get_profile, load_results, run_pipeline, write_outputs,
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("summ")
    cfg = get_profile("quick", train_limit=24, test_limit=4, retrain_seeds=(0, 1))
    results = run_pipeline(cfg, root / "runs")
    return cfg, root, results


def test_selections_follow_their_scores(run):
    cfg, _, res = run
    s = {k: np.asarray(v) for k, v in res["scores"].items()}
    n = res["n_train"]
    assert n == 24 and len(s["rouge1"]) == len(s["ppl_self"]) == len(s["ppl_weak"]) == n
    assert np.all((s["rouge1"] >= 0) & (s["rouge1"] <= 1)) and np.all(s["ppl_self"] > 1) and np.all(s["ppl_weak"] > 1)
    assert not np.allclose(s["ppl_self"], s["ppl_weak"])  # the weak verifier is another model
    for rate in cfg.rates:
        k = round(rate * n)
        for strategy, key, best_high in (("oracle", "rouge1", True), ("self", "ppl_self", False),
                                         ("weak", "ppl_weak", False), ("random", None, None)):
            sel = res["selections"][f"retrain_{strategy}_{rate:g}"]
            idx = np.asarray(sel["indices"])
            assert len(idx) == len(set(idx.tolist())) == k == sel["n_train"]
            if key is not None:  # every kept score is at least as good as every dropped one
                kept, dropped = s[key][idx], np.delete(s[key], idx)
                assert (kept.min() >= dropped.max()) if best_high else (kept.max() <= dropped.min())
            assert [c["examples_seen"] for c in sel["curve"]][-1] == k
            assert 0 <= sel["test_rouge1"] <= 1
    assert res["generator"]["metrics"]["n_train"] == 3 and res["full_real"]["metrics"]["n_train"] == 24


def test_outputs_and_resume(run):
    cfg, root, res = run
    units = sorted((root / "runs").glob("*.json"))
    # bases, generator and weak verifier, synthesis, scores, 100% real, then retraining for two seeds
    assert len(units) == 2 + 2 + 1 + 1 + 1 + 2 * len(cfg.rates) * len(cfg.strategies)
    assert sorted(res["seed_repeats"]) == sorted(res["selections"])
    assert all(list(v) == ["1"] and 0 <= v["1"] <= 1 for v in res["seed_repeats"].values())
    before = {p: p.stat().st_mtime_ns for p in units}
    again = run_pipeline(cfg, root / "runs")  # every unit is read back, none recomputed
    assert {p: p.stat().st_mtime_ns for p in units} == before
    assert again["selections"] == res["selections"]
    paths = write_outputs(res, cfg, root / "out")
    assert {p.relative_to(root / "out").as_posix() for p in paths.values()} == {
        "quick/results.json", "quick/synthetic_scores.jsonl", "quick/table.md", "quick/figure4.png"}
    assert load_results(root / "out", "quick")["selections"].keys() == res["selections"].keys()
    rows = [json.loads(line) for line in paths["scores"].read_text().splitlines()]
    assert [r["index"] for r in rows] == list(range(24))
    assert sum("oracle_0.25" in r["selected"] for r in rows) == 6 and sum(r["in_generator_train"] for r in rows) == 3
    assert paths["figure"].read_bytes()[:4] == b"\x89PNG"
    table = paths["table"].read_text()
    assert table.count("selection |") >= 4 and "100% real pairs" in table
    with pytest.raises(ValueError, match="different config"):  # changed recipe, same folder: refuse to mix
        run_pipeline(get_profile("quick", train_limit=24, test_limit=4, block_size=80), root / "runs")


def test_repeat_rates_limit_the_seed_repeats(run):
    cfg, root, res = run
    units = sorted((root / "runs").glob("*.json"))
    before = {p: p.stat().st_mtime_ns for p in units}
    only = run_pipeline(get_profile("quick", train_limit=24, test_limit=4, retrain_seeds=(0, 1), repeat_rates=(0.125,)),
                        root / "runs")  # the same units: read back, none recomputed
    assert sorted(only["seed_repeats"]) == sorted(f"retrain_{s}_0.125" for s in cfg.strategies)
    assert only["seed_repeats"] == {k: v for k, v in res["seed_repeats"].items() if k.endswith("_0.125")}
    assert {p: p.stat().st_mtime_ns for p in units} == before and sorted((root / "runs").glob("*.json")) == units
    with pytest.raises(ValueError, match="repeat_rates"):
        get_profile("quick", repeat_rates=(0.3,))


def test_cli_and_report_modules_do_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, beyond_collapse.empirics.summarization.commands, "
            "beyond_collapse.empirics.summarization.pipeline, beyond_collapse.report.sections.summarization; "
            "print(sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_collect_only_writes_the_finished_units_and_computes_nothing(run, tmp_path):
    import shutil

    cfg, root, res = run
    units = tmp_path / "runs"
    shutil.copytree(root / "runs", units)
    top = max(cfg.rates)
    for name in (f"retrain_oracle_{top:g}", "full_real", f"retrain_self_{min(cfg.rates):g}_seed1"):
        (units / f"{name}.json").unlink()  # a run cut short before these units
    listing = sorted(p.name for p in units.iterdir())
    part = run_pipeline(cfg, units, collect_only=True)
    assert sorted(p.name for p in units.iterdir()) == listing  # nothing computed, nothing written
    assert not part["complete"] and part["missing_units"] == 3 and part["full_real"] is None
    assert f"retrain_oracle_{top:g}" not in part["selections"] and len(part["selections"]) == len(res["selections"]) - 1
    assert part["selections"][f"retrain_random_{top:g}"] == res["selections"][f"retrain_random_{top:g}"]
    paths = write_outputs(part, cfg, tmp_path / "out")
    table = paths["table"].read_text()
    assert "not run yet" in table and "3 training units of this run are not done yet" in table
    claims = {r["claim"]: r for r in load_results(tmp_path / "out", "quick")["claims"]}
    assert claims[f"oracle {top:.1%} > generator"]["verdict"] == "not run yet"
    assert claims[f"oracle {min(cfg.rates):.1%} > 100% real pairs"]["verdict"] == "not run yet"
    assert claims[f"self {top:.1%} > generator"]["verdict"] != "not run yet"
    assert run_pipeline(cfg, root / "runs", collect_only=True)["complete"]  # every unit there: complete
    with pytest.raises(ValueError, match="nothing to collect yet: unit generator"):
        run_pipeline(cfg, tmp_path / "empty", collect_only=True) if (tmp_path / "empty").mkdir() is None else None
    with pytest.raises(ValueError, match="nothing to collect: the runs folder"):
        run_pipeline(cfg, tmp_path / "absent", collect_only=True)
