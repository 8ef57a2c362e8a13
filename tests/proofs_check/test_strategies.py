"""The user-facing hypothesis strategies draw what they promise, checked by routes independent of
how they draw: Gram matrices recomputed from X, angles measured on explicitly built unit vectors,
the eq. (19) thresholds re-derived from the Prop. E.5 inequality, and the theory's own functions
accepting every draw."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from beyond_collapse.proofs_check.strategies import (
    AngleTriple,
    angle_triples,
    class_dependent_parameters,
    condition_d1_datasets,
    rlhf_parameters,
)
from beyond_collapse.theory import kept_probabilities, pooled_breakdown_point, pooled_condition


@given(rlhf_parameters())
def test_rlhf_parameters_domain(params):
    p, phi, psi, t = params
    assert 0 <= p < 1 and 0 < phi < 1 and 0 < psi < 1 and 0 < t < 1


@given(rlhf_parameters(side="below"))
def test_below_p_minus_satisfies_prop_e5(params):
    # Prop. E.5, eq. (55): (p01 + p10) / (p00 + p11) < (1 - t)/(1 + t), written without division
    # from eq. (14): (1 + t) p psi < (1 - t)(1 - p) phi.
    p, phi, psi, t = params
    assert (1 + t) * p * psi < (1 - t) * (1 - p) * phi
    assert pooled_condition(kept_probabilities(p, phi, phi, psi, psi), t)


@given(rlhf_parameters(side="above"))
def test_above_p_plus_violates_the_mirror_condition(params):
    # Above p_+(t) the bad kept mass beats the good one with slack: (1 - t) p psi > (1 + t)(1 - p) phi.
    p, phi, psi, t = params
    assert 0 < p < 1
    assert (1 - t) * p * psi > (1 + t) * (1 - p) * phi


@given(class_dependent_parameters())
def test_class_dependent_parameters_domain_and_pooled_point(c):
    assert 0 <= c.p < 1 and all(0 <= x <= 1 for x in c[1:]) and c.phi0 + c.phi1 > 0
    p_star = pooled_breakdown_point(c.phi0, c.phi1, c.psi01, c.psi10)
    kept = kept_probabilities(*c)
    # The pooled condition of Prop. E.3 holds exactly when p < p* (eq. (14) solved by hand), except
    # within rounding of the boundary.
    good, bad = kept[0, 0] + kept[1, 1], kept[0, 1] + kept[1, 0]
    if abs(good - bad) > 1e-12:
        assert pooled_condition(kept) == (c.p < p_star)


@given(class_dependent_parameters(eps=0.1))
def test_class_dependent_eps_keeps_away_from_ends(c):
    assert all(0.1 <= x <= 0.9 for x in c)


@pytest.mark.parametrize("gram", ["symmetric", "skewed", "any"])
def test_condition_d1_datasets_have_exact_gram(gram):
    @given(condition_d1_datasets(gram=gram, max_size=12))
    @settings(max_examples=25)
    def check(data):
        X, y, a, b = data
        assert set(np.unique(y)) == {0, 1}  # both classes by default
        same = y[:, None] == y[None, :]
        expected = np.where(same, a, b)
        np.fill_diagonal(expected, 1.0)
        np.testing.assert_allclose(X @ X.T, expected, rtol=0, atol=1e-13)
        assert abs(b) <= a < 1
        if gram == "symmetric":
            assert b == -a
        if gram == "skewed":
            assert b == 0

    check()


def _vectors_from_angles(tg, tp, th):
    """Unit vectors m, g, w in R^3 with the given angles, built with spherical coordinates around m
    (independent of the samplers' construction); the azimuth of w solves cos th = cg cp + sg sp cos az."""
    m = np.array([1.0, 0.0, 0.0])
    g = np.array([math.cos(tg), math.sin(tg), 0.0])
    denom = math.sin(tg) * math.sin(tp)
    cos_az = 1.0 if denom == 0 else (math.cos(th) - math.cos(tg) * math.cos(tp)) / denom
    assert cos_az <= 1 + 1e-9 and cos_az >= -1 - 1e-9  # realizable: the azimuth exists
    az = math.acos(min(1.0, max(-1.0, cos_az)))
    w = np.array([math.cos(tp), math.sin(tp) * math.cos(az), math.sin(tp) * math.sin(az)])
    return m, g, w


@given(angle_triples())
def test_angle_triples_are_realized_by_unit_vectors(tri):
    from beyond_collapse.theory import check_angle_triple

    assert isinstance(tri, AngleTriple)
    check_angle_triple(*tri)  # raises ValueError for an unrealizable triple
    m, g, w = _vectors_from_angles(*tri)

    def angle(u, v):
        return math.acos(max(-1.0, min(1.0, float(u @ v))))

    # acos loses precision near 0 and pi (derivative blows up): sqrt(eps)-level tolerance there.
    assert angle(g, m) == pytest.approx(tri.theta_gen, abs=2e-7)
    assert angle(w, m) == pytest.approx(tri.theta_prune, abs=2e-7)
    assert angle(w, g) == pytest.approx(tri.theta, abs=2e-7)


@given(angle_triples(eps=0.05))
@settings(max_examples=20)
def test_angle_triples_accepted_by_the_sampler(tri):
    from beyond_collapse.numerics.samplers import angle_directions

    mu = np.zeros(5)
    mu[0] = 0.3
    w_gen, w_prune = angle_directions(mu, theta_gen=tri.theta_gen, theta_prune=tri.theta_prune, theta=tri.theta)
    assert math.acos(np.clip(w_gen @ w_prune, -1, 1)) == pytest.approx(tri.theta, abs=1e-7)


def test_strategies_reject_bad_options():
    with pytest.raises(ValueError, match="side"):
        rlhf_parameters(side="left")
    with pytest.raises(ValueError, match="gram"):
        condition_d1_datasets(gram="diagonal")
    with pytest.raises(ValueError, match="eps"):
        angle_triples(eps=2.0)
    with pytest.raises(ValueError, match="min_size"):
        condition_d1_datasets(min_size=5, max_size=3)


def test_side_strategies_reach_both_regimes():
    # The strategies must not collapse onto trivial corners: find draws with large p and large psi/phi.
    from hypothesis import find

    high = find(rlhf_parameters(side="below"), lambda r: r.p > 0.5)
    assert high.p < high.phi * (1 - high.t) / ((1 - high.t) * high.phi + (1 + high.t) * high.psi)
    low = find(rlhf_parameters(side="above"), lambda r: r.p < 0.5)
    assert low.p > low.phi * (1 + low.t) / ((1 + low.t) * low.phi + (1 - low.t) * low.psi)
    assert find(st.tuples(angle_triples()), lambda x: x[0].theta > 2.5)[0].theta > 2.5


def test_docs_example_test_runs_and_passes():
    # docs/audit.md promises its example user test works: run every test in that block.
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text()
    block = re.search(r"<!-- example-test:start -->\s*```python\n(.*?)```\s*<!-- example-test:end -->", text, re.S)
    assert block is not None, "example block missing from docs/audit.md"
    namespace: dict = {}
    exec(compile(block.group(1), "docs/audit.md", "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    assert len(tests) == 3
    for test in tests:
        test()
