"""`beyond-collapse audit` and `audit-calibration` through the real command (cli.main)."""

import json
import os
import subprocess
import sys

import pytest

from beyond_collapse.cli import main

# 100 rows with hand-counted cells: (true, synthetic, kept) -> count.
CELLS = {(0, 0, 1): 30, (0, 0, 0): 5, (1, 1, 1): 28, (1, 1, 0): 7,
         (0, 1, 1): 4, (0, 1, 0): 11, (1, 0, 1): 3, (1, 0, 0): 12}


def _write_csv(path, cells=CELLS, header="y_true,y_syn,kept", extra_rows=()):
    lines = [header] + [f"{k},{l},{q}" for (k, l, q), c in cells.items() for _ in range(c)] + list(extra_rows)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_text_report(tmp_path, capsys):
    path = _write_csv(tmp_path / "a.csv")
    assert main(["audit", str(path)]) == 0
    out = capsys.readouterr().out
    # p = 30/100 wrong; phi = 58/70, psi = 7/30: p* = .829/(.829 + .233) = .78, far above p.
    assert "30/100" in out and "58/70" in out and "7/30" in out
    assert "Verdict at 0.95: p < p*" in out
    assert "consistent with symmetry" in out


def test_json_report_and_options(tmp_path, capsys):
    path = _write_csv(tmp_path / "a.csv", header="truth,gen,keep")
    rc = main(["audit", str(path), "--json", "--true-col", "truth", "--syn-col", "gen", "--kept-col", "keep",
               "--model", "class", "--prior", "1", "1", "--draws", "5000", "--seed", "4"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["model"] == "class" and d["posterior"]["prior"] == [1.0, 1.0] and d["posterior"]["n_draws"] == 5000
    assert (d["rates"]["psi10"]["successes"], d["rates"]["psi10"]["trials"]) == (3, 15)
    # Plug-in p* of Prop. E.3 by hand: (30/35 + 28/35) / (30/35 + 28/35 + 4/15 + 3/15).
    good, bad = 58 / 35, 7 / 15
    assert d["p_star"] == pytest.approx(good / (good + bad), rel=1e-12)
    assert d["verdict"] == "improves" and d["rows_needed"] is None


def test_correctness_flag_mode_and_missing_drop(tmp_path, capsys):
    rows = ["ok,kept"] + ["1,1"] * 40 + ["1,0"] * 10 + ["0,1"] * 20 + ["0,0"] * 30 + [",1", "1,NaN"]
    path = tmp_path / "flags.csv"
    path.write_text("\n".join(rows) + "\n")
    assert main(["audit", str(path), "--correct-col", "ok", "--missing", "drop", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["n_rows"], d["n_missing"], d["n_used"]) == (102, 2, 100)
    assert d["rates"]["p"]["successes"] == 50 and d["rates"]["phi"]["estimate"] == 0.8
    assert d["rates"]["psi"]["estimate"] == 0.4 and d["symmetry"] is None


@pytest.mark.parametrize(
    "content,args,match",
    [
        ("y_true,y_syn\n0,0\n", [], "column 'kept' not found"),
        ("y_true,y_syn,kept\n0,3,1\n", [], "value '3' is not binary"),
        ("y_true,y_syn,kept\n", [], "no data rows"),
        ("", [], "no data rows"),
        ("y_true,y_syn,kept\n0,0,0\n1,0,0\n", [], "were pruned"),
        ("y_true,y_syn,kept\n0,0,1\n1,nan,0\n", [], "missing or NaN"),
        ("y_true,y_syn,kept\n0,0,1\n", ["--confidence", "1.5"], "confidence must lie in"),
        ("y_true,y_syn,kept\n0,0,1\n", ["--missing", "ignore"], "invalid choice"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path, capsys, content, args, match):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    rc = _run(["audit", str(path), *args])
    captured = capsys.readouterr()
    assert rc == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and match in lines[0]


def _run(argv) -> int:
    """Exit status of the command, whether main returns it or argparse exits with it."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def test_jsonl_input(tmp_path, capsys):
    path = tmp_path / "a.jsonl"
    with open(path, "w") as fh:
        for (k, l, q), c in CELLS.items():
            for _ in range(c):
                fh.write(json.dumps({"y_true": k, "y_syn": l, "kept": bool(q)}) + "\n")
    assert main(["audit", str(path), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["counts"]["n_00_kept"] == 30 and d["counts"]["n_10_dropped"] == 12


def test_audit_command_does_not_import_torch(tmp_path):
    path = _write_csv(tmp_path / "a.csv")
    code = ("import sys; from beyond_collapse.cli import main; "
            f"rc = main(['audit', {str(path)!r}, '--draws', '2000']); "
            "assert rc == 0; assert 'torch' not in sys.modules, 'torch imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_calibration_command_is_resumable(tmp_path, capsys):
    out = tmp_path / "calib.json"
    args = ["audit-calibration", "--audits", "20", "--rows", "150", "--draws", "2000", "--seed", "2",
            "--out", str(out), "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    m = first["metrics"]
    assert m["n_audits"] == 20 and sum(m["verdicts"].values()) == 20
    t = first["truth"]
    assert t["p_star"] == pytest.approx(t["phi"] / (t["phi"] + t["psi"]), rel=1e-12)
    stamp = os.stat(out).st_mtime_ns
    assert main(args) == 0  # second run reads the stored unit instead of recomputing
    assert json.loads(capsys.readouterr().out)["metrics"] == m
    assert os.stat(out).st_mtime_ns == stamp
    stored = json.loads(out.read_text())
    assert stored["config"]["n_rows"] == 150 and "versions" in stored


def test_simulated_sample_matches_its_stated_truth(tmp_path, capsys):
    # The simulation (numerics sampler) and the truth it prints (App. D.6 closed form) are computed
    # independently; the audit's 99.9% intervals must cover the printed rates.
    import re

    path = tmp_path / "sim.csv"
    assert main(["audit-simulate", "--out", str(path), "--rows", "4000", "--seed", "7"]) == 0
    line = capsys.readouterr().out
    truth = {k: float(v) for k, v in re.findall(r"(p\*|p|phi|psi) = ([0-9.]+)", line)}
    assert main(["audit", str(path), "--json", "--confidence", "0.999", "--draws", "2000"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["n_rows"] == 4000
    for name in ("p", "phi", "psi"):
        r = d["rates"][name]
        assert r["ci_low"] <= truth[name] <= r["ci_high"], name
    assert truth["p*"] == pytest.approx(truth["phi"] / (truth["phi"] + truth["psi"]), abs=2e-4)  # 4-digit print


def test_per_class_condition_option(tmp_path, capsys):
    path = _write_csv(tmp_path / "a.csv")
    assert main(["audit", str(path), "--json", "--model", "class", "--condition", "per-class", "--draws", "5000"]) == 0
    d = json.loads(capsys.readouterr().out)
    # Prop. E.4 by hand from CELLS: class 0: 30/35 against 4/15, class 1: 28/35 against 3/15.
    ref = min((30 / 35) / (30 / 35 + 4 / 15), (28 / 35) / (28 / 35 + 3 / 15))
    assert d["p_star"] == pytest.approx(ref, rel=1e-12)
    assert d["posterior"]["condition"] == "per-class"
    assert (d["rates"]["p_kept1"]["successes"], d["rates"]["p_kept1"]["trials"]) == (3, 31)
    assert _run(["audit", str(path), "--correct-col", "y_true", "--condition", "per-class"]) == 2
    assert "condition must be 'pooled'" in capsys.readouterr().err


def test_docs_worked_example_output_is_current(tmp_path, capsys):
    # docs/audit.md shows the output of these two commands; regenerate it and compare line by line.
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[1] / "docs" / "audit.md").read_text()
    shown = docs.split("$ beyond-collapse audit good.csv\n", 1)[1].split("```", 1)[0].splitlines()
    path = tmp_path / "good.csv"
    assert main(["audit-simulate", "--out", str(path), "--rows", "300", "--seed", "1",
                 "--theta-prune", "1.5", "--theta", "1.5"]) == 0
    capsys.readouterr()
    assert main(["audit", str(path)]) == 0
    got = capsys.readouterr().out.splitlines()
    assert got[1:] == shown[1:]  # line 0 names the file's path
