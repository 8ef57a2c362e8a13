"""The simulations of Figs. 2, 3, 5 on tiny sizes: against the theory's breakdown points (a
simulation check with margins far wider than the finite-N transition width), against direct
least-squares fits, and for resumability, CLI and output files."""

import json

import numpy as np
import pytest

from beyond_collapse.cli import main
from beyond_collapse.numerics.experiments import _common, fig2, fig3, fig5, produce


@pytest.fixture(autouse=True, scope="module")
def one_numba_thread():
    """`pytest -n 2` already keeps both cores busy; the logistic solver's parallel numba kernel on top
    of that oversubscribes them, which made one of these tests 77 s instead of 9 s (measured)."""
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(previous)


def test_measured_breakdown_is_sup_of_passing_grid_points():
    grid = [0.0, 0.1, 0.2, 0.3, 0.4]
    assert _common.measured_breakdown(grid, [1, 0.95, 0.91, 0.5, 0.0], 0.9) == (0.2, 0.3)
    # sup, not first failure: a late pass counts (the definition of Fig. 5 right)
    assert _common.measured_breakdown(grid, [1, 0.8, 0.95, 0.1, 0.0], 0.9) == (0.2, 0.3)
    assert _common.measured_breakdown(grid, [1, 1, 1, 1, 1], 0.9) == (0.4, 0.4)
    p_up, _ = _common.measured_breakdown(grid, [0.1] * 5, 0.9)
    assert np.isnan(p_up)


TINY5 = fig5.Fig5Config(n=400, d=150, mu_norm=0.5, lam=1e-2, ratios=(0.5, 2.0), left_ratios=(0.5,),
                        p_step=0.1, seeds=1)


def test_fig5_curve_is_perfect_below_and_inverted_above_the_breakdown():
    """Thm. 3.2 in the high-dimensional regime: acc = 100% well below p* and 0% well above.
    p* = 2/3 for psi/phi = 1/2 and 1/3 for psi/phi = 2; the finite-N transition at N = 400 is
    ~ 1/sqrt(N) wide, so 0.15 away from p* the accuracy is at its limit."""
    from beyond_collapse.theory import breakdown_point

    for ratio in (0.5, 2.0):
        p_star = breakdown_point(*fig5.keep_rates(ratio))
        curve = fig5.accuracy_curve(TINY5, ratio, seed=0)
        p, acc = np.asarray(curve["p"]), np.asarray(curve["accuracy"])
        assert np.all(acc[p < p_star - 0.15] > 0.97), (ratio, acc)
        assert np.all(acc[p > p_star + 0.15] < 0.03), (ratio, acc)


def test_fig5_run_resumes_without_recomputing(tmp_path, monkeypatch):
    micro = fig5.Fig5Config(n=120, d=40, mu_norm=0.5, lam=1e-2, ratios=(0.5, 2.0), left_ratios=(0.5,),
                            p_step=0.25, seeds=1)
    monkeypatch.setitem(fig5.CONFIGS, "quick", micro)
    first = fig5.run("quick", runs_dir=tmp_path, progress=False)
    assert len(list(tmp_path.glob("*.json"))) == 2  # one unit per (ratio, seed)

    def boom(*args, **kwargs):
        raise AssertionError("a finished unit was recomputed")

    monkeypatch.setattr(fig5, "accuracy_curve", boom)
    second = fig5.run("quick", runs_dir=tmp_path, progress=False)
    assert second["mean_accuracy"] == first["mean_accuracy"]
    row = first["breakdown"][0]
    assert row["p_minus_t"] < row["p_star"]  # eq. (19) with t = 0.1


def test_finite_n_prediction_brackets_the_crossings():
    """The bisection's p leaves the success probability on the right side of each level, one
    step later on the other; the 1/2 crossing sits at p* up to O(1/N) (median of a near-symmetric
    count difference)."""
    from beyond_collapse.numerics import success_probability
    from beyond_collapse.theory import breakdown_point

    cfg = fig5.Fig5Config(n=500, d=10, mu_norm=0.5, lam=1e-2, ratios=(0.5,), left_ratios=(0.5,), p_step=0.1, seeds=1)
    pred = fig5.finite_n_prediction(cfg, 0.5)
    step = 2.0**-17
    for key, level in (("p_half", 0.5), ("p_09", 0.9)):
        assert success_probability(500, pred[key], 1.0, 0.5).probability >= level
        assert success_probability(500, pred[key] + step, 1.0, 0.5).probability < level
    assert pred["p_09"] < pred["p_half"]
    assert abs(pred["p_half"] - breakdown_point(1.0, 0.5)) < 0.01


def test_prefix_ols_equals_direct_least_squares():
    """Streaming Gram solves vs numpy.linalg.lstsq on each prefix (min-norm below n' = d)."""
    rng = np.random.default_rng(0)
    d, n_prime = 12, (3, 7, 12, 20, 55)
    X, y = rng.standard_normal((60, d)), rng.standard_normal(60)
    fit = fig3._PrefixOLS(d, n_prime)
    for start in range(0, 60, 9):  # chunks that straddle the grid points
        fit.add(X[start:start + 9], y[start:start + 9])
    assert fit.done
    for n, w in zip(n_prime, fit.weights):
        ref = np.linalg.lstsq(X[:n], y[:n], rcond=None)[0]
        assert np.allclose(w, ref, rtol=1e-9, atol=1e-9), n


TINY3 = fig3.Fig3Config(n0_values=(300,), n1=20_000, n_prime=(50, 500, 5000), seeds=1, d=40, chunk=4000,
                        logistic_lam=1e-3)


