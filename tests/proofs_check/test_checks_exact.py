"""The exact-enumeration claims (proofs_check.checks_exact): their references, and the slips they catch.

Each slip below is one of the mutations that survived the first full mutation run (docs/MUTATION.md),
applied in-process by monkeypatching; the claim that now covers it must stop reporting 'verified'.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from beyond_collapse.proofs_check.checks_exact import _per_class, _pooled, event_probability, kept_table
from beyond_collapse.proofs_check.registry import run_claims


def test_kept_table_matches_eq_14_by_hand():
    # y uniform, flip with p = 1/4, keep rates phi = (1/2, 1), psi01 = 1/2, psi10 = 0
    t = kept_table(0.25, 0.5, 1.0, 0.5, 0.0)
    assert t == {(0, 0): Fraction(3, 16), (1, 1): Fraction(3, 8), (0, 1): Fraction(1, 16), (1, 0): Fraction(0)}


def test_event_probability_counts_ties_and_parity():
    # everything kept, half of it mislabelled (p00 = p01 = 1/2): N = 2 succeeds only with two good rows
    # (the tie 1-1 fails); N = 3 succeeds with 2 or 3 good rows
    t = {(0, 0): Fraction(1, 2), (0, 1): Fraction(1, 2), (1, 0): Fraction(0), (1, 1): Fraction(0)}
    assert event_probability(2, t, _pooled) == Fraction(1, 4)
    assert event_probability(3, t, _pooled) == Fraction(1, 2)
    assert event_probability(5, t, lambda *c: True) == 1


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_event_probability_matches_brute_force_over_sequences(n):
    """Every sequence of n per-example outcomes (5 cells: 00, 01, 10, 11, discarded), multiplied out."""
    t = kept_table(0.3, 0.9, 0.5, 0.4, 0.6)
    cells = [t[(0, 0)], t[(0, 1)], t[(1, 0)], t[(1, 1)]]
    cells.append(1 - sum(cells))
    for event in (_pooled, _per_class):
        ref = Fraction(0)
        for seq in itertools.product(range(5), repeat=n):
            counts = [seq.count(c) for c in range(4)]
            if event(*counts):
                ref += math.prod(cells[c] for c in seq)
        assert event_probability(n, t, event) == ref


def _status(claim_id: str) -> tuple[str, str]:
    (r,) = run_claims([claim_id])
    return r.status, r.evidence


def test_missing_half_in_eq_14_is_caught(monkeypatch):
    import beyond_collapse.theory as theory

    real = theory.kept_probabilities

    def mutated(p, phi0, phi1, psi01, psi10):
        out = real(p, phi0, phi1, psi01, psi10).copy()
        out[..., 0, 0] *= 2
        return out

    monkeypatch.setattr(theory, "kept_probabilities", mutated)
    status, evidence = _status("D.14-class-dependent")
    assert status == "failed", evidence


def test_pooled_slack_on_the_wrong_side_is_caught(monkeypatch):
    import beyond_collapse.theory as theory

    def mutated(kept, t=0.0):
        good = kept[..., 0, 0] + kept[..., 1, 1]
        bad = kept[..., 0, 1] + kept[..., 1, 0]
        return bool((1 - t) * bad < (1 + t) * good)

    monkeypatch.setattr(theory, "pooled_condition", mutated)
    status, evidence = _status("E.3-pooled-class-dependent")
    assert status == "failed" and "differs" in evidence, evidence


def test_per_class_psi_index_is_caught(monkeypatch):
    import beyond_collapse.theory as theory

    real = theory.per_class_breakdown_points

    def mutated(phi0, phi1, psi01, psi10):
        return real(phi0, phi1, psi10, psi10)[0], real(phi0, phi1, psi01, psi10)[1]

    monkeypatch.setattr(theory, "per_class_breakdown_points", mutated)
    status, evidence = _status("E.4-per-class-breakdown")
    assert status == "failed", evidence


def test_tie_counted_as_success_is_caught(monkeypatch):
    """success-off-by-one in the scalar route: W <= K/2 for even K."""
    from beyond_collapse.numerics import success

    real = success._terms

    def mutated(kk, n, s, qw, parity, want_success):
        if parity != 0:
            return real(kk, n, s, qw, parity, want_success)
        logp = success._binom_logpmf(kk, n, s)
        with np.errstate(divide="ignore"):
            tail = (success._binom_logcdf(kk / 2.0, kk, qw) if want_success
                    else success._binom_logsf(kk / 2.0, kk, qw))
        return logp + tail

    monkeypatch.setattr(success, "_terms", mutated)
    status, evidence = _status("E.3-finite-N-exact")
    assert status == "failed", evidence


def test_per_class_conditional_rate_slip_is_caught(monkeypatch):
    """per-class-u: u = s0 / (1 + s1) instead of s0 / (1 - s1) in the per-class sum."""
    from beyond_collapse.numerics import success

    real = success._nb_joint

    def mutated(n, s1, u, a1, a0, drop):
        return real(n, s1, u * (1 - s1) / (1 + s1), a1, a0, drop)

    monkeypatch.setattr(success, "_nb_joint", mutated)
    status, evidence = _status("E.4-finite-N-exact")
    assert status == "failed", evidence


def test_phi2_at_rho_one_with_max_is_caught(monkeypatch):
    import beyond_collapse.theory as theory

    real = theory.bivariate_normal_cdf

    def mutated(h, k, rho):
        if rho == 1.0:
            return theory.normal_cdf(np.maximum(h, k))
        return real(h, k, rho)

    monkeypatch.setattr(theory, "bivariate_normal_cdf", mutated)
    status, evidence = _status("D.6-phi2-degenerate")
    assert status == "failed", evidence
