"""Report section "Claims": the claims registry (``beyond-collapse check``) as a table, with
``docs/derivations.md`` regenerated beside it."""

from __future__ import annotations

from beyond_collapse.runs import write_json_atomic

TITLE = "Claims"


def build(ctx) -> str:
    from beyond_collapse.proofs_check._base import STATUS_MEANINGS, status_counts
    from beyond_collapse.proofs_check.registry import format_table, run_claims
    from beyond_collapse.theory.derivations_doc import write_derivations

    results = run_claims()
    out = ctx.section_dir("claims")
    write_json_atomic(out / "claims.json", {"claims": [r.as_dict() for r in results]})
    derivations = write_derivations(ctx.out_dir.parent / "derivations.md")
    bad = [r.claim.id for r in results if not r.ok]
    errata = [r for r in results if r.status == "erratum"]
    lines = [
        f"Every checkable claim of Sec. 3, App. D and App. E, rerun now by `beyond-collapse check` "
        f"(independent of the profile): {len(results)} claims, "
        + status_counts(r.status for r in results) + ". "
        + ("All statuses match the ones recorded in the registry." if not bad
           else f"**Statuses differing from the registry: {', '.join(bad)}.**"),
        "",
        f"Symbolic derivations of App. E beside the paper's equations: [{derivations.name}](../{derivations.name}); "
        "errata with their checks: [ERRATA.md](../ERRATA.md); raw results: [claims/claims.json](claims/claims.json).",
        "",
        "Statuses: " + "; ".join(f"`{k}`: {v}" for k, v in STATUS_MEANINGS.items()) + ".",
        "",
        "Printed forms found wrong (status `erratum`): " + "; ".join(f"`{r.claim.id}` ({r.claim.source})" for r in errata)
        + ".",
        "",
        "Printed forms wrong on their face (status `erratum by inspection`): "
        + ("; ".join(f"`{r.claim.id}` ({r.claim.source})" for r in results if r.status == "erratum by inspection")
           or "none") + ".",
        "",
        format_table(results, markdown=True),
    ]
    return "\n".join(lines)