def test_prefix_logistic_equals_direct_fits():
    """Prefix fits from a stream vs fit_ridge_logistic on each prefix directly."""
    from beyond_collapse.numerics import fit_ridge_logistic

    rng = np.random.default_rng(1)
    d, n_prime = 5, (8, 30, 50)
    X = rng.standard_normal((50, d))
    y = np.where(X[:, 0] + 0.5 * rng.standard_normal(50) > 0, 1.0, -1.0)
    fit = fig3._PrefixLogistic(d, n_prime, lam=1e-2)
    for start in range(0, 60, 7):
        fit.add(X[start:start + 7], y[start:start + 7])
    assert fit.done
    for n, w in zip(n_prime, fit.weights):
        ref = fit_ridge_logistic(X[:n], (y[:n] + 1) / 2, 1e-2, tol=1e-10)
        assert np.allclose(w, ref, atol=1e-7), n


def test_fig3_curves():
    res = fig3.relative_error_curves(TINY3, 300, seed=0)
    for key in ("relative_error", "relative_error_logistic"):
        clean = np.asarray(res[key]["clean"])
        assert np.all(clean >= 0)  # no classifier beats the Bayes classifier
        assert clean[-1] < clean[0]
        # n' = 5000 clean points in d = 40: the relative error is well below 2%
        assert clean[-1] < 0.02
    # generation stops as soon as every selector has its largest n' (here well before N1)
    assert res["pool_generated"] < TINY3.n1
    for m in ("oracle", "theta=pi/12", "theta=pi/6"):
        assert res["kept_in_generated"][m] >= TINY3.n_prime[-1]


def test_fig3_pool_exhaustion_gives_nan():
    cfg = fig3.Fig3Config(n0_values=(100,), n1=3000, n_prime=(50, 2000, 2900), seeds=1, d=20, chunk=1000,
                          logistic_lam=None)
    res = fig3.relative_error_curves(cfg, 100, seed=1)
    assert np.isnan(res["relative_error"]["oracle"][-1])  # fewer than 2900 of 3000 pool points kept
    assert np.isfinite(res["relative_error"]["random"][-1])


@pytest.mark.parametrize("coupling", fig2.COUPLINGS)
def test_coupled_theta_is_realisable(coupling):
    from beyond_collapse.numerics.samplers import angle_directions, mixture_mean

    mu = mixture_mean(5, 0.3)
    for tg in np.linspace(0.05, np.pi - 0.05, 9):
        for tp in (0.0, np.pi / 6, np.pi / 3):
            t = float(fig2.coupled_theta(tg, tp, coupling))
            angle_directions(mu, theta_gen=tg, theta_prune=tp, theta=t)  # raises if unrealisable


def test_fig2_isotropic_breakdown_matches_theory():
    """Isotropic model: p < p* iff theta_gen + theta_prune < pi (orthant identity). The measured 50%
    crossing of the fitted model's accuracy should sit near pi - theta_prune."""
    cfg = fig2.Fig2Config(n=1500, d=60, mu_norm=0.3, lam=1e-2, theta_prunes=(1 / 3,), steps=24, seeds=1)
    pred = fig2.predicted_breakdown(cfg, "isotropic", np.pi / 3, resolution=100)
    assert pred == pytest.approx(2 * np.pi / 3, abs=1e-6)
    curve = fig2.accuracy_curve(cfg, "isotropic", np.pi / 3, seed=0)
    grid = np.asarray(curve["theta_gen"])
    measured, _ = _common.measured_breakdown(grid, curve["accuracy"], 0.5)
    assert abs(measured - pred) <= 2 * np.pi / cfg.steps + 0.1


def test_cli_simulate_writes_json_and_png(tmp_path, monkeypatch):
    monkeypatch.setitem(fig3.CONFIGS, "quick", TINY3)
    out = tmp_path / "out"
    rc = main(["simulate", "fig3", "--profile", "quick", "--runs-dir", str(tmp_path / "runs"), "--out", str(out), "--quiet"])
    assert rc == 0
    data = json.loads((out / "quick" / "fig3.json").read_text())
    assert data["n_prime"] == list(TINY3.n_prime)
    assert (out / "quick" / "fig3.png").stat().st_size > 1000
    assert len(list((tmp_path / "runs" / "quick" / "fig3").glob("*.json"))) == 1


def test_cli_simulate_keeps_each_profiles_results_apart(tmp_path, monkeypatch):
    """A cpu run with the default --out used to overwrite the quick profile's fig5.json (issue 14):
    each profile now writes under its own folder, and the quick results stay as they were."""
    micro = {name: fig5.Fig5Config(n=120, d=40, mu_norm=0.5, lam=1e-2, ratios=(r,), left_ratios=(r,), p_step=0.25,
                                   seeds=1) for name, r in (("quick", 0.5), ("cpu", 2.0))}
    for name, cfg in micro.items():
        monkeypatch.setitem(fig5.CONFIGS, name, cfg)
    monkeypatch.chdir(tmp_path)  # the default --out and --runs-dir are relative
    for profile in ("quick", "cpu"):
        assert main(["simulate", "fig5", "--profile", profile, "--quiet"]) == 0
    out = tmp_path / "docs" / "results" / "numerics"
    for profile, ratio in (("quick", 0.5), ("cpu", 2.0)):
        data = json.loads((out / profile / "fig5.json").read_text())
        assert data["profile"] == profile and data["config"]["ratios"] == [ratio]
        assert (out / profile / "fig5.png").exists()
        assert len(list((tmp_path / "runs" / profile / "fig5").glob("*.json"))) == 1
    assert not (out / "fig5.json").exists()


def test_bad_profile_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="profile"):
        produce("fig5", profile="huge", runs_dir=tmp_path, out_dir=tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "fig9"])
    assert exc.value.code == 2
