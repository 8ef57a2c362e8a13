"""The verifier audit against independent computations: exact binomial intervals (scipy binomtest),
Fisher p-values by hypergeometric enumeration, the posterior probability by Gauss-Legendre
quadrature, the sample-size rule by re-auditing at the size it names, and calibration by simulation."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from scipy import special, stats

from beyond_collapse.audit import audit, audit_calibration, parse_binary
from beyond_collapse.proofs_check.strategies import class_dependent_parameters, rlhf_parameters


def _rlhf_sample(n, p, phi0, phi1, psi01, psi10, rng):
    """Rows of the App. D.3 model: balanced y, y' wrong w.p. p, kept w.p. phi_k or psi_kl."""
    y = rng.integers(0, 2, n)
    wrong = rng.random(n) < p
    y_syn = np.where(wrong, 1 - y, y)
    keep_prob = np.where(wrong, np.where(y == 0, psi01, psi10), np.where(y == 0, phi0, phi1))
    return y, y_syn, (rng.random(n) < keep_prob).astype(int)


def _from_counts(cells):
    """Rows with exactly the given counts {(k, l, q): count} (true label, synthetic label, kept)."""
    rows = [key for key, c in cells.items() for _ in range(c)]
    y, y_syn, kept = (np.array([r[i] for r in rows]) for i in range(3))
    return {"y_true": y, "y_syn": y_syn, "kept": kept}


CELLS = {(0, 0, 1): 40, (0, 0, 0): 12, (1, 1, 1): 35, (1, 1, 0): 18,
         (0, 1, 1): 14, (0, 1, 0): 9, (1, 0, 1): 11, (1, 0, 0): 16}


def test_rates_and_intervals_match_binomtest():
    res = audit(_from_counts(CELLS), confidence=0.9)
    n = sum(CELLS.values())
    expected = {  # (successes, trials) counted by hand from CELLS
        "p": (14 + 9 + 11 + 16, n), "phi": (40 + 35, 40 + 12 + 35 + 18), "psi": (14 + 11, 14 + 9 + 11 + 16),
        "phi0": (40, 52), "phi1": (35, 53), "psi01": (14, 23), "psi10": (11, 27),
    }
    for name, (k, m) in expected.items():
        r = res.rates[name]
        assert (r.successes, r.trials) == (k, m)
        assert r.estimate == k / m
        ci = stats.binomtest(k, m).proportion_ci(confidence_level=0.9, method="exact")
        assert r.ci_low == pytest.approx(ci.low, rel=1e-9)
        assert r.ci_high == pytest.approx(ci.high, rel=1e-9)
    assert res.counts["n_01_kept"] == 14 and res.counts["n_10_dropped"] == 16


def _fisher_two_sided(table):
    """Two-sided Fisher p-value by enumerating the hypergeometric law of the top-left cell: the sum
    of the probabilities of tables no more likely than the observed one (relative slack 1e-7, as scipy)."""
    (a, b), (c, d) = table
    row1, col1, total = a + b, a + c, a + b + c + d
    ks = np.arange(max(0, row1 + col1 - total), min(row1, col1) + 1)
    pmf = stats.hypergeom.pmf(ks, total, col1, row1)
    p_obs = stats.hypergeom.pmf(a, total, col1, row1)
    return float(pmf[pmf <= p_obs * (1 + 1e-7)].sum())


def test_symmetry_test_pvalues_by_enumeration():
    res = audit(_from_counts(CELLS))
    assert res.symmetry.p_value_phi == pytest.approx(_fisher_two_sided([[40, 12], [35, 18]]), rel=1e-9)
    assert res.symmetry.p_value_psi == pytest.approx(_fisher_two_sided([[14, 9], [11, 16]]), rel=1e-9)
    assert res.symmetry.consistent and res.model == "symmetric"
    # A strongly asymmetric verifier (psi01 = 0.9, psi10 = 0.1) must be detected and switch the model.
    skew = dict(CELLS)
    skew.update({(0, 1, 1): 45, (0, 1, 0): 5, (1, 0, 1): 5, (1, 0, 0): 45})
    res2 = audit(_from_counts(skew))
    assert not res2.symmetry.consistent and res2.model == "class"
    assert res2.symmetry.p_value_psi < 1e-10


