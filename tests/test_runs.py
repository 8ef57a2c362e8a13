"""The run layout of runs.py: profiles by name, runs folders, results paths, the shared options."""

import argparse

import pytest

from beyond_collapse import runs


def test_runs_folder_and_results_path_follow_one_layout(tmp_path):
    assert runs.runs_folder(tmp_path, "cpu", "fig5") == tmp_path / "cpu" / "fig5"
    assert runs.results_path(tmp_path, "cpu", "fig5.json") == tmp_path / "cpu" / "fig5.json"
    # two profiles never share a results file
    assert runs.results_path(tmp_path, "quick", "fig5.json") != runs.results_path(tmp_path, "cpu", "fig5.json")


@pytest.mark.parametrize("call", [
    lambda: runs.runs_folder("runs", "huge", "fig5"),
    lambda: runs.results_path("out", "huge", "fig5.json"),
    lambda: runs.pick_profile("huge", {"quick": 1}),
])
def test_unknown_profile_is_a_value_error_naming_the_choices(call):
    with pytest.raises(ValueError, match="profile must be one of 'quick', 'cpu', 'paper', got 'huge'"):
        call()


def test_names_must_be_plain():
    with pytest.raises(ValueError, match="experiment"):
        runs.runs_folder("runs", "quick", "../fig5")
    with pytest.raises(ValueError, match="name"):
        runs.results_path("out", "quick", "cpu/fig5.json")


def test_pick_profile_returns_the_named_config():
    assert runs.pick_profile("cpu", {"quick": 1, "cpu": 2, "paper": 3}) == 2


def test_add_run_args_declares_the_shared_options():
    p = argparse.ArgumentParser()
    runs.add_run_args(p, out="docs/results/x")
    args = p.parse_args([])
    assert (args.profile, args.runs_dir, args.out, args.seed) == ("quick", "runs", "docs/results/x", 0)
    args = p.parse_args(["--profile", "cpu", "--runs-dir", "r", "--out", "o", "--seed", "3"])
    assert (args.profile, args.runs_dir, args.out, args.seed) == ("cpu", "r", "o", 3)
    q = argparse.ArgumentParser()
    runs.add_run_args(q, out="o", profile="cpu", seed=None)
    assert (q.parse_args([]).profile, q.parse_args([]).seed) == ("cpu", None)
    with pytest.raises(SystemExit):
        p.parse_args(["--profile", "huge"])
