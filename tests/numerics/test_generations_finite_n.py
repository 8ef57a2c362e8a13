"""Finite-N generations (numerics.generations): the margin law against enumeration and the package's
success probability, the predicted trajectory against a Monte Carlo of the count chain, the simulation's
first generation against the closed-form keep rates, and determinism / resume of the runs."""

import math

import numpy as np
import pytest

from beyond_collapse.numerics import success_probability
from beyond_collapse.numerics.generations import (
    GenerationsConfig, StateRates, margin_pmf, predicted_bayes_probability, simulate_generations, state_rates,
)


def _enumerated_margin(m, r, w):
    """P(W - R = k) by summing the multinomial over every (R, W)."""
    out = np.zeros(2 * m + 1)
    for R in range(m + 1):
        for W in range(m + 1 - R):
            coef = math.factorial(m) / (math.factorial(R) * math.factorial(W) * math.factorial(m - R - W))
            out[W - R + m] += coef * r**R * w**W * (1 - r - w) ** (m - R - W)
    return out


@pytest.mark.parametrize("m,r,w", [(0, 0.3, 0.2), (1, 0.5, 0.5), (7, 0.3, 0.2), (25, 0.6, 0.1), (30, 0.05, 0.9)])
def test_margin_pmf_vs_enumeration(m, r, w):
    np.testing.assert_allclose(margin_pmf(m, r, w), _enumerated_margin(m, r, w), atol=1e-14)


@pytest.mark.parametrize("n,p,phi,psi", [(50, 0.3, 0.47, 1.0), (400, 0.4, 1.0, 1.0), (1000, 0.2, 0.5, 0.9)])
def test_margin_pmf_success_matches_success_probability(n, p, phi, psi):
    pmf = margin_pmf(n, (1 - p) * phi, p * psi)
    assert pmf[:n].sum() == pytest.approx(success_probability(n, p, phi, psi).probability, abs=1e-12)


def _chain_monte_carlo(cfg: GenerationsConfig, rates: StateRates, reps: int, rng) -> np.ndarray:
    """Draw the App. D.3 counts generation by generation; the next state is the sign of the (cumulative) margin."""
    m, k0, T = cfg.n - cfg.n_real, cfg.n_real, cfg.generations
    state = np.full(reps, -1)  # -1 initial, 1 Bayes, 0 flipped
    total = np.zeros(reps)
    out = np.empty((reps, T))
    for t in range(T):
        rr = {s: r for s, r in ((-1, rates.initial), (1, rates.bayes), (0, rates.flipped))}
        probs = np.array([[(1 - rr[s][0]) * rr[s][1], rr[s][0] * rr[s][2]] for s in state])
        u = rng.multinomial(m, np.column_stack([probs, 1 - probs.sum(1)]))
        margin = u[:, 1] - u[:, 0] - k0
        total = total + margin if cfg.mode == "accumulate" else margin
        state = np.where(total < 0, 1, 0)
        out[:, t] = state
    return out.mean(axis=0)


@pytest.mark.parametrize("mode,alpha", [("replace", 0.0), ("replace", 0.1), ("accumulate", 0.0), ("accumulate", 0.1)])
def test_predicted_trajectory_vs_count_chain_monte_carlo(mode, alpha):
    # rates chosen so every transition is uncertain: neither state is certain to persist
    cfg = GenerationsConfig(n=60, d=10, mu_norm=0.3, lam=1e-2, generations=6, theta_gen0=1.0, verifier="rlhf",
                            phi=0.5, psi=0.8, mode=mode, real_fraction=alpha)
    rates = StateRates(initial=(0.38, 0.5, 0.8), bayes=(0.3, 0.5, 0.8), flipped=(0.45, 0.5, 0.8))
    reps = 20_000
    mc = _chain_monte_carlo(cfg, rates, reps, np.random.default_rng(11))
    pred = predicted_bayes_probability(cfg, rates)
    se = np.sqrt(pred * (1 - pred) / reps)
    assert np.all(np.abs(mc - pred) < 4 * se + 1e-12), (mc, pred)
    assert np.ptp(pred) > 0.02 or mode == "replace"  # the prediction is not trivially constant


