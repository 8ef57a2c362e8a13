"""``beyond-collapse eigen ...``: the eigenvalue experiment (Sec. 5.1-5.2, App. B).

torch is imported inside the handlers only, so registering these commands costs nothing.
"""

from __future__ import annotations

from pathlib import Path

from beyond_collapse.runs import PROFILES


def _run(args) -> int:
    from beyond_collapse.empirics.eigen.experiments import run_pipeline
    from beyond_collapse.empirics.eigen.tables import write_results

    results = run_pipeline(args.profile, Path(args.runs_dir) / args.profile, seed=args.seed,
                           progress=not args.no_progress)
    for kind, path in write_results(results, args.out).items():
        print(f"wrote {path}")
    return 0


def _encode(args) -> int:
    from beyond_collapse.empirics.eigen.tokenizer import encode_p1000

    print(" ".join(encode_p1000([float(v) for v in args.values])))
    return 0


def _decode(args) -> int:
    from beyond_collapse.empirics.eigen.tokenizer import decode_p1000

    values = decode_p1000(args.tokens)
    print("malformed" if values is None else " ".join(f"{v:g}" for v in values))
    return 0 if values is not None else 1


def register(subparsers) -> None:
    p = subparsers.add_parser("eigen", help="eigenvalue transformer with verifier-selected synthetic data (Sec. 5.1-5.2)")
    sub = p.add_subparsers(dest="eigen_command", required=True)
    r = sub.add_parser("run", help="train the generator, synthesize and select data, retrain (Tables 1-4); resumable")
    r.add_argument("--profile", choices=PROFILES, default="quick", help="run sizes (default: quick)")
    r.add_argument("--runs-dir", default="runs", help="checkpoints and resumable units (default: runs)")
    r.add_argument("--out", default="docs/results/eigen", help="results JSON, tables, figure (default: docs/results/eigen)")
    r.add_argument("--seed", type=int, default=0, help="seed of every data stream (default: 0)")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    r.set_defaults(func=_run)
    e = sub.add_parser("encode", help="P1000 tokens of numbers (App. B)")
    e.add_argument("values", nargs="+", help="real numbers (use -- before negative numbers)")
    e.set_defaults(func=_encode)
    d = sub.add_parser("decode", help="numbers from P1000 tokens; prints 'malformed' (exit 1) if not well formed")
    d.add_argument("tokens", nargs="+", help="tokens such as + 23 E-1 (use -- before them)")
    d.set_defaults(func=_decode)
