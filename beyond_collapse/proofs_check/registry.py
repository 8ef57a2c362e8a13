"""The claims registry: every checkable claim of Sec. 3, App. D and App. E, and a runner.

``CLAIMS`` lists them in paper order; ``run_claims()`` runs the checks (each guarded: an exception
becomes status ``"error"``) and returns ``ClaimResult`` rows; ``format_table()`` renders them.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from beyond_collapse.proofs_check import (  # noqa: F401  (importing registers the claims)
    checks_exact,
    checks_finite,
    checks_numeric,
    checks_simulation,
    checks_symbolic,
    checks_theory,
)
from beyond_collapse.proofs_check._base import _REGISTRY, Claim

__all__ = ["CLAIMS", "ClaimResult", "run_claims", "format_table", "get_claim"]


def _order(c: Claim) -> tuple:
    """Paper order: Sec. 3, then App. D, then App. E; within a part by subsection, then equation."""
    part = {"S3": 0, "T3": 0, "D": 1, "E": 2}.get(c.id.split(".")[0], 3)
    sub = re.search(r"(?:App\. [DE]\.|Sec\. 3\.)(\d)", c.source)
    eq = re.search(r"eqs?\. \((\d+)\)", c.source)
    return (part, int(sub.group(1)) if sub else 0, int(eq.group(1)) if eq else 0, _REGISTRY.index(c))


CLAIMS: tuple[Claim, ...] = tuple(sorted(_REGISTRY, key=_order))


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    status: str
    evidence: str
    seconds: float

    @property
    def ok(self) -> bool:
        """The observed status is the one recorded in the registry."""
        return self.status == self.claim.expected

    def as_dict(self) -> dict:
        c = self.claim
        return {"id": c.id, "statement": c.statement, "source": c.source, "method": c.method,
                "expected": c.expected, "status": self.status, "ok": self.ok, "evidence": self.evidence,
                "reason": c.reason, "seconds": round(self.seconds, 3)}


def get_claim(claim_id: str) -> Claim:
    """The claim with id ``claim_id``; ``ValueError`` lists the ids when it is unknown."""
    for c in CLAIMS:
        if c.id == claim_id:
            return c
    raise ValueError(f"claim must be one of {', '.join(c.id for c in CLAIMS)}, got {claim_id!r}")


def run_claims(ids: list[str] | None = None, progress: bool = False) -> list[ClaimResult]:
    """Run the checks of ``ids`` (default: all) and return one ``ClaimResult`` per claim."""
    chosen = CLAIMS if not ids else tuple(get_claim(i) for i in ids)
    iterator = chosen
    if progress:
        from tqdm import tqdm

        iterator = tqdm(chosen, desc="claims", unit="claim", leave=False)
    out = []
    for c in iterator:
        t0 = time.perf_counter()
        try:
            status, evidence = c.check()
        except Exception as exc:  # a crashing check is a failed claim, reported, not a crash of the run
            status, evidence = "error", f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        out.append(ClaimResult(c, status, evidence, time.perf_counter() - t0))
    return out


def format_table(results: list[ClaimResult], markdown: bool = False) -> str:
    """A table with columns claim, source, method, status, evidence (``!`` marks unexpected status)."""
    def md(text: str) -> str:  # table cells: no pipes, and keep * and _ from turning into emphasis
        return text.replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")

    rows = []
    for r in results:
        status = r.status if r.ok else f"{r.status} (expected {r.claim.expected})"
        if markdown:
            rows.append(f"| `{r.claim.id}` | {md(r.claim.source)} | {r.claim.method} | {'' if r.ok else '**'}{status}"
                        f"{'' if r.ok else '**'} | {md(r.claim.statement)} — {md(r.evidence)} |")
        else:
            rows.append((("  " if r.ok else "! ") + r.claim.id, r.claim.source, r.claim.method, status, r.evidence))
    if markdown:
        return "| claim | source | method | status | statement — evidence |\n|---|---|---|---|---|\n" + "\n".join(rows)
    widths = [max(len(row[i]) for row in rows + [("claim", "source", "method", "status", "")]) for i in range(4)]
    widths = [min(w, 44) for w in widths]
    header = ("  claim", "source", "method", "status", "evidence")
    lines = []
    for row in [header] + rows:
        cells = [row[i][: widths[i]].ljust(widths[i]) for i in range(4)]
        lines.append("  ".join(cells) + "  " + row[4])
    return "\n".join(lines)