def _gl(n):
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1) / 2, w / 2


def _posterior_quadrature(rates, model, prior=(0.5, 0.5), nodes=64, condition="pooled"):
    """P(p < p*) = E[F_p(p*)] over the keep-rate posteriors, F_p the Beta CDF of p's posterior.

    Integrating F_p(p*) (smooth, values in [0, 1]) over the keep rates in quantile coordinates with
    tensor Gauss-Legendre avoids the kink of the indicator; an independent route from the Monte
    Carlo in audit().
    """
    def post(name):
        r = rates[name]
        return prior[0] + r.successes, prior[1] + r.trials - r.successes

    u, w = _gl(nodes)
    names = ("phi", "psi") if model == "symmetric" else ("phi0", "phi1", "psi01", "psi10")
    q = [special.betaincinv(*post(k), u) for k in names]
    grids = np.meshgrid(*q, indexing="ij")
    weights = np.ones_like(grids[0])
    for ax, wt in enumerate(np.meshgrid(*[w] * len(names), indexing="ij")):
        weights = weights * wt
    if model == "symmetric":
        p_star = grids[0] / (grids[0] + grids[1])
    elif condition == "pooled":  # Prop. E.3
        p_star = (grids[0] + grids[1]) / (grids[0] + grids[1] + grids[2] + grids[3])
    else:  # Prop. E.4: both classes, phi0 against psi01 and phi1 against psi10
        p_star = np.minimum(grids[0] / (grids[0] + grids[2]), grids[1] / (grids[1] + grids[3]))
    return float((weights * special.betainc(*post("p"), p_star)).sum())


@pytest.mark.parametrize("model,condition", [("symmetric", "pooled"), ("class", "pooled"), ("class", "per-class")])
def test_posterior_probability_matches_quadrature(model, condition):
    cells = {(0, 0, 1): 20, (0, 0, 0): 10, (1, 1, 1): 14, (1, 1, 0): 11,
             (0, 1, 1): 12, (0, 1, 0): 9, (1, 0, 1): 13, (1, 0, 0): 11}
    if condition == "per-class":  # move class 1's kept wrong rows so that the two class points differ
        cells.update({(1, 0, 1): 6, (1, 0, 0): 18})
    res = audit(_from_counts(cells), model=model, condition=condition, n_draws=400_000, seed=3)
    coarse, fine = (48, 96) if model == "symmetric" else (20, 28)
    ref = _posterior_quadrature(res.rates, model, nodes=coarse, condition=condition)
    ref_fine = _posterior_quadrature(res.rates, model, nodes=fine, condition=condition)
    # The reference has converged (the min() kink in the per-class integrand slows it down).
    assert abs(ref - ref_fine) < (2e-4 if condition == "pooled" else 1e-3)
    prob = res.posterior.prob_p_below_p_star
    assert 0.1 < prob < 0.9  # a case where the answer is not trivially 0 or 1
    assert abs(prob - ref_fine) < 4 * res.posterior.mc_standard_error + abs(ref - ref_fine) + 2e-4


@given(rlhf_parameters(eps=0.05))
@settings(max_examples=15)
def test_posterior_matches_quadrature_for_generated_rates(params):
    # Expected counts of a 200-row audit under (p, phi, psi); any counts are valid posterior data.
    n = 200
    n_wrong = int(round(n * params.p))
    kw, kc = int(round(n_wrong * params.psi)), int(round((n - n_wrong) * params.phi))
    cells = {(0, 1, 1): kw, (0, 1, 0): n_wrong - kw, (0, 0, 1): kc, (0, 0, 0): n - n_wrong - kc}
    cells = {k: v for k, v in cells.items() if v > 0}
    if not any(k[2] for k in cells):
        return
    res = audit(_from_counts(cells), model="symmetric", n_draws=50_000, seed=1)
    ref = _posterior_quadrature(res.rates, "symmetric", nodes=64)
    assert abs(res.posterior.prob_p_below_p_star - ref) < 4 * res.posterior.mc_standard_error + 5e-4


