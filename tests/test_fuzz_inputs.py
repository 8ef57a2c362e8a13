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
    # issue 19: a bad setting is refused before the first audit (no progress bar on stderr)
    (["audit-calibration", "--d", "2"], "d must be an integer >= 3"),
    (["audit-calibration", "--theta-gen", "pi/3", "--theta-prune", "pi/12", "--theta", "0.9*pi"], "theta ="),
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


# ---------------------------------------------------------------------------------------------
# Public API: valid input gives finite, in-range, shape-correct results; arrays equal element-wise
# scalar calls; invalid input raises ValueError or TypeError naming the parameter.
# ---------------------------------------------------------------------------------------------

import math  # noqa: E402

import numpy as np  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import beyond_collapse as bc  # noqa: E402
from beyond_collapse.numerics.bayes import accuracy_vs_bayes  # noqa: E402
from beyond_collapse.numerics.logistic import fit_ridge_logistic  # noqa: E402
from beyond_collapse.numerics.samplers import flip_labels, rlhf_prune  # noqa: E402

prob = st.floats(0.0, 1.0)
prob_open = st.floats(1e-6, 1 - 1e-6)
slack = st.floats(1e-6, 1 - 1e-6)


def _prob_arrays(n_args, min_size=1, max_size=5):
    """``n_args`` probability arrays of one length."""
    return st.integers(min_size, max_size).flatmap(
        lambda n: st.tuples(*[st.lists(prob, min_size=n, max_size=n).map(np.array) for _ in range(n_args)]))


@given(_prob_arrays(2))
def test_breakdown_point_array_equals_scalars_and_lies_in_unit_interval(arrays):
    phi, psi = arrays
    keep = (phi > 0) | (psi > 0)  # phi = psi = 0: nothing survives, refused (tested below)
    phi, psi = phi[keep], psi[keep]
    if phi.size == 0:
        return
    star = bc.breakdown_point(phi, psi)
    assert star.shape == phi.shape and np.all((star >= 0) & (star <= 1))
    assert np.array_equal(star, [bc.breakdown_point(float(a), float(b)) for a, b in zip(phi, psi)])


@given(st.floats(5e-324, 1.0), prob, slack)
def test_breakdown_bounds_bracket_p_star_and_are_finite(phi, psi, t):
    lo, hi = bc.breakdown_bounds(phi, psi, t)
    star = bc.breakdown_point(phi, psi)
    assert all(math.isfinite(v) for v in (lo, hi))
    assert 0 <= lo <= star <= hi <= 1


@given(_prob_arrays(3))
def test_limit_accuracy_array_equals_scalars_and_is_0_half_or_1(arrays):
    p, phi, psi = arrays
    keep = (phi > 0) | (psi > 0)  # phi = psi = 0: refused (no breakdown point)
    p, phi, psi = p[keep], phi[keep], psi[keep]
    acc = bc.limit_accuracy(p, phi, psi)
    assert np.shape(acc) == p.shape and set(np.unique(acc)) <= {0.0, 0.5, 1.0}
    assert np.array_equal(acc, [bc.limit_accuracy(*map(float, v)) for v in zip(p, phi, psi)])


@given(_prob_arrays(5))
def test_kept_probabilities_sum_to_the_kept_fraction(arrays):
    p, phi0, phi1, psi01, psi10 = arrays
    kept = bc.kept_probabilities(p, phi0, phi1, psi01, psi10)
    assert kept.shape == p.shape + (2, 2) and np.all((kept >= 0) & (kept <= 0.5 + 1e-15))
    # eq. (14): p_00 + p_11 = (1 - p) (phi0 + phi1) / 2, p_01 + p_10 = p (psi01 + psi10) / 2
    np.testing.assert_allclose(kept[..., 0, 0] + kept[..., 1, 1], (1 - p) * (phi0 + phi1) / 2, atol=1e-15)
    np.testing.assert_allclose(kept[..., 0, 1] + kept[..., 1, 0], p * (psi01 + psi10) / 2, atol=1e-15)


