"""``beyond-collapse check`` (the claims registry) and ``beyond-collapse derivations`` (docs/derivations.md)."""

from __future__ import annotations

import json
import sys


def _check(args) -> int:
    from beyond_collapse.proofs_check._base import status_counts
    from beyond_collapse.proofs_check.registry import format_table, run_claims

    results = run_claims(args.claim or None, progress=not args.json and sys.stderr.isatty())
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        print(format_table(results))
        bad = [r for r in results if not r.ok]
        summary = status_counts(r.status for r in results)
        print(f"\n{len(results)} claims: {summary}. {len(bad)} differ from the recorded status"
              + (": " + ", ".join(r.claim.id for r in bad) if bad else ""))
    return 0 if all(r.ok for r in results) else 1


def _derivations(args) -> int:
    from beyond_collapse.runs import output_file
    from beyond_collapse.theory.derivations_doc import write_derivations

    print(f"wrote {write_derivations(output_file(args.out))}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("check", help="run the claims registry (every checkable claim of Sec. 3, App. D, App. E)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--claim", action="append", metavar="ID",
                   help="run only this claim (repeatable); unknown ids are listed in the error")
    p.set_defaults(func=_check)
    q = subparsers.add_parser("derivations", help="write docs/derivations.md from the sympy derivations of App. E")
    q.add_argument("--out", default="docs/derivations.md", help="output path (default: docs/derivations.md)")
    q.set_defaults(func=_derivations)
