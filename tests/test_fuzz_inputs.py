"""Bad input never shows a traceback and is never silently accepted (issue 18).

Command lines: a table of user errors, each must exit with status 2 and print exactly one
non-empty line on stderr that names what is wrong. Every case printed a traceback or exited 0
before its fix. The commands run in-process (``cli.main(argv)``), which is much faster than a
subprocess each.
"""

import json

import pytest

from beyond_collapse import cli

# ---------------------------------------------------------------------------------------------
# Command line: one line, exit 2, no traceback.
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Inputs of the table: a folder, a plain file, a valid small audit sample, a CSV with a field
    over the csv module's 128 KiB limit, a JSON Lines file nested deeper than the recursion limit
    and JSON documents of shapes other than an eigen results file."""
    root = tmp_path_factory.mktemp("bad_input")
    (root / "adir").mkdir()
    (root / "afile").write_text("x\n")
    (root / "audit.csv").write_text("y_true,y_syn,kept\n" + "1,1,1\n0,1,0\n1,0,1\n0,0,1\n" * 10)
    (root / "bigfield.csv").write_text('y_true,y_syn,kept\n1,1,1\n"' + "1" * 200_000 + '",1,1\n')
    (root / "nested.jsonl").write_text('{"y_true": ' + "[" * 100_000 + "]" * 100_000 + ', "y_syn": 1, "kept": 1}\n')
    for name, doc in (("list.json", [1, 2]), ("null.json", None), ("no_datasets.json", {"trained": 1}),
                      ("bad_datasets.json", {"trained": {}, "datasets": {"a": 3}})):
        (root / name).write_text(json.dumps(doc))
    return root


def run_cli(argv, capsys):
    """``(exit status, stderr)`` of ``beyond-collapse argv`` (argparse's usage errors raise SystemExit)."""
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


H41 = "12345678901234567890123456789012345678901"  # a 41-digit number

# (command line with {root} for the fixture's folder, text the one error line must contain)
BAD_COMMAND_LINES = [
    # output paths: a folder, under a file, the runs folder a device file
    (["audit-simulate", "--out", "{root}/adir"], "is a folder"),
    (["audit-simulate", "--out", "{root}/afile/sim.csv"], "afile is a file, not a folder"),
    (["derivations", "--out", "{root}/adir"], "is a folder"),
    (["audit-calibration", "--out", "{root}/adir"], "is a folder"),
    (["simulate", "fig5", "--runs-dir", "{root}/afile", "--out", "{root}/out"], "--runs-dir"),
    (["simulate", "fig5", "--out", "{root}/afile/sub", "--runs-dir", "{root}/runs"], "--out"),
    (["eigen", "run", "--runs-dir", "/dev/null"], "/dev/null is not a folder"),
    # audit inputs beyond the limits
    (["audit", "{root}/bigfield.csv"], "line 3 is not valid CSV: field larger than field limit"),
    (["audit", "{root}/nested.jsonl"], "line 1 nests JSON too deeply"),
    (["audit", "{root}/audit.csv", "--draws", "1000000000000"], "n_draws = 1000000000000"),
    (["audit", "{root}/audit.csv", "--draws", "0"], "--draws"),
    (["audit", "{root}/missing.csv"], "missing.csv"),
    # oversized and out-of-range numbers
    (["phase", "point", "99999999999999999999999999", "1", "1", "1"], "of memory"),
    (["phase", "point", "1", "1", "1", "1", "--seed", "-1"], "--seed"),
    (["phase", "point", "1.5", "1", "1", "1"], "correct_kept"),
    (["audit-simulate", "--out", "{root}/x.csv", "--rows", "100000000000000"], "n = 100000000000000 rows"),
    (["breakdown", "--phi", "1e400", "--psi", "0.1"], "phi"),
    (["breakdown", "--phi", "nan", "--psi", "0.1"], "phi must not be NaN"),
    # accepted with exit 0 before issue 18
    (["audit-simulate", "--out", "{root}/x.csv", "--rows", "0"], "--rows"),
    (["audit-calibration", "--followup", "-1"], "--followup"),
    (["audit", "{root}/audit.csv", "--seed", H41], "--seed"),
    (["simulate", "fig5", "--seed", H41], "--seed"),
    (["rates", "isotropic", "--theta-gen", "pi/3", "--theta-prune", "2*pi/3", "--theta", "pi"],
     "nothing survives pruning"),
    (["rates", "gaussian-mixture", "--mu-norm", "0.5", "--d", "10", "--theta-gen", "pi/3",
      "--theta-prune", "2*pi/3", "--theta", "pi"], "nothing survives pruning"),
    # phase export of a JSON of another shape
    (["phase", "export", "eigen", "--results", "{root}/list.json"], "holds a JSON array"),
    (["phase", "export", "eigen", "--results", "{root}/null.json"], "holds a JSON null"),
    (["phase", "export", "eigen", "--results", "{root}/no_datasets.json"], "no key 'datasets'"),
    (["phase", "export", "eigen", "--results", "{root}/bad_datasets.json"], "does not have the shape"),
    # summarize run: paths that do not exist, checked before torch or the hub
    (["summarize", "run", "--data", "/nonexistent/dir"], "--data /nonexistent/dir: does not exist"),
    (["summarize", "run", "--model", "/nonexistent/model"], "--model /nonexistent/model: does not exist"),
    (["summarize", "run", "--data", "{root}/afile"], "is a file, not a folder"),
]


@pytest.mark.parametrize("argv,says", BAD_COMMAND_LINES, ids=[" ".join(a)[:60] for a, _ in BAD_COMMAND_LINES])
def test_bad_command_line_is_one_line_exit_2(argv, says, files, capsys, monkeypatch):
    monkeypatch.chdir(files)  # default outputs (docs/results, runs) land in the temporary folder, never the repo
    argv = [a.format(root=files) for a in argv]
    if argv[:2] == ["phase", "export"]:
        argv += ["--out", str(files / "export"), "--runs-dir", str(files / "runs")]
    code, err = run_cli(argv, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert says in lines[0], lines[0]


def test_output_folders_are_created(tmp_path, capsys):
    out = tmp_path / "new" / "sub" / "sim.csv"
    code, err = run_cli(["audit-simulate", "--out", str(out), "--rows", "5"], capsys)
    assert code == 0, err
    assert out.read_text().splitlines()[0] == "y_true,y_syn,kept"
    assert len(out.read_text().splitlines()) == 6


def test_output_folder_not_writable_is_one_line(tmp_path, capsys):
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions
            pytest.skip("running as root: every folder is writable")
        code, err = run_cli(["audit-simulate", "--out", str(locked / "sub" / "sim.csv"), "--rows", "5"], capsys)
    finally:
        locked.chmod(0o700)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "cannot create the folder" in err and "Permission denied" in err


def test_closed_stdout_ends_quietly(capsys, monkeypatch):
    """`beyond-collapse ... | head` closing the pipe: no traceback, status 141 (128 + SIGPIPE)."""
    import sys

    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    try:
        code = cli.main(["breakdown", "--phi", "0.5", "--psi", "0.1"])
    finally:
        monkeypatch.undo()
    assert code == 141
    assert "Traceback" not in capsys.readouterr().err
