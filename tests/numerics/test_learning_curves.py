"""High-dimensional learning curves (issue 16) against simulation, the limit theorem and brute force.

The simulations fit eq. (1) at d = 400 with the package's own solver (logistic) or the closed-form
ridge solution (square loss) and measure the exact accuracy of each fit; the theory must agree
with the mean over seeds within two standard errors or one point of accuracy.
"""

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import expit, roots_hermitenorm

from beyond_collapse.numerics import learning_curves as lc
from beyond_collapse.numerics.bayes import accuracy_vs_bayes
from beyond_collapse.numerics.experiments._common import fit_pruned
from beyond_collapse.numerics.samplers import (
    angle_directions,
    flip_labels,
    linear_pruner,
    mixture_mean,
    rlhf_prune,
    sample_gaussian_mixture,
    sample_supervised_dataset,
)
from beyond_collapse.theory import breakdown_point

D, MU_NORM, LAM, SEEDS = 400, 0.08, 1e-2, 6


def _fit(X, y_syn, kept, loss):
    if loss == "logistic":
        return fit_pruned(X, y_syn, kept, LAM)
    n = X.shape[0]  # ridge least squares on targets +-1, eq. (1) normalised by all n rows
    Xk, yk = X[kept > 0], 2.0 * y_syn[kept > 0] - 1.0
    return np.linalg.solve(Xk.T @ Xk / n + LAM * np.eye(X.shape[1]), Xk.T @ yk / n)


def assert_agrees(theory, measured):
    mean, se = np.mean(measured), np.std(measured, ddof=1) / np.sqrt(len(measured))
    assert abs(theory - mean) <= max(2 * se, 0.01), (theory, mean, se)


@pytest.mark.parametrize("loss", lc.LOSSES)
@pytest.mark.parametrize("n, p, phi, psi", [(800, 0.0, 1.0, 1.0), (2000, 0.3, 0.9, 0.3), (4000, 0.55, 0.3, 0.9)])
def test_rlhf_curve_matches_simulation(loss, n, p, phi, psi):
    alpha, snr, ridge = lc.proportional_parameters(n, D, MU_NORM, LAM)
    theory = lc.rlhf_learning_curve(alpha, p=p, phi=phi, psi=psi, snr=snr, ridge=ridge, loss=loss)
    mu = mixture_mean(D, MU_NORM)
    accs = []
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        X, y = sample_gaussian_mixture(n, d=D, mu_norm=MU_NORM, rng=rng)
        y_syn = flip_labels(y, p, rng=rng)
        kept = rlhf_prune(y, y_syn, phi=phi, psi=psi, rng=rng)
        accs.append(accuracy_vs_bayes(_fit(X, y_syn, kept, loss), mu=mu))
    assert_agrees(theory.accuracy, accs)
    assert theory.kept_fraction == pytest.approx((1 - p) * phi + p * psi)


@pytest.mark.parametrize("loss", lc.LOSSES)
@pytest.mark.parametrize("data", lc.DATA_MODELS)
@pytest.mark.parametrize("n, angles", [(2000, (0.35, 0.1, 0.3)), (4000, (0.45, 0.2, 0.5)), (2000, (0.2, 0.3, 0.15))])
def test_supervised_curve_matches_simulation(loss, data, n, angles):
    tg, tp, t = (np.pi * a for a in angles)
    alpha, snr, ridge = lc.proportional_parameters(n, D, MU_NORM if data == "mixture" else 0.0, LAM)
    theory = lc.supervised_learning_curve(alpha, snr=snr, theta_gen=tg, theta_prune=tp, theta=t, ridge=ridge,
                                          loss=loss, data=data)
    mu = mixture_mean(D, MU_NORM)
    accs, kept_frac = [], []
    for seed in range(SEEDS):
        rng = np.random.default_rng(100 + seed)
        X, _, y_syn, kept = sample_supervised_dataset(n, d=D, mu_norm=MU_NORM, theta_gen=tg, theta_prune=tp,
                                                      theta=t, rng=rng, data=data)
        w = _fit(X, y_syn, kept, loss)
        accs.append(accuracy_vs_bayes(w, mu=mu, noise_std=None if data == "mixture" else 1e12))
        kept_frac.append(kept.mean())
    assert_agrees(theory.accuracy, accs)
    assert_agrees(theory.kept_fraction, kept_frac)