@given(class_dependent_parameters(eps=0.05))
@settings(max_examples=10)
def test_class_posterior_matches_quadrature_for_generated_rates(c):
    # Simulated 300-row audits from drawn class-dependent rates; the 4-D quadrature is the reference.
    y, y_syn, kept = _rlhf_sample(300, *c, np.random.default_rng(0))
    res = audit({"y_true": y, "y_syn": y_syn, "kept": kept}, model="class", n_draws=50_000, seed=2)
    ref = _posterior_quadrature(res.rates, "class", nodes=14)
    # 14 nodes per axis is converged to ~1e-3 (compare 20 vs 28 nodes above); MC adds 4 s.e.
    assert abs(res.posterior.prob_p_below_p_star - ref) < 4 * res.posterior.mc_standard_error + 2e-3


def test_plug_in_p_star_is_the_theorem_formula():
    res = audit(_from_counts(CELLS), model="class")
    r = {k: res.rates[k].estimate for k in ("p", "phi0", "phi1", "psi01", "psi10")}
    # Prop. E.3 pooled condition solved for p by hand: p (psi01 + psi10) = (1 - p)(phi0 + phi1).
    good, bad = r["phi0"] + r["phi1"], r["psi01"] + r["psi10"]
    assert res.p_star == pytest.approx(good / (good + bad), rel=1e-14)
    assert res.margin == pytest.approx(good / (good + bad) - r["p"], rel=1e-13)
    per = audit(_from_counts(CELLS), model="class", condition="per-class")
    # Prop. E.4 solved for p by hand, class by class: p psi_kl = (1 - p) phi_k.
    per_ref = min(r["phi0"] / (r["phi0"] + r["psi01"]), r["phi1"] / (r["phi1"] + r["psi10"]))
    assert per.p_star == pytest.approx(per_ref, rel=1e-14)
    sym = audit(_from_counts(CELLS), model="symmetric")
    assert sym.p_star == pytest.approx(1 / (1 + sym.rates["psi"].estimate / sym.rates["phi"].estimate), rel=1e-14)


def test_rows_needed_decides_when_reaudited_at_that_size():
    # Same proportions at the size the rule names: P(p < p*) should land near the decision level.
    base = {(0, 0, 1): 30, (0, 0, 0): 20, (0, 1, 1): 20, (0, 1, 0): 30}  # p = .5, phi = .6, psi = .4
    res = audit(_from_counts(base), model="symmetric", n_draws=100_000)
    assert res.verdict == "undecided"
    n_new = res.rows_needed
    assert 100 < n_new < 1e5
    scale = n_new / 100
    bigger = {k: int(round(v * scale)) for k, v in base.items()}
    res_big = audit(_from_counts(bigger), model="symmetric", n_draws=100_000)
    # Normal approximation of the margin's posterior: only approximate, hence the band.
    assert 0.93 < res_big.posterior.prob_p_below_p_star < 0.97
    assert res_big.posterior.margin_sd == pytest.approx(res.posterior.margin_sd / math.sqrt(scale), rel=0.05)


def test_collapse_verdict_and_no_rows_needed():
    cells = {(0, 0, 1): 30, (0, 0, 0): 30, (0, 1, 1): 120, (0, 1, 0): 20}  # p = .7, p* = .5/(.5+.857)
    res = audit(_from_counts(cells))
    assert res.verdict == "collapses" and res.rows_needed is None
    assert res.posterior.prob_p_below_p_star < 0.05 and res.margin < 0