@given(st.floats(0.05, math.pi - 0.05), st.floats(0.0, math.pi), st.floats(0.0, 1.0))
def test_isotropic_rates_are_probabilities_with_the_closed_form_side(theta_gen, theta_prune, u):
    # a realizable theta: between |tg - tp| and min(tg + tp, 2 pi - tg - tp)
    lo, hi = abs(theta_gen - theta_prune), min(theta_gen + theta_prune, 2 * math.pi - theta_gen - theta_prune)
    theta = lo + u * (hi - lo)
    try:
        r = bc.isotropic_rates(theta_gen, theta_prune, theta)
    except ValueError as exc:  # only where nothing survives pruning (phi = psi = 0)
        assert "nothing survives" in str(exc)
        assert math.isclose(theta, math.pi, abs_tol=1e-9)
        return
    for v in (r.p, r.phi, r.psi, r.p_star, r.kept_fraction):
        assert math.isfinite(v) and 0 <= v <= 1
    if abs(theta_gen + theta_prune - math.pi) > 1e-9:  # Sec. 3.4: p < p* iff theta_gen + theta_prune < pi
        assert r.below_breakdown == (theta_gen + theta_prune < math.pi)


def test_isotropic_rates_array_equals_scalars():
    tg = np.array([0.3, 1.0, 2.0, math.pi / 3])
    tp = np.array([0.5, 1.2, 0.4, 2 * math.pi / 3])
    t = np.array([0.4, 0.5, 1.8, math.pi / 3])
    r = bc.isotropic_rates(tg, tp, t)
    for i in range(tg.size):
        s = bc.isotropic_rates(tg[i], tp[i], t[i])
        assert (r.p[i], r.phi[i], r.psi[i], r.p_star[i]) == (s.p, s.phi, s.psi, s.p_star)


# (function, keyword arguments that are valid, the parameter to spoil)
CALLS = [
    (bc.breakdown_point, dict(phi=0.5, psi=0.2), "phi"),
    (bc.breakdown_point, dict(phi=0.5, psi=0.2), "psi"),
    (bc.breakdown_bounds, dict(phi=0.5, psi=0.2, t=0.1), "t"),
    (bc.limit_accuracy, dict(p=0.3, phi=0.5, psi=0.2), "p"),
    (bc.kept_probabilities, dict(p=0.3, phi0=0.5, phi1=0.5, psi01=0.2, psi10=0.2), "psi10"),
    (bc.per_class_breakdown_points, dict(phi0=0.5, phi1=0.5, psi01=0.2, psi10=0.2), "phi1"),
    (bc.pooled_breakdown_point, dict(phi0=0.5, phi1=0.5, psi01=0.2, psi10=0.2), "psi01"),
    (bc.effective_breakdown_point, dict(phi=0.5, psi=0.2, real_fraction=0.1), "real_fraction"),
    (bc.isotropic_rates, dict(theta_gen=1.0, theta_prune=1.2, theta=0.5), "theta_prune"),
    (bc.gaussian_mixture_rates, dict(mu_norm=0.3, d=10.0, theta_gen=1.0, theta_prune=1.2, theta=0.5), "d"),
    (bc.mixture_snr, dict(mu_norm=0.3, d=10.0), "mu_norm"),
    (bc.normal_cdf, dict(x=0.3), "x"),
]
BAD_VALUES = [float("nan"), float("inf"), -float("inf"), 1 + 2j, np.array([0.5 + 0.5j]), True, None, "0.5",
              10**400, -0.5, [0.5, "x"]]


@pytest.mark.parametrize("func,kwargs,name", CALLS, ids=[f"{f.__name__}-{n}" for f, _, n in CALLS])
@pytest.mark.parametrize("bad", BAD_VALUES, ids=repr)
def test_invalid_input_names_the_parameter(func, kwargs, name, bad):
    if func is bc.normal_cdf and not isinstance(bad, (str, list, complex, np.ndarray, bool)) and bad is not None \
            and not (isinstance(bad, float) and math.isnan(bad)) and bad != 10**400:
        return  # every real x, -inf and inf included, is valid for the normal CDF
    with pytest.raises((ValueError, TypeError)) as exc:
        func(**{**kwargs, name: bad})
    assert type(exc.value) in (ValueError, TypeError)  # not an OverflowError, UFuncTypeError, ...
    assert name in str(exc.value), str(exc.value)


