"""Edge cases of issue 19 (second fuzz pass): N = 0, huge integers, None, subnormals, Ctrl-C,
file modes, malformed JSON and concurrent runs. Each case failed before its fix."""

import os
import stat

import numpy as np
import pytest

from beyond_collapse import breakdown_bounds, breakdown_point, cli, limit_accuracy, runs
from beyond_collapse.audit.estimate import audit
from beyond_collapse.numerics.datasets import condition_d1_dataset
from beyond_collapse.numerics.intervals import clopper_pearson
from beyond_collapse.numerics.kkt import solve_kkt
from beyond_collapse.numerics.logistic import fit_ridge_logistic
from beyond_collapse.numerics.samplers import flip_labels, sample_gaussian_mixture
from beyond_collapse.numerics.success import success_probability
from beyond_collapse.theory.special import bivariate_normal_cdf, normal_cdf
from beyond_collapse.theory.supervised import gaussian_mixture_rates, isotropic_rates

# ---------------------------------------------------------------------------------------------
# success_probability at N = 0: no data, success impossible, pooled and per-class agree.
# ---------------------------------------------------------------------------------------------

_GRID = np.array([0.0, 5e-324, 1e-310, 1e-300, 1e-17, 0.1, 0.3, 0.5, 0.9, 1.0])


@pytest.mark.parametrize("condition", ["pooled", "per-class"])
def test_success_probability_at_n0_is_zero_everywhere(condition):
    p, phi, psi = np.meshgrid(_GRID, _GRID, _GRID, indexing="ij")
    r = success_probability(0, p, phi, psi, condition=condition)
    assert np.all(r.probability == 0.0)
    assert np.all(r.log_success == -np.inf)
    assert np.all(r.log_failure == 0.0)


def test_success_probability_n0_cases_of_the_issue():
    for p in (0.0, 0.3, 1e-300):
        pooled = success_probability(0, p, 1.0, 0.1)
        per_class = success_probability(0, p, 1.0, 0.1, condition="per-class")
        assert pooled.probability == per_class.probability == 0.0
    # N = 1 with p = 0, phi = 1 keeps one right example: success is certain (unchanged)
    assert success_probability(1, 0.0, 1.0, 0.1).probability == 1.0


@pytest.mark.filterwarnings("error::RuntimeWarning")  # and no overflow warning from the binomial kernel
@pytest.mark.parametrize("n", [1, 2, 3, 10])
@pytest.mark.parametrize("condition", ["pooled", "per-class"])
def test_success_probability_tiny_p_is_never_nan(n, condition):
    p, phi, psi = np.meshgrid(_GRID, _GRID, _GRID, indexing="ij")
    r = success_probability(n, p, phi, psi, condition=condition)
    for field in r:
        assert not np.any(np.isnan(field))
    assert np.all((r.probability >= 0) & (r.probability <= 1))


# ---------------------------------------------------------------------------------------------
# Huge Python integers and None: ValueError naming the parameter (one check, _validation.py).
# ---------------------------------------------------------------------------------------------

H = 10**400
_X, _Y = np.eye(3), np.array([0, 1, 1])

_HUGE = [
    ("phi", lambda: breakdown_point(H, 0.3)),
    ("x", lambda: normal_cdf(H)),
    ("h", lambda: bivariate_normal_cdf(H, 0.0, 0.1)),
    ("n11", lambda: solve_kkt(H, 1, 1, 1, 0.5, 0.1, 1.0)),
    ("n", lambda: success_probability(H, 0.1, 1.0, 0.1)),
    ("theta_gen", lambda: isotropic_rates(H, 1.0, 1.0)),
    ("d", lambda: gaussian_mixture_rates(0.5, H, 1.0, 1.0, 0.5)),
    ("n", lambda: clopper_pearson(1, H)),
    ("lam", lambda: fit_ridge_logistic(_X, _Y, lam=H)),
    ("p", lambda: flip_labels(_Y, H, rng=np.random.default_rng(0))),
    ("a", lambda: condition_d1_dataset(_Y, H, 0.0)),
]


