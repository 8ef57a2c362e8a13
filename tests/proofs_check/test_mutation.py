"""The mutation-testing script (``make mutation``): its edits apply, and a mutant is caught by the registry.

The full run (every mutation, each in a fresh interpreter) takes minutes and stays out of ``make test``;
these tests are the fast part: the mutation list matches the source, and two representative slips are
killed -- one in-process (a monkeypatched closed form), one through the script's own subprocess path.
"""

from __future__ import annotations

import os

import pytest

from beyond_collapse.proofs_check import mutation
from beyond_collapse.proofs_check.registry import CLAIMS, run_claims


def test_every_mutation_applies_exactly_once_and_runs_existing_claims():
    ids = [m.id for m in mutation.MUTATIONS]
    assert len(ids) == len(set(ids)) and len(ids) >= 30
    known = {c.id for c in CLAIMS}
    for m in mutation.MUTATIONS:
        text = (mutation.PACKAGE / m.file).read_text()
        assert text.count(m.old) == 1, m.id
        assert m.new != m.old and m.file in mutation.CLAIMS_BY_FILE
    for claims in mutation.CLAIMS_BY_FILE.values():
        assert set(claims) <= known


def test_apply_rejects_an_edit_that_does_not_match(tmp_path):
    m = mutation.Mutation("x", "theory/rlhf.py", "no such text", "y", "nothing")
    (tmp_path / "beyond_collapse" / "theory").mkdir(parents=True)
    (tmp_path / "beyond_collapse" / "theory" / "rlhf.py").write_text("p = 1\n")
    with pytest.raises(ValueError, match="exactly one occurrence"):
        mutation.apply(m, tmp_path)


def test_eq_19_with_minus_t_is_caught_in_process(monkeypatch):
    """The pminus-t-for-minus-t slip (p-*(t) computed with -t, i.e. p-* and p+* exchanged), applied by
    monkeypatching: D.3-bounds (roots found by brentq on the kept probabilities) must stop reporting 'verified'."""
    import beyond_collapse.theory as theory

    (before,) = run_claims(["D.3-bounds"])
    assert before.status == "verified"
    real = theory.breakdown_bounds

    def mutated(phi, psi, t):
        lo, hi = real(phi, psi, t)
        return hi, lo

    monkeypatch.setattr(theory, "breakdown_bounds", mutated)
    (after,) = run_claims(["D.3-bounds"])
    assert after.status == "failed", after.evidence


@pytest.mark.skipif(not os.environ.get("BEYOND_COLLAPSE_MUTATION"),
                    reason="a fresh interpreter and numba compilation: ~1 min; set BEYOND_COLLAPSE_MUTATION=1 "
                           "(make mutation runs the full list)")
def test_the_script_kills_a_mutant_in_a_fresh_interpreter(tmp_path):
    """One mutation through ``run_mutation`` (copy, edit, ``beyond-collapse check`` in a subprocess)."""
    m = next(m for m in mutation.MUTATIONS if m.id == "eq14-missing-half")
    r = mutation.run_mutation(m, tmp_path)
    assert r["killed"], r


def test_limit_accuracy_tie_slip_is_caught_in_process(monkeypatch):
    """limit-acc-tie (accuracy 1 instead of 1/2 at p = p*) survived the first mutation run; T3.2-limit-accuracy
    now compares the tie with exact binomials and must fail on it."""
    import numpy as np

    import beyond_collapse.theory as theory

    def mutated(p, phi, psi):
        bad, good = np.asarray(p) * psi, (1 - np.asarray(p)) * phi
        return float(np.where(bad <= good, 1.0, 0.0))

    monkeypatch.setattr(theory, "limit_accuracy", mutated)
    (r,) = run_claims(["T3.2-limit-accuracy"])
    assert r.status == "failed", r.evidence


def test_unit_tests_import_the_mutated_copy_not_the_repository(tmp_path):
    """``--tests`` once ran the unit tests from the repository, where ``python -m`` put the unmutated package
    first on the import path; ``run_tests`` must import the copy (and report a failing test as failed)."""
    repo, src, scratch = tmp_path / "repo", tmp_path / "src", tmp_path / "scratch"
    for root, value in ((repo, "False"), (src, "True")):
        (root / "beyond_collapse").mkdir(parents=True)
        (root / "beyond_collapse" / "__init__.py").write_text(f"COPY = {value}\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_copy.py").write_text("import beyond_collapse\n\n\ndef test_copy():\n"
                                                 "    assert beyond_collapse.COPY\n")
    (repo / "tests" / "test_fails.py").write_text("def test_fails():\n    assert False\n")
    scratch.mkdir()
    ok = mutation.run_tests(["tests/test_copy.py"], src, scratch, repo=repo, timeout=120)
    assert ok["files"] == ["tests/test_copy.py"] and not ok["failed"] and "1 passed" in ok["summary"], ok
    bad = mutation.run_tests(["tests/test_fails.py"], src, scratch, repo=repo, timeout=120)
    assert bad["failed"] and "1 failed" in bad["summary"], bad