@given(st.sampled_from(CALLS), st.floats(allow_nan=True, allow_infinity=True) | st.complex_numbers(allow_nan=True))
def test_any_float_or_complex_is_accepted_or_named(call, value):
    func, kwargs, name = call
    try:
        out = func(**{**kwargs, name: value})
    except (ValueError, TypeError) as exc:
        assert type(exc) in (ValueError, TypeError) and name in str(exc), str(exc)
    else:
        assert isinstance(value, float) and not math.isnan(value)  # never complex or NaN
        assert math.isfinite(value) or func is bc.normal_cdf or (func is bc.gaussian_mixture_rates and value > 0)
        for v in np.ravel(np.asarray(getattr(out, "p_star", out), dtype=float)):
            assert math.isfinite(v) or func is bc.effective_breakdown_point  # inf at real_fraction = 1


def test_mismatched_shapes_name_the_parameters_and_their_shapes():
    with pytest.raises(ValueError, match=r"phi0 \(2,\), phi1 \(3,\).* do not broadcast"):
        bc.per_class_breakdown_points([0.5, 0.6], [0.5, 0.6, 0.7], 0.2, 0.2)
    with pytest.raises(ValueError, match=r"phi \(2,\), psi \(3,\)"):
        bc.breakdown_point([0.5, 0.6], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"theta_gen \(2,\), theta_prune \(3,\), theta \(\)"):
        bc.isotropic_rates([1.0, 1.1], [1.0, 1.1, 1.2], 0.3)


@pytest.mark.parametrize("labels,error", [([0, 2, 1], ValueError), ([0.5, 1], ValueError),
                                          (["a", "b"], TypeError), ([-1, 1], ValueError)])
def test_flip_labels_refuses_labels_outside_0_1(labels, error):
    with pytest.raises(error, match="y must hold labels 0/1"):
        flip_labels(labels, 0.1, rng=np.random.default_rng(0))
    with pytest.raises(error, match="y_true must hold labels 0/1"):
        rlhf_prune(labels, np.zeros(len(labels), dtype=int), phi=0.5, psi=0.5, rng=np.random.default_rng(0))


def test_flip_labels_flips_at_rate_p():
    y = np.tile([0, 1], 5000)
    out = flip_labels(y, 0.2, rng=np.random.default_rng(1))
    rate = np.mean(out != y)
    assert abs(rate - 0.2) < 4 * math.sqrt(0.2 * 0.8 / y.size)  # binomial standard error
    assert set(np.unique(out)) <= {0, 1}


def test_complex_w_and_bool_max_iter_are_named():
    with pytest.raises(TypeError, match="^w must be a real"):
        accuracy_vs_bayes(np.array([1.0 + 1j, 0.0]), mu=np.array([0.3, 0.0]))
    X = np.random.default_rng(0).standard_normal((20, 2))
    with pytest.raises(TypeError, match="^max_iter must be an integer"):
        fit_ridge_logistic(X, (X[:, 0] > 0).astype(float), lam=0.1, max_iter=True)


# ---------------------------------------------------------------------------------------------
# Two runs started at once into one runs folder: the second refuses with one line, exit 2.
# ---------------------------------------------------------------------------------------------


def test_run_in_another_process_makes_the_second_refuse_until_it_ends(tmp_path, capsys):
    """A real second process holds the runs folder's lock (``runs.run_lock``, as ``simulate`` does);
    ``simulate`` into the same folder refuses before computing; once the holder is killed
    (SIGKILL: no clean-up runs) the OS has released the lock and the run goes ahead."""
    import subprocess
    import sys

    from beyond_collapse import runs

    units = runs.runs_folder(tmp_path / "runs", "quick", "fig5")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom beyond_collapse import runs\nwith runs.run_lock(sys.argv[1]):\n"
         "    print('locked', flush=True)\n    sys.stdin.read()", str(units)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        argv = ["simulate", "fig5", "--quiet", "--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]
        code, err = run_cli(argv, capsys)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and len(lines) == 1 and "Traceback" not in err
        assert "another run is using the runs folder" in lines[0] and str(units) in lines[0]
        assert not list(units.glob("*.json"))  # nothing computed
    finally:
        holder.kill()
        holder.wait(timeout=30)
    with runs.run_lock(units):  # a killed holder leaves no stale lock
        pass
