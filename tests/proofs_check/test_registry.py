"""The whole claims registry, run once, and the `beyond-collapse check` command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from beyond_collapse.proofs_check._base import METHODS, NOT_EVIDENCE, STATUS_MEANINGS, STATUSES, status_counts
from beyond_collapse.proofs_check.registry import CLAIMS, format_table, get_claim, run_claims

ERRATA = Path(__file__).resolve().parents[2] / "docs" / "ERRATA.md"


def test_full_registry_run():
    """One run of every check (the `beyond-collapse check` workload): each claim has its recorded status,
    each erratum has a verified corrected counterpart, and the table lists every claim."""
    results = run_claims()
    wrong = [(r.claim.id, r.status, r.claim.expected, r.evidence) for r in results if not r.ok]
    assert not wrong
    by_id = {r.claim.id: r for r in results}
    for printed, corrected in (("E.43-printed", "E.43-corrected"), ("D.6-variance-printed", "D.6-variance-corrected"),
                               ("E.4-printed", "E.4-limit-corrected"), ("E.3-finite-gamma", "E.3-limit"),
                               ("D.6-psi-printed-mc", "D.6-rates-corrected")):
        assert by_id[printed].status == "erratum" and by_id[corrected].status == "verified"
    text = format_table(results)
    assert all(c.id in text for c in CLAIMS)
    md = format_table(results, markdown=True)
    assert md.count("\n") == len(results) + 1


def test_registry_metadata_is_complete():
    ids = [c.id for c in CLAIMS]
    assert len(ids) == len(set(ids))
    for c in CLAIMS:
        assert c.method in METHODS and c.expected in STATUSES and c.statement and c.source
        assert (c.expected == "not checkable") == (c.method == "none")
        if c.expected == "not checkable":
            assert c.reason


def test_every_displayed_equation_of_app_e_31_to_55_has_an_entry():
    covered = set()
    for c in CLAIMS:
        for lo, hi in re.findall(r"\((\d+)\)(?:-\((\d+)\))?", c.source):
            covered.update(range(int(lo), int(hi or lo) + 1))
    assert set(range(31, 57)) <= covered


def test_each_printed_erratum_is_recorded_in_errata_md():
    text = ERRATA.read_text()
    missing = [c.id for c in CLAIMS if c.expected == "erratum" and f"`{c.id}`" not in text]
    assert not missing


def test_status_vocabulary_and_summary_count_non_evidence_apart():
    assert set(STATUS_MEANINGS) == set(STATUSES) and set(NOT_EVIDENCE) <= set(STATUSES)
    line = status_counts(["verified", "verified", "erratum", "by construction", "erratum by inspection", "unproved"])
    assert line == ("2 verified, 1 erratum, 1 unproved; not evidence (cannot fail): 1 erratum by inspection, "
                    "1 by construction")
    assert status_counts(["verified"]) == "1 verified"


def test_claims_the_review_found_circular_have_honest_statuses_or_new_references():
    """Issue 15: these statuses could not come out otherwise; each is now either labelled so or checked against
    an independent computation (the evidence names it)."""
    by_id = {c.id: c for c in CLAIMS}
    assert by_id["S3.2-eq5-printed"].expected == "erratum by inspection"
    assert by_id["E.49-prose"].expected == "erratum by inspection"
    assert by_id["D.3-zero-half"].expected == "unproved"
    (r,) = run_claims(["D.3-bounds"])
    assert r.status == "verified" and "brentq" in r.evidence
    for new in ("D.5-remark", "S3.4-moderate-ratio", "T3.2-fits-probability", "S3.4-decoupling"):
        assert by_id[new].expected == "verified" and by_id[new].method != "none"


def test_unknown_claim_is_a_value_error_listing_ids():
    with pytest.raises(ValueError, match="E.43-printed"):
        get_claim("E.99")


def test_a_crashing_check_is_reported_as_error(monkeypatch):
    from beyond_collapse.proofs_check import registry

    claim = get_claim("E.55-identity")

    def boom():
        raise RuntimeError("broken")

    patched = type(claim)(claim.id, claim.statement, claim.source, claim.method, claim.expected, boom)
    monkeypatch.setattr(registry, "CLAIMS", tuple(patched if c.id == claim.id else c for c in registry.CLAIMS))
    (r,) = registry.run_claims([claim.id])
    assert r.status == "error" and not r.ok and "broken" in r.evidence


def test_cli_check_json_and_exit_status(capsys):
    from beyond_collapse.cli import main

    assert main(["check", "--json", "--claim", "E.43-printed", "--claim", "D.3-p-minus"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["E.43-printed", "D.3-p-minus"]
    assert rows[0]["status"] == "erratum" and rows[1]["status"] == "verified"
    assert main(["check", "--claim", "nope"]) == 2
    assert "claim must be one of" in capsys.readouterr().err


def test_cli_check_nonzero_when_a_status_differs(monkeypatch, capsys):
    from beyond_collapse.cli import main
    from beyond_collapse.proofs_check import registry

    claim = get_claim("E.43-printed")
    flipped = type(claim)(claim.id, claim.statement, claim.source, claim.method, "verified", claim.check)
    monkeypatch.setattr(registry, "CLAIMS", tuple(flipped if c.id == claim.id else c for c in registry.CLAIMS))
    assert main(["check", "--claim", "E.43-printed"]) == 1
    out = capsys.readouterr().out
    assert "1 differ from the recorded status: E.43-printed" in out and "1 claims: 1 erratum." in out


def test_cli_derivations_writes_the_document(tmp_path, capsys):
    from beyond_collapse.cli import main
    from beyond_collapse.theory.derivations_doc import render_derivations

    out = tmp_path / "d.md"
    assert main(["derivations", "--out", str(out)]) == 0
    assert out.read_text() == render_derivations()
