"""``beyond-collapse report``."""

from __future__ import annotations

from beyond_collapse.runs import PROFILES


def _run(args) -> int:
    from beyond_collapse.report import build_report

    index = build_report(profile=args.profile, out_dir=args.out, runs_dir=args.runs_dir, seed=args.seed)
    print(f"wrote {index}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="build docs/results/ (theory, numerics, empirics, claims)")
    p.add_argument("--profile", choices=PROFILES, default="quick", help="run sizes (default: quick)")
    p.add_argument("--out", default="docs/results", help="output directory (default: docs/results)")
    p.add_argument("--runs-dir", default="runs", help="cache of resumable run units (default: runs)")
    p.add_argument("--seed", type=int, default=0, help="base seed for every simulation (default: 0)")
    p.set_defaults(func=_run)