def test_csv_jsonl_and_memory_agree(tmp_path):
    data = _from_counts(CELLS)
    csv_path = tmp_path / "audit.csv"
    with open(csv_path, "w") as fh:
        fh.write("id,truth,synthetic,keep\n")
        for i, (a, b, c) in enumerate(zip(data["y_true"], data["y_syn"], data["kept"])):
            fh.write(f"{i},{a},{b},{'true' if c else 'false'}\n")
    jl_path = tmp_path / "audit.jsonl"
    with open(jl_path, "w") as fh:
        for a, b, c in zip(data["y_true"], data["y_syn"], data["kept"]):
            fh.write(json.dumps({"truth": int(a), "synthetic": float(b), "keep": bool(c)}) + "\n\n")
    cols = dict(true_col="truth", syn_col="synthetic", kept_col="keep")
    mem = audit({"truth": data["y_true"], "synthetic": data["y_syn"], "keep": data["kept"]}, **cols)
    for path in (csv_path, jl_path):
        res = audit(path, **cols)
        assert res.counts == mem.counts
        assert res.posterior.prob_p_below_p_star == mem.posterior.prob_p_below_p_star  # same seed, same data
    d = json.loads(json.dumps(mem.to_dict()))
    assert d["rates"]["psi01"]["successes"] == 14 and d["verdict"] == mem.verdict


def test_correctness_flag_mode_equals_pooled_rates():
    data = _from_counts(CELLS)
    correct = (data["y_true"] == data["y_syn"]).astype(int)
    flag = audit({"ok": correct, "kept": data["kept"]}, correct_col="ok")
    lab = audit(data, model="symmetric")
    for k in ("p", "phi", "psi"):
        assert flag.rates[k] == lab.rates[k]
    assert flag.symmetry is None and flag.model == "symmetric"
    assert flag.posterior.prob_p_below_p_star == lab.posterior.prob_p_below_p_star
    with pytest.raises(ValueError, match="correctness-flag"):
        audit({"ok": correct, "kept": data["kept"]}, correct_col="ok", model="class")


def test_missing_values_refused_or_dropped_and_counted():
    data = {k: v.astype(float) for k, v in _from_counts(CELLS).items()}
    data["y_syn"][[3, 50]] = np.nan
    data["kept"][7] = np.nan
    with pytest.raises(ValueError, match="3 of 155 rows have missing"):
        audit(data)
    res = audit(data, missing="drop")
    assert (res.n_rows, res.n_missing, res.n_used) == (155, 3, 152)
    keep = np.ones(155, bool)
    keep[[3, 50, 7]] = False
    ref = audit({k: v[keep] for k, v in data.items()})
    assert res.counts == ref.counts
    assert "3 with missing values dropped" in res.to_text()


@pytest.mark.parametrize(
    "data,match",
    [
        ({"y_true": [0, 1], "y_syn": [0, 1]}, "column 'kept' not found"),
        ({"y_true": [0, 2], "y_syn": [0, 1], "kept": [1, 1]}, "row 2: value 2 is not binary"),
        ({"y_true": ["cat", "dog"], "y_syn": [0, 1], "kept": [1, 1]}, "value 'cat' is not binary"),
        ({"y_true": [], "y_syn": [], "kept": []}, "no rows"),
        ({"y_true": [0, 1, 1], "y_syn": [0, 1, 0], "kept": [0, 0, 0]}, "all 3 audited rows were pruned"),
        ({"y_true": [0, 1], "y_syn": [0, 1], "kept": [1, float("nan")]}, "missing or NaN"),
        ({"y_true": [0, 1], "y_syn": [0, 1, 1], "kept": [1, 1]}, "equal lengths"),
    ],
)
def test_bad_input_messages(data, match):
    with pytest.raises(ValueError, match=match):
        audit(data)


