"""``beyond-collapse phase ...``: selection strategies on the phase diagram (Thm. 3.2 / D.3).

``phase point`` places one data set from its 2x2 counts; ``phase export`` turns an experiment's
saved results into the counts document the "Theory vs experiment" report section reads.
Nothing here imports torch.
"""

from __future__ import annotations

import json
from pathlib import Path

from beyond_collapse.empirics.eigen.commands import RESULTS_DIR as EIGEN_RESULTS
from beyond_collapse.empirics.summarization.commands import RESULTS_DIR as SUMMARIZATION_RESULTS
from beyond_collapse.runs import add_run_args, int_arg, results_path, runs_folder, seed_arg

_OUT = "docs/results/theory_vs_experiment"


def _point(args) -> int:
    from beyond_collapse.audit.phase import phase_point_from_counts

    counts = {"correct_kept": args.correct_kept, "correct_dropped": args.correct_dropped,
              "wrong_kept": args.wrong_kept, "wrong_dropped": args.wrong_dropped}
    pt = phase_point_from_counts(counts, confidence=args.confidence, decision_level=args.decision_level,
                                 seed=args.seed)
    if args.json:
        print(json.dumps(pt.to_dict(), indent=2))
        return 0
    c = int(round(100 * args.confidence))
    print(f"{pt.n} examples; exact Clopper-Pearson {c}% intervals")
    for r in (pt.p, pt.phi, pt.psi):
        est = "n/a" if r.estimate is None else f"{r.estimate:.4f}"
        print(f"  {r.name:<4}{est:>8}  [{r.ci_low:.4f}, {r.ci_high:.4f}]  {r.successes}/{r.trials}  {r.meaning}")
    ps = "n/a" if pt.p_star is None else f"{pt.p_star:.4f}"
    mg = "n/a" if pt.margin is None else f"{pt.margin:+.4f}"
    lo, hi = pt.margin_interval
    print(f"p* = 1/(1 + psi/phi) = {ps}; margin p* - p = {mg} (posterior {c}%: [{lo:+.4f}, {hi:+.4f}])")
    print(f"P(p < p*) = {pt.prob_p_below_p_star:.4f} -> predicted: {pt.side}")
    return 0


def _export(args) -> int:
    from beyond_collapse.report.phase_export import export_eigen, export_summarization

    out = Path(args.out) / f"{args.experiment}_{args.profile}.json"
    if args.experiment == "eigen":
        results = args.results or results_path(EIGEN_RESULTS, args.profile, "results.json")
        path = export_eigen(results, runs_folder(args.runs_dir, args.profile, "eigen"), out)
    else:
        from beyond_collapse.empirics.summarization.pipeline import output_paths

        files = output_paths(SUMMARIZATION_RESULTS, args.profile)
        results = args.results or files["results"]
        scores = args.scores or files["scores"]
        path = export_summarization(results, scores, out, seed=args.seed)
    print(f"wrote {path}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("phase", help="selection strategies on the phase diagram: p, phi, psi, p* (Thm. 3.2)")
    sub = p.add_subparsers(dest="phase_command", required=True)
    pt = sub.add_parser("point", help="p, phi, psi with exact intervals, p*, margin and predicted side from 2x2 counts")
    for name, meaning in (("correct_kept", "correct examples kept"), ("correct_dropped", "correct examples dropped"),
                          ("wrong_kept", "wrong examples kept"), ("wrong_dropped", "wrong examples dropped")):
        pt.add_argument(name, type=int_arg(0), help=meaning)
    pt.add_argument("--confidence", type=float, default=0.95, help="interval level (default: 0.95)")
    pt.add_argument("--decision-level", type=float, default=0.95,
                    help="posterior probability needed to call a side (default: 0.95)")
    pt.add_argument("--seed", type=seed_arg, default=0, help="seed of the posterior Monte Carlo (default: 0)")
    pt.add_argument("--json", action="store_true", help="print JSON")
    pt.set_defaults(func=_point)
    e = sub.add_parser("export", help="counts document of an experiment's saved results for the report section")
    e.add_argument("experiment", choices=("eigen", "summarization"))
    add_run_args(e, out=_OUT, out_help="output folder", profile="cpu", seed_help="bootstrap seed for correlations")
    e.add_argument("--results", default=None, help="results JSON (default: the experiment's docs/results file)")
    e.add_argument("--scores", default=None, help="summarization only: the synthetic scores JSONL "
                   f"(default: {SUMMARIZATION_RESULTS}/<profile>/synthetic_scores.jsonl)")
    e.set_defaults(func=_export)