@pytest.mark.parametrize("name,call", _HUGE)
def test_huge_integers_raise_value_error_naming_the_parameter(name, call):
    with pytest.raises(ValueError, match=rf"^{name} must be a real number .*float range"):
        call()


@pytest.mark.parametrize("value,where", [(None, ""), ([0.5, None], " at index \\(1,\\)")])
def test_none_is_named_as_none_not_nan(value, where):
    with pytest.raises(ValueError, match=rf"^phi must be a real number or array of real numbers, got None{where}$"):
        breakdown_point(value, 0.3)


@pytest.mark.parametrize("n_draws", [float("inf"), float("nan"), "2000"])
def test_audit_n_draws_not_finite_is_a_value_error(n_draws):
    data = {"y_true": [0, 1] * 10, "y_syn": [0, 1] * 10, "kept": [1] * 20}
    with pytest.raises(ValueError, match="n_draws must be a whole number >= 1000"):
        audit(data, n_draws=n_draws)


@pytest.mark.parametrize("n_draws", [10**16, 10**400], ids=["1e16", "1e400"])
def test_audit_n_draws_beyond_memory_refused_before_allocating(n_draws):
    data = {"y_true": [0, 1] * 10, "y_syn": [0, 1] * 10, "kept": [1] * 20}
    with pytest.raises(ValueError, match=f"n_draws = {n_draws} posterior draws would need .* GiB of memory"):
        audit(data, n_draws=n_draws)


def test_sample_gaussian_mixture_refuses_huge_d_before_allocating():
    with pytest.raises(ValueError, match=r"X of shape \(n, d\) = \(5, 1000000000000\) would need .* GiB of memory"):
        sample_gaussian_mixture(5, d=10**12, mu_norm=0.5, rng=np.random.default_rng(0))


def test_fit_ridge_logistic_blames_w0_not_x():
    with pytest.raises(ValueError, match=r"^w0 must be finite, got inf at index \(0,\)$"):
        fit_ridge_logistic(_X, _Y, lam=1.0, w0=[np.inf, 0.0, 0.0])


# ---------------------------------------------------------------------------------------------
# Subnormals and the exact ordering p-*(t) <= p* <= p+*(t).
# ---------------------------------------------------------------------------------------------


def test_breakdown_bounds_subnormal_phi():
    assert breakdown_bounds(5e-324, 0.0, 0.5) == (1.0, 1.0)
    assert breakdown_bounds(0.0, 5e-324, 0.5) == (0.0, 0.0)


def test_limit_accuracy_subnormal_phi_follows_p_star():
    assert breakdown_point(5e-324, 0.0) == 1.0
    assert limit_accuracy(0.5, 5e-324, 0.0) == 1.0
    assert limit_accuracy(0.5, 0.0, 5e-324) == 0.0
    assert limit_accuracy(0.5, 5e-324, 5e-324) == 0.5


def test_breakdown_bounds_bracket_p_star_exactly():
    # the issue's case: p-*(t) was one ulp above p* at t = 1e-16
    phi, psi = 0.6905672049550343, 0.28758411382946797
    lo, hi = breakdown_bounds(phi, psi, 1e-16)
    assert lo <= breakdown_point(phi, psi) <= hi
    rng = np.random.default_rng(19)
    phi, psi = rng.random(20000), rng.random(20000)
    t = 10.0 ** rng.uniform(-17, -1, 20000)
    lo, hi = breakdown_bounds(phi, psi, t)
    star = breakdown_point(phi, psi)
    assert np.all(lo <= star) and np.all(star <= hi)


# ---------------------------------------------------------------------------------------------
# Command line: Ctrl-C, --seed, file modes, malformed JSON, concurrent runs.
# ---------------------------------------------------------------------------------------------