def test_sigmoid_generator_matches_simulation():
    """Fig. 3's label channel: P(y' = 1 | x) = sigmoid(x . w_gen), kept by eq. (5)."""
    n, tg, tp, t, scale = 3000, 0.3 * np.pi, 0.1 * np.pi, 0.25 * np.pi, 2.0
    alpha, snr, ridge = lc.proportional_parameters(n, D, MU_NORM, LAM)
    theory = lc.supervised_learning_curve(alpha, snr=snr, theta_gen=tg, theta_prune=tp, theta=t, ridge=ridge,
                                          generator="sigmoid", gen_scale=scale)
    mu = mixture_mean(D, MU_NORM)
    noise = np.sqrt((1 - MU_NORM**2) / D)
    accs = []
    for seed in range(SEEDS):
        rng = np.random.default_rng(200 + seed)
        X, _, _, _ = sample_supervised_dataset(n, d=D, mu_norm=MU_NORM, theta_gen=tg, theta_prune=tp, theta=t,
                                               rng=rng)
        w_gen, w_prune = angle_directions(mu, theta_gen=tg, theta_prune=tp, theta=t)
        y_syn = (rng.random(n) < expit(scale * (X @ w_gen) / noise)).astype(np.int8)
        kept = linear_pruner(X, y_syn, w_prune)
        accs.append(accuracy_vs_bayes(fit_pruned(X, y_syn, kept, LAM), mu=mu))
    assert_agrees(theory.accuracy, accs)


def test_large_alpha_reaches_the_limit_theorem():
    """Thm. 3.2: as alpha grows the accuracy tends to 1 below p* and to 0 above, 1/2 at p*."""
    phi, psi = 0.9, 0.3
    p_star = breakdown_point(phi, psi)
    p = np.array([p_star - 0.05, p_star, p_star + 0.05])
    small = lc.rlhf_learning_curve(3.0, p=p, phi=phi, psi=psi, snr=1.5, ridge=1.0).accuracy
    large = lc.rlhf_learning_curve(3e4, p=p, phi=phi, psi=psi, snr=1.5, ridge=1.0).accuracy
    assert large[0] > 0.99 and large[2] < 0.01
    assert large[1] == pytest.approx(0.5, abs=1e-9)
    assert small[0] < large[0] and small[2] > large[2]  # finite alpha sits between


def test_accuracy_is_monotone_in_alpha_below_breakdown():
    alpha = np.logspace(-1, 2, 12)
    acc = lc.supervised_learning_curve(alpha, snr=1.6, theta_gen=0.35 * np.pi, theta_prune=0.1 * np.pi,
                                       theta=0.3 * np.pi, ridge=0.5).accuracy
    assert np.all(np.diff(acc) > 0)


def test_array_call_equals_scalar_calls():
    alpha = np.array([[0.5], [4.0]])
    p = np.array([0.1, 0.4, 0.7])
    arr = lc.rlhf_learning_curve(alpha, p=p, phi=0.8, psi=0.4, snr=1.2, ridge=0.7, loss="square")
    assert arr.accuracy.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            one = lc.rlhf_learning_curve(float(alpha[i, 0]), p=float(p[j]), phi=0.8, psi=0.4, snr=1.2, ridge=0.7,
                                         loss="square")
            assert one.accuracy == pytest.approx(arr.accuracy[i, j], abs=1e-8)
            assert one.q_perp == pytest.approx(arr.q_perp[i, j], rel=1e-6)


def _brute_moments(y, means, tau, V):
    """E_xi of f, f', f^2 for the logistic loss by a root solve at every (mean, xi): no tables."""
    xi, w = roots_hermitenorm(32)
    w = w / w.sum()
    out = np.zeros((3, means.size))
    for j, m in enumerate(means):
        for x, wk in zip(xi, w):
            omega = m + tau * x
            lo, hi = sorted((omega, omega + y * V))
            eta = brentq(lambda e: e - omega - V * y * expit(-y * e), lo, hi, xtol=1e-14, rtol=1e-14)
            s = expit(-y * eta)
            c = s * (1 - s)
            out[:, j] += wk * np.array([y * s, -c / (1 + V * c), s * s])
    return out


