"""``beyond-collapse eigen ...``: the eigenvalue experiment (Sec. 5.1-5.2, App. B).

torch is imported inside the handlers only, so registering these commands costs nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from beyond_collapse.runs import add_run_args, runs_folder

RESULTS_DIR = "docs/results/eigen"


def _run(args) -> int:
    from beyond_collapse.empirics.eigen.experiments import run_pipeline
    from beyond_collapse.empirics.eigen.tables import write_results

    if args.collect_only:  # the results of the finished units, computing nothing
        results = run_pipeline(args.profile, runs_folder(args.runs_dir, args.profile, "eigen"), seed=args.seed,
                               collect_only=True)
        for kind, path in write_results(results, args.out).items():
            print(f"wrote {path}")
        return 0
    if args.worker >= args.workers:
        raise SystemExit(f"beyond-collapse eigen run: --worker must be below --workers ({args.workers}), got {args.worker}")
    runs = runs_folder(args.runs_dir, args.profile, "eigen")
    if args.worker > 0:  # a helper process started by worker 0: its share of the units, no results file
        parent = os.getppid()

        def parent_alive():
            if os.getppid() != parent:
                raise RuntimeError("worker 0 is gone; stopping (finished units are kept)")
        run_pipeline(args.profile, runs, seed=args.seed, progress=False, worker=args.worker, workers=args.workers,
                     check=parent_alive, log=lambda s: print(f"[worker {args.worker}] {s}", flush=True))
        return 0
    helpers = [subprocess.Popen([sys.executable, "-m", "beyond_collapse.cli", "eigen", "run", "--profile", args.profile,
                                 "--runs-dir", args.runs_dir, "--seed", str(args.seed), "--no-progress",
                                 "--workers", str(args.workers), "--worker", str(i)])
               for i in range(1, args.workers)]

    def helpers_ok():
        for i, h in enumerate(helpers, start=1):
            if h.poll() not in (None, 0):
                raise RuntimeError(f"worker {i} exited with status {h.returncode}; finished units are kept, rerun to resume")
    try:
        results = run_pipeline(args.profile, runs, seed=args.seed, progress=not args.no_progress,
                               workers=args.workers, check=helpers_ok)
    except BaseException:
        for h in helpers:  # an interrupted run stops its helpers too; finished units are kept
            h.terminate()
        raise
    for h in helpers:
        h.wait()
    for kind, path in write_results(results, args.out).items():
        print(f"wrote {path}")
    return 0


def _generations(args) -> int:
    from beyond_collapse.empirics.eigen.generations import run_generations
    from beyond_collapse.runs import results_path, write_json_atomic

    res = run_generations(args.profile, runs_folder(args.runs_dir, args.profile, "eigen"),
                          runs_folder(args.runs_dir, args.profile, "eigen_generations"), generations=args.generations,
                          multiple=args.multiple, seed=args.seed, progress=not args.no_progress)
    path = write_json_atomic(results_path(args.out, args.profile, "generations.json"), res)
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
    add_run_args(r, out=RESULTS_DIR, out_help="results JSON, tables, figure, one subfolder per profile",
                 seed_help="seed of every data stream")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    r.add_argument("--workers", type=int, default=1,
                   help="processes sharing the units on a CPU machine (default: 1; 2 on a 2-core machine)")
    r.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    r.add_argument("--collect-only", action="store_true",
                   help="compute nothing: write the results of the units finished so far (a run still going or stopped)")
    r.set_defaults(func=_run)
    g = sub.add_parser("generations", help="generation t+1 trained on generation t's synthesized data, with oracle "
                       "label selection and without selection (issue 17); needs a finished `eigen run` generator")
    add_run_args(g, out=RESULTS_DIR, out_help="results folder, one subfolder per profile (generations.json)",
                 seed_help="seed of every data stream (the main run's)")
    g.add_argument("--generations", type=int, default=3, help="retrained generations (default: 3)")
    g.add_argument("--multiple", type=int, default=2, help="synthesis prompts per generation, in units of N0 (default: 2)")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    g.set_defaults(func=_generations)
    e = sub.add_parser("encode", help="P1000 tokens of numbers (App. B)")
    e.add_argument("values", nargs="+", help="real numbers (use -- before negative numbers)")
    e.set_defaults(func=_encode)
    d = sub.add_parser("decode", help="numbers from P1000 tokens; prints 'malformed' (exit 1) if not well formed")
    d.add_argument("tokens", nargs="+", help="tokens such as + 23 E-1 (use -- before them)")
    d.set_defaults(func=_decode)
