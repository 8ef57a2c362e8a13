"""``beyond-collapse simulate fig2|fig3|fig5``: the simulations of Figs. 2, 3 and 5."""

from __future__ import annotations

from beyond_collapse.runs import add_run_args

RESULTS = "docs/results/numerics"

_HELP = {
    "fig2": "supervised pruning at several generator/pruner angles, under the three couplings of the "
            "generator-pruner angle (independent, same-side, opposite): predicted vs measured breakdown (Fig. 2)",
    "fig3": "relative error against the number of selected synthesized points n' (Fig. 3, Sec. 4)",
    "fig5": "accuracy against p under RLHF pruning (phi, psi), and measured p_up vs p-*(t) (Fig. 5)",
    "generations": "iterated retraining on verifier-selected synthetic data, simulated vs predicted (issue 17)",
}


def _run(args) -> int:
    from beyond_collapse.numerics.experiments import produce
    from beyond_collapse.runs import run_lock, runs_folder

    with run_lock(runs_folder(args.runs_dir, args.profile, args.figure)) as units:
        _, json_path, png_path = produce(args.figure, profile=args.profile, runs_dir=units,
                                         out_dir=args.out, base_seed=args.seed, progress=not args.quiet)
    print(f"wrote {json_path} and {png_path}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("simulate", help="simulations of Figs. 2, 3, 5 (resumable; results JSON and PNG)")
    figures = p.add_subparsers(dest="figure", required=True, parser_class=type(p))
    for name, text in _HELP.items():
        f = figures.add_parser(name, help=text, description=text)
        add_run_args(f, out=RESULTS)
        f.add_argument("--quiet", action="store_true", help="no progress bar")
        f.set_defaults(func=_run)
