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


def _csv_floats(text: str) -> list[float]:
    """argparse type: ``2000,4000,8000`` -> [2000.0, 4000.0, 8000.0]."""
    import argparse

    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _learning_curve(args) -> int:
    import json

    import numpy as np

    from beyond_collapse.numerics.learning_curves import (
        proportional_parameters,
        rlhf_learning_curve,
        supervised_learning_curve,
    )

    mixture = args.channel == "rlhf" or args.data == "mixture"
    alpha, snr, ridge = proportional_parameters(np.array(args.n), args.d, args.mu_norm if mixture else 0.0, args.lam)
    common = dict(snr=snr, ridge=ridge, loss=args.loss)
    if args.channel == "rlhf":
        curve = rlhf_learning_curve(alpha, p=args.p, phi=args.phi, psi=args.psi, **common)
        config = {"p": args.p, "phi": args.phi, "psi": args.psi}
    else:
        curve = supervised_learning_curve(alpha, theta_gen=args.theta_gen, theta_prune=args.theta_prune,
                                          theta=args.theta, data=args.data, **common)
        config = {"theta_gen": args.theta_gen, "theta_prune": args.theta_prune, "theta": args.theta, "data": args.data}
    config = {"channel": args.channel, "d": args.d, "mu_norm": args.mu_norm if mixture else None, "lam": args.lam,
              "loss": args.loss, **config, "snr": float(snr), "ridge": float(ridge)}
    rows = [{"n": n, "alpha": a, **{k: float(v) for k, v in zip(curve._fields, vals)}}
            for n, a, vals in zip(args.n, np.atleast_1d(alpha), zip(*(np.atleast_1d(f) for f in curve)))]
    if args.json:
        print(json.dumps({**config, "points": rows}))
        return 0
    print(", ".join(f"{k} = {v:.6g}" if isinstance(v, float) else f"{k} = {v}" for k, v in config.items()))
    print(f"{'N':>10} {'alpha':>9} {'accuracy':>9} {'vs true':>9} {'cosine':>8} {'kept':>6}")
    for r in rows:
        print(f"{r['n']:>10.6g} {r['alpha']:>9.4g} {r['accuracy']:>9.5f} {r['accuracy_true']:>9.5f} "
              f"{r['cosine']:>8.4f} {r['kept_fraction']:>6.3f}")
    return 0


def register(subparsers) -> None:
    from beyond_collapse.theory.commands import _angle

    lc = subparsers.add_parser(
        "learning-curve", help="asymptotic test accuracy of eq. (1) on pruned synthetic data at finite N and d "
                               "(proportional limit, issue 16; docs/learning_curves.md)")
    channels = lc.add_subparsers(dest="channel", required=True, parser_class=type(lc))
    for name, text in (("rlhf", "labels flipped with probability p, kept with probability phi (correct) or psi "
                                "(wrong): Sec. 3.2, Fig. 5"),
                       ("supervised", "labels of a linear generator kept by a linear pruner, eq. (5): Sec. 3.4, "
                                      "Fig. 2")):
        c = channels.add_parser(name, help=text, description=text)
        c.add_argument("--n", type=_csv_floats, required=True,
                       help="rows of eq. (1) before pruning, comma-separated (e.g. 1000,2000,4000)")
        c.add_argument("--d", type=float, required=True, help="dimension d")
        c.add_argument("--mu-norm", type=float, default=0.1, help="|mu| in (0, 1), E|x|^2 = 1 (default 0.1)")
        c.add_argument("--lam", type=float, default=1e-2, help="ridge lambda of eq. (1) (default 1e-2)")
        c.add_argument("--loss", choices=("logistic", "square"), default="logistic", help="default: logistic")
        c.add_argument("--json", action="store_true", help="print one JSON object")
        if name == "rlhf":
            c.add_argument("--p", type=float, required=True, help="generator error rate p")
            c.add_argument("--phi", type=float, required=True, help="keep rate of correct labels")
            c.add_argument("--psi", type=float, required=True, help="keep rate of wrong labels")
        else:
            c.add_argument("--theta-gen", type=_angle, required=True, help="angle(w_gen, mu), e.g. pi/3")
            c.add_argument("--theta-prune", type=_angle, required=True, help="angle(w_prune, mu)")
            c.add_argument("--theta", type=_angle, required=True, help="angle(w_prune, w_gen)")
            c.add_argument("--data", choices=("mixture", "isotropic"), default="mixture",
                           help="mixture (App. D.6) or isotropic inputs with labels from mu (Sec. 3.4); default mixture")
        c.set_defaults(func=_learning_curve)

    p = subparsers.add_parser("simulate", help="simulations of Figs. 2, 3, 5 (resumable; results JSON and PNG)")
    figures = p.add_subparsers(dest="figure", required=True, parser_class=type(p))
    for name, text in _HELP.items():
        f = figures.add_parser(name, help=text, description=text)
        add_run_args(f, out=RESULTS)
        f.add_argument("--quiet", action="store_true", help="no progress bar")
        f.set_defaults(func=_run)