def test_bad_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("y_true,y_syn,kept\n")
    with pytest.raises(ValueError, match="no data rows"):
        audit(empty)
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"y_true": 1, "y_syn": 1, "kept": 1}\n[1, 2]\n')
    with pytest.raises(ValueError, match="line 2 must be a JSON object"):
        audit(bad_json)
    with pytest.raises(ValueError, match="cannot read"):
        audit(tmp_path / "absent.csv")
    with pytest.raises(ValueError, match="format"):
        audit(tmp_path / "audit.xlsx")


def test_parse_binary_tokens():
    vals, miss = parse_binary("c", ["1", "0", " TRUE ", "false", "", "NA", None, 1.0, True, "1.0"])
    assert vals.tolist() == [1, 0, 1, 0, 0, 0, 0, 1, 1, 1]
    assert miss.tolist() == [False, False, False, False, True, True, True, False, False, False]


def test_calibration_loose():
    """Over simulated audits with known truth, 95% statements are wrong in at most ~5% of audits and
    the margin's 95% credible interval covers the true margin ~95% of the time. Tolerances are three
    binomial standard errors of the measured fraction at the number of audits."""
    n_audits = 150
    se = math.sqrt(0.05 * 0.95 / n_audits)
    for p, phi, psi in ((0.45, 0.6, 0.55), (0.58, 0.6, 0.55)):  # true margins +0.072 and -0.058
        def sample(rng, n, p=p, phi=phi, psi=psi):
            return _rlhf_sample(n, p, phi, phi, psi, psi, rng)

        truth = {"p": p, "phi": phi, "psi": psi, "p_star": phi / (phi + psi)}
        m = audit_calibration(sample, truth, n_rows=200, n_audits=n_audits, seed=11, n_draws=5_000)
        assert m["frac_wrong"] <= 0.05 + 3 * se
        assert abs(m["margin_coverage"] - 0.95) <= 3 * se
        assert m["ci_coverage"]["p"] >= 0.95 - 3 * se  # Clopper-Pearson is conservative
        assert 0 < m["n_decided"] < n_audits  # the setting is informative: some, not all, decided


def test_model_free_kept_check_and_error_by_class():
    import mpmath

    res = audit(_from_counts(CELLS))
    k, n = res.rates["p_kept"].successes, res.rates["p_kept"].trials
    assert (k, n) == (14 + 11, 40 + 35 + 14 + 11)
    # P(theta < 1/2) for theta ~ Beta(0.5 + k, 0.5 + n - k): mpmath quadrature of the density, 30 digits.
    a, b = 0.5 + k, 0.5 + n - k
    with mpmath.workdps(30):
        ref = mpmath.quad(lambda x: x ** (a - 1) * (1 - x) ** (b - 1), [0, 0.5]) / mpmath.beta(a, b)
    assert res.posterior.prob_kept_error_below_half == pytest.approx(float(ref), rel=1e-12)
    # Error rate by true class: class 0 has 23 wrong of 75 rows, class 1 has 27 wrong of 80.
    assert res.symmetry.p_value_error_by_class == pytest.approx(_fisher_two_sided([[23, 52], [27, 53]]), rel=1e-9)
    assert not any("may differ between true classes" in n for n in res.notes)
    # Per-class check (Prop. E.4): kept error below 1/2 in each true class, the two posteriors independent.
    per = audit(_from_counts(CELLS), condition="per-class")
    with mpmath.workdps(30):
        ref_per = 1
        for k_w, k_r in ((14, 40), (11, 35)):  # kept wrong / kept right with true class 0, then 1
            a, b = 0.5 + k_w, 0.5 + k_r
            ref_per *= mpmath.quad(lambda x: x ** (a - 1) * (1 - x) ** (b - 1), [0, 0.5]) / mpmath.beta(a, b)
    assert per.posterior.prob_kept_error_below_half == pytest.approx(float(ref_per), rel=1e-12)
    lopsided = dict(CELLS)
    lopsided.update({(0, 1, 1): 60, (0, 1, 0): 40, (1, 0, 1): 1, (1, 0, 0): 1})
    assert any("may differ between true classes" in n for n in audit(_from_counts(lopsided)).notes)
