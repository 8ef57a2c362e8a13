"""``beyond-collapse report``."""

from __future__ import annotations

from beyond_collapse.runs import add_run_args


def _run(args) -> int:
    from beyond_collapse.report import build_report

    index = build_report(profile=args.profile, out_dir=args.out, runs_dir=args.runs_dir, seed=args.seed)
    print(f"wrote {index}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="build docs/results/ (theory, numerics, empirics, claims)")
    add_run_args(p, out="docs/results", out_help="output directory", seed_help="base seed for every simulation")
    p.set_defaults(func=_run)
