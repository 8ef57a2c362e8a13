"""The report's "Claims" section: table, JSON and regenerated docs/derivations.md."""

from __future__ import annotations

import json

from beyond_collapse.proofs_check import registry
from beyond_collapse.report import ReportContext
from beyond_collapse.report.sections import claims
from beyond_collapse.theory.derivations_doc import render_derivations


def test_claims_section_writes_table_json_and_derivations(tmp_path, monkeypatch):
    subset = ["E.43-printed", "E.43-corrected", "D.3-p-minus"]
    real = registry.run_claims
    monkeypatch.setattr(registry, "run_claims", lambda ids=None, progress=False: real(subset))
    ctx = ReportContext(profile="quick", out_dir=tmp_path / "results", runs_dir=tmp_path / "runs")
    text = claims.build(ctx)
    assert "| `E.43-printed` |" in text and "erratum" in text
    assert "All statuses match" in text and "3 claims" in text
    data = json.loads((tmp_path / "results" / "claims" / "claims.json").read_text())
    assert [c["id"] for c in data["claims"]] == subset and all(c["ok"] for c in data["claims"])
    assert (tmp_path / "derivations.md").read_text() == render_derivations()