@pytest.mark.parametrize("V", [0.3, 5.0, 2000.0])
@pytest.mark.parametrize("y", [-1.0, 1.0])
def test_tabulated_prox_moments_match_root_solves(V, y):
    """The Hermite tables (knot spacing 0.05) against a direct root solve per point."""
    means = np.linspace(-6.0, 6.0, 2000)  # many nodes: the two-level table path
    tau = 1.3
    got = lc._prox_moments("logistic", y, means, tau, V)
    pick = np.arange(0, means.size, 97)
    want = _brute_moments(y, means[pick], tau, V)
    np.testing.assert_allclose(got[:, pick], want, atol=1e-9, rtol=1e-7)
    few = lc._prox_moments("logistic", y, means[pick], tau, V)  # few nodes: the direct path
    np.testing.assert_allclose(few, want, atol=1e-9, rtol=1e-7)


def test_proportional_parameters():
    alpha, snr, ridge = lc.proportional_parameters(2000, 400, 0.6, 1e-2)
    assert alpha == 5.0
    assert snr == pytest.approx(0.6 * np.sqrt(400 / 0.64))
    assert ridge == pytest.approx(1e-2 * 400 / 0.64)


@pytest.mark.parametrize("call, name", [
    (lambda: lc.rlhf_learning_curve(-1.0, p=0.1, phi=1, psi=1, snr=1, ridge=1), "alpha"),
    (lambda: lc.rlhf_learning_curve(1.0, p=1.5, phi=1, psi=1, snr=1, ridge=1), "p"),
    (lambda: lc.rlhf_learning_curve(1.0, p=0.1, phi=1, psi=1, snr=1, ridge=0.0), "ridge"),
    (lambda: lc.rlhf_learning_curve(1.0, p=0.1, phi=0, psi=0, snr=1, ridge=1), "nothing survives"),
    (lambda: lc.rlhf_learning_curve(1.0, p=0.1, phi=1, psi=1, snr=1, ridge=1, loss="hinge"), "loss"),
    (lambda: lc.rlhf_learning_curve([1.0, 2.0], p=[0.1, 0.2, 0.3], phi=1, psi=1, snr=1, ridge=1), r"alpha \(2,\), .* p \(3,\)"),
    (lambda: lc.supervised_learning_curve(1.0, snr=1, theta_gen=0.1, theta_prune=0.2, theta=1.0, ridge=1), "theta"),
    (lambda: lc.supervised_learning_curve(1.0, snr=1, theta_gen=0.1, theta_prune=0.2, theta=0.15, ridge=1,
                                          generator="step"), "generator"),
    (lambda: lc.supervised_learning_curve(1.0, snr=1, theta_gen=0.1, theta_prune=0.2, theta=0.15, ridge=1,
                                          data="uniform"), "data"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_non_convergence_is_an_error(monkeypatch):
    monkeypatch.setattr(lc, "_TOL", 0.0)
    with pytest.raises(lc.LearningCurveError, match="alpha=2.0"):
        lc.rlhf_learning_curve(2.0, p=0.2, phi=1, psi=1, snr=1, ridge=1)


def test_cli_json_matches_the_api(capsys):
    import json

    from beyond_collapse.cli import main

    assert main(["learning-curve", "rlhf", "--n", "800,4000", "--d", "400", "--mu-norm", "0.08", "--p", "0.3",
                 "--phi", "0.9", "--psi", "0.3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    alpha, snr, ridge = lc.proportional_parameters(np.array([800, 4000]), 400, 0.08, 1e-2)
    want = lc.rlhf_learning_curve(alpha, p=0.3, phi=0.9, psi=0.3, snr=snr, ridge=ridge)
    assert [pt["alpha"] for pt in out["points"]] == [2.0, 10.0]
    assert [pt["accuracy"] for pt in out["points"]] == pytest.approx(list(want.accuracy), abs=1e-12)


def test_cli_unrealisable_angles_exit_2(capsys):
    from beyond_collapse.cli import main

    with pytest.raises(SystemExit) as exc:
        rc = main(["learning-curve", "supervised", "--n", "1000", "--d", "100", "--theta-gen", "pi/3",
                   "--theta-prune", "pi/12", "--theta", "0.9*pi"])
        raise SystemExit(rc)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "theta must lie in" in err[0]


def test_fig3_oracle_error_matches_its_simulation():
    """Fig. 3's oracle selector with a sigmoid OLS generator: the theory at n' (from the unit's own
    generator) against the simulated unit, three seeds, both downstream fits."""
    from dataclasses import asdict

    from beyond_collapse.numerics.experiments.fig3 import Fig3Config, relative_error_curves, theory_plateau

    cfg = Fig3Config(n0_values=(100,), n1=80_000, n_prime=(20_000,), seeds=3)
    for seed in range(cfg.seeds):
        sim = relative_error_curves(cfg, 100, seed)
        th = theory_plateau(asdict(cfg), 100, seed)
        for est, key in (("ols", "relative_error"), ("logistic", "relative_error_logistic")):
            measured = sim[key]["oracle"][-1]
            assert th[est]["oracle"] == pytest.approx(measured, rel=0.06), (seed, est)
            assert th[est]["oracle_limit"] <= th[est]["oracle"] * 1.001  # more data cannot hurt the limit


@pytest.mark.parametrize("name, real", [("rlhf p*=0.8", 0.0), ("rlhf p*=0.2", 0.0), ("supervised 60deg", 0.3),
                                        ("none (p*=0.5)", 0.0)])
def test_generations_trajectory_matches_simulation(name, real):
    """Issue 17 with issue 16: the learning curve's per-generation accuracy (replace mode) against the
    simulated loop at N = 2000, d = 100, three generations, six seeds."""
    from dataclasses import replace

    from beyond_collapse.numerics.experiments._common import unit_rng
    from beyond_collapse.numerics.experiments.generations import get_profile, settings
    from beyond_collapse.numerics.generations import learning_curve_trajectory, simulate_generations

    prof = replace(get_profile("cpu"), generations=3)
    cfg = dict(settings(prof))[f"{name}, replace, real {real:g}"]
    predicted = np.asarray(learning_curve_trajectory(cfg)["accuracy"])
    sims = np.array([simulate_generations(cfg, unit_rng(0, 17, s))["accuracy"] for s in range(6)])
    mean, se = sims.mean(axis=0), sims.std(axis=0, ddof=1) / np.sqrt(len(sims))
    assert np.all(np.abs(predicted - mean) <= np.maximum(2 * se, 0.01)), (predicted, mean, se)


def test_generations_trajectory_refuses_accumulate():
    from beyond_collapse.numerics.experiments.generations import get_profile, settings
    from beyond_collapse.numerics.generations import learning_curve_trajectory

    cfg = dict(settings(get_profile("quick")))["none (p*=0.5), accumulate, real 0"]
    with pytest.raises(ValueError, match="replace"):
        learning_curve_trajectory(cfg)


@pytest.mark.parametrize("alpha, ridge", [(0.5, 0.3), (2.0, 0.01), (8.0, 1.5)])
def test_random_labels_square_loss_closed_form(alpha, ridge):
    """p = 1/2: labels independent of x. With the square loss the saddle point has a closed form, the
    equations of Gerace et al. 2022 (public code IdePHICS/RandomLabelsUniversality,
    Theory/gaussian_mixture.py, Sigma = I, m = 0) with their lambda = alpha * ridge:
    V = 1 / (lambda + alpha / (1 + V)) and Q = alpha (1 + Q) V^2 / (1 + V)^2."""
    curve = lc.rlhf_learning_curve(alpha, p=0.5, phi=1.0, psi=1.0, snr=1.3, ridge=ridge, loss="square")
    a, r = alpha, ridge
    V = (-(a * r + a - 1) + np.sqrt((a * r + a - 1) ** 2 + 4 * a * r)) / (2 * a * r)
    Q = a * V**2 / ((1 + V) ** 2 - a * V**2)
    assert curve.v == pytest.approx(V, rel=1e-7)
    assert curve.q_perp == pytest.approx(Q, rel=1e-6)
    assert curve.b_norm2 == pytest.approx(0.0, abs=1e-12)
    assert curve.accuracy == pytest.approx(0.5, abs=1e-9)


def test_pruner_along_the_generator_keeps_everything():
    """theta = 0 (w_prune = w_gen): eq. (5) keeps every row, so the curve equals no pruning; also a
    regression test for the one-dimensional keep path reached in a sweep (several points in a row)."""
    tg = np.array([0.2, 0.3, 0.4]) * np.pi
    pruned = lc.supervised_learning_curve(3.0, snr=1.2, theta_gen=tg, theta_prune=tg, theta=0.0, ridge=0.5)
    assert np.allclose(pruned.kept_fraction, 1.0)
    alone = lc.linear_generator_step(3.0, snr=1.2, ridge=0.5, theta_gen=float(tg[1]), verifier="none")
    assert pruned.accuracy[1] == pytest.approx(alone["accuracy"], abs=1e-8)