def test_first_generation_keep_counts_vs_closed_form_rates():
    """Kept and kept-wrong counts of the simulated first generation against (1 - p) phi + p psi and p psi from
    theory.gaussian_mixture_rates (supervised verifier, eq. (5)) and the RLHF rates."""
    for verifier in ("supervised", "rlhf"):
        cfg = GenerationsConfig(n=400, d=12, mu_norm=0.45, lam=1e-2, generations=1, theta_gen0=1.2,
                                verifier=verifier, phi=0.7, psi=0.4, theta_prune=0.9)
        p, phi, psi = state_rates(cfg).initial
        kept, wrong = [], []
        for s in range(30):
            tr = simulate_generations(cfg, np.random.default_rng([5, s]))
            kept.append(tr["kept"][0])
            wrong.append(tr["kept_wrong"][0])
        m = 30 * cfg.n
        for got, prob in ((sum(kept), (1 - p) * phi + p * psi), (sum(wrong), p * psi)):
            assert abs(got / m - prob) < 4 * math.sqrt(prob * (1 - prob) / m), (verifier, got / m, prob)
        # generation 0 is the initial generator: its error rate is Phi(-b cos theta_gen0)
        assert tr["error_rate"][0] == pytest.approx(p, rel=1e-12)


def test_simulation_decisive_sides_match_the_prediction():
    """Far from p* every seed ends on the predicted side (a wrong sign convention would fail here)."""
    base = dict(n=150, d=10, mu_norm=0.5, lam=1e-2, generations=3, theta_gen0=1.1, verifier="rlhf")
    for phi, psi, side in ((1.0, 0.1, 1.0), (0.1, 1.0, 0.0)):
        cfg = GenerationsConfig(**base, phi=phi, psi=psi)
        pred = predicted_bayes_probability(cfg)
        assert np.all(np.abs(pred - side) < 0.01)
        for s in range(5):
            acc = np.asarray(simulate_generations(cfg, np.random.default_rng(s))["accuracy"])
            assert np.all((acc[2:] > 0.5) == bool(side)), (phi, psi, acc)


def test_simulation_is_deterministic_and_accumulate_grows():
    cfg = GenerationsConfig(n=80, d=8, mu_norm=0.4, lam=1e-2, generations=3, theta_gen0=1.0, verifier="supervised",
                            theta_prune=0.5, mode="accumulate", real_fraction=0.25)
    a = simulate_generations(cfg, np.random.default_rng(1))
    b = simulate_generations(cfg, np.random.default_rng(1))
    assert a == b
    assert a["train_size"] == [80, 160, 240]
    assert len(a["accuracy"]) == 4
    assert simulate_generations(cfg, np.random.default_rng(2)) != a


def test_run_resumes_without_recomputing(tmp_path, monkeypatch):
    from beyond_collapse.numerics import generations as gen
    from beyond_collapse.numerics.experiments import generations as exp

    tiny = exp.GenerationsProfile(n=40, d=6, generations=2, seeds=2)
    monkeypatch.setitem(exp.CONFIGS, "quick", tiny)
    first = exp.run("quick", runs_dir=tmp_path, progress=False)
    assert len(list(tmp_path.glob("*.json"))) == len(exp.settings(tiny)) * 2

    def boom(*args, **kwargs):
        raise AssertionError("a finished unit was recomputed")

    monkeypatch.setattr(gen, "simulate_generations", boom)
    second = exp.run("quick", runs_dir=tmp_path, progress=False)
    key = next(iter(first["settings"]))
    np.testing.assert_array_equal(first["settings"][key]["accuracy_mean"], second["settings"][key]["accuracy_mean"])


def test_config_validation_names_parameters():
    good = dict(n=10, d=5, mu_norm=0.3, lam=1e-2, generations=2, theta_gen0=1.0)
    for key, bad in (("n", 0), ("d", 2), ("mu_norm", 1.0), ("lam", 0.0), ("generations", 0), ("verifier", "oracle"),
                     ("mode", "mix"), ("real_fraction", 1.5), ("theta_gen0", 4.0), ("phi", -0.1)):
        with pytest.raises(ValueError, match=key):
            GenerationsConfig(**{**good, key: bad})
    with pytest.raises(ValueError, match="r \\+ w"):
        margin_pmf(5, 0.7, 0.5)