def _stderr_lines(capsys):
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_ctrl_c_during_simulate_one_line_exit_130(monkeypatch, capsys, tmp_path):
    import beyond_collapse.numerics.experiments as experiments

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(experiments, "produce", interrupted)
    code = cli.main(["simulate", "fig5", "--quiet", "--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path)])
    assert code == 130
    lines = _stderr_lines(capsys)
    assert len(lines) == 1 and "Traceback" not in lines[0]
    assert "interrupted" in lines[0] and "kept" in lines[0] and "resume" in lines[0]
    assert str(tmp_path / "runs") in lines[0]


@pytest.mark.parametrize("argv", [["simulate", "fig5"], ["audit", "x.csv"], ["audit-calibration"],
                                  ["audit-simulate", "--out", "x.csv"]])
def test_negative_seed_names_the_option(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        cli.main([*argv, "--seed", "-1"])
    assert exc.value.code == 2
    lines = _stderr_lines(capsys)
    assert len(lines) == 1 and "--seed" in lines[0] and "-1" in lines[0]


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_results_json_follows_the_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        path = runs.write_json_atomic(tmp_path / "r.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert runs.read_json(path) == {"a": 1}


def test_malformed_json_names_the_file(tmp_path):
    path = tmp_path / "unit.json"
    path.write_text('{"a": 1}\n{"b": 2}\n')
    with pytest.raises(ValueError, match=rf"^{path} is not valid JSON \(Extra data: line 2"):
        runs.read_json(path)
    with pytest.raises(ValueError, match="unit.json is not valid JSON"):
        runs.run_unit(path, lambda: {}, config={}, seed=0)


def test_second_run_into_the_same_folder_refuses(capsys, tmp_path):
    units = runs.runs_folder(tmp_path / "runs", "quick", "fig5")
    with runs.run_lock(units):
        code = cli.main(["simulate", "fig5", "--quiet", "--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path)])
        assert code == 2
        lines = _stderr_lines(capsys)
        assert len(lines) == 1 and "another run is using the runs folder" in lines[0] and str(units) in lines[0]
        assert not list(units.glob("*.json"))  # refused before computing anything
    with runs.run_lock(units):  # released when the first run ends
        pass


def test_second_summarize_run_into_the_same_folder_refuses(capsys, tmp_path):
    units = runs.runs_folder(tmp_path / "runs", "quick", "summarization")
    with runs.run_lock(units):
        code = cli.main(["summarize", "run", "--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path)])
        assert code == 2
        lines = _stderr_lines(capsys)
        assert len(lines) == 1 and "another run is using the runs folder" in lines[0] and str(units) in lines[0]
        assert not [p for p in units.iterdir() if p.name != ".lock"]  # refused before loading a model
    code = cli.main(["summarize", "run", "--collect-only", "--only", "scores", "--runs-dir", str(tmp_path / "runs")])
    assert code == 2 and "cannot be combined with --only" in _stderr_lines(capsys)[0]
    code = cli.main(["summarize", "run", "--collect-only", "--runs-dir", str(tmp_path / "none")])
    assert code == 2 and "nothing to collect: the runs folder" in _stderr_lines(capsys)[0]


def test_run_lock_on_a_file_is_a_value_error(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(ValueError, match="cannot create the runs folder"):
        with runs.run_lock(path / "fig5"):
            pass


def test_summarize_goes_offline_when_the_hub_does_not_answer(monkeypatch):
    """Without network, huggingface_hub would retry each request for about a minute: a 3 s probe
    switches the hub libraries to offline mode first; local folders and packaged models never probe."""
    import socket

    from beyond_collapse.empirics.summarization import commands
    from beyond_collapse.empirics.summarization.pipeline import get_profile

    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    probes = []

    def unreachable(address, timeout):
        probes.append((address, timeout))
        raise OSError("Name or service not known")

    monkeypatch.setattr(socket, "create_connection", unreachable)
    commands._go_offline_if_hub_unreachable(get_profile("cpu"))  # shipped data folder, packaged SmolLM2
    assert probes == [] and "HF_HUB_OFFLINE" not in os.environ
    commands._go_offline_if_hub_unreachable(get_profile("cpu", data_source="owner/dataset"))
    assert probes == [(("huggingface.co", 443), 3)]
    assert os.environ["HF_HUB_OFFLINE"] == os.environ["HF_DATASETS_OFFLINE"] == "1"
