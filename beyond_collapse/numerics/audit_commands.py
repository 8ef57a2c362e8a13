"""CLI: ``beyond-collapse audit FILE`` and ``beyond-collapse audit-calibration``.

``audit`` reads a labelled audit sample (CSV or JSON Lines) and prints the estimates, the
symmetry test, p*, the posterior probability that p < p* and the verdict (``--json`` for the
machine-readable form). ``audit-calibration`` measures how often the audit's 95% statements are
right over many simulated audits of a supervised pruner whose true rates are known
(docs/audit.md). No torch anywhere here.
"""

from __future__ import annotations

import json
import math


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "audit",
        help="collapse-risk verdict from a hand-labelled audit sample of synthesized examples",
        description="Estimate p, phi, psi (exact intervals), p* and P(p < p*) from an audit file with one row "
        "per synthesized example (true label, synthetic label, kept flag). See docs/audit.md.",
    )
    p.add_argument("file", help="CSV (header row) or JSON Lines file")
    p.add_argument("--format", choices=("csv", "jsonl"), default=None, help="file format (default: from the extension)")
    p.add_argument("--true-col", default="y_true", help="column of true labels, 0/1 (default y_true)")
    p.add_argument("--syn-col", default="y_syn", help="column of synthetic labels, 0/1 (default y_syn)")
    p.add_argument("--kept-col", default="kept", help="column of verifier keep flags, 0/1 (default kept)")
    p.add_argument("--correct-col", default=None,
                   help="correctness-flag mode (tasks without classes): column saying whether the example is correct; "
                   "replaces --true-col/--syn-col")
    p.add_argument("--missing", choices=("refuse", "drop"), default="refuse",
                   help="rows with missing/NaN values: refuse (error, default) or drop (dropped and counted)")
    p.add_argument("--model", choices=("auto", "symmetric", "class"), default="auto",
                   help="symmetric (phi, psi), class-dependent (phi0, phi1, psi01, psi10), or auto: symmetric unless "
                   "Fisher exact tests reject it (default)")
    p.add_argument("--condition", choices=("pooled", "per-class"), default="pooled",
                   help="breakdown condition for class-dependent rates: pooled (Prop. E.3, Gram structure b = -a, "
                   "the Gaussian mixture; default) or per-class (Prop. E.4, b = 0)")
    p.add_argument("--prior", type=float, nargs=2, default=(0.5, 0.5), metavar=("A", "B"),
                   help="Beta(A, B) prior on each rate (default Jeffreys 0.5 0.5)")
    p.add_argument("--confidence", type=float, default=0.95, help="level of the intervals (default 0.95)")
    p.add_argument("--decision-level", type=float, default=0.95,
                   help="posterior probability needed for a verdict (default 0.95)")
    p.add_argument("--symmetry-alpha", type=float, default=0.05, help="level of the symmetry test (default 0.05)")
    p.add_argument("--draws", type=int, default=200_000, help="Monte Carlo draws from the posterior (default 200000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the posterior draws (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_run_audit)

    c = subparsers.add_parser(
        "audit-calibration",
        help="how often the audit's 95%% statements are right over simulated audits with known truth",
        description="Simulate many audits of a supervised pruner (eq. (5), Gaussian mixture of App. D.6) with "
        "sample_supervised_pruning, audit each, and compare with the true p, phi, psi, p* from the theory.",
    )
    c.add_argument("--audits", type=int, default=1000, help="number of simulated audits (default 1000)")
    c.add_argument("--rows", type=int, default=300, help="rows per audit (default 300)")
    _angle_args(c)
    c.add_argument("--draws", type=int, default=20_000, help="posterior draws per audit (default 20000)")
    c.add_argument("--followup", type=int, default=0,
                   help="re-audit this many undecided audits at the size the sample-size rule names (default 0)")
    c.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    c.add_argument("--out", default=None, help="results JSON (resumable; default: print only)")
    c.add_argument("--json", action="store_true", help="print JSON instead of text")
    c.set_defaults(func=_run_calibration)


    sim = subparsers.add_parser(
        "audit-simulate",
        help="write a simulated audit sample (supervised pruning, known truth) as CSV",
        description="Draw an audit sample from sample_supervised_pruning (eq. (5) on the Gaussian mixture) and "
        "write it as CSV with columns y_true, y_syn, kept; prints the true p, phi, psi, p* (App. D.6).",
    )
    sim.add_argument("--out", required=True, help="CSV file to write")
    sim.add_argument("--rows", type=int, default=300, help="rows (default 300)")
    sim.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    _angle_args(sim)
    sim.set_defaults(func=_run_simulate)


def _angle_args(parser) -> None:
    """The supervised-pruning setting of docs/audit.md: p = 0.394, p* = 0.452 (margin +0.058)."""
    parser.add_argument("--d", type=int, default=100, help="dimension (default 100)")
    parser.add_argument("--mu-norm", type=float, default=0.1, help="|mu| (default 0.1)")
    parser.add_argument("--theta-gen", type=float, default=1.3, help="angle(w_gen, mu), radians (default 1.3)")
    parser.add_argument("--theta-prune", type=float, default=1.7, help="angle(w_prune, mu), radians (default 1.7)")
    parser.add_argument("--theta", type=float, default=1.7, help="angle(w_prune, w_gen), radians (default 1.7)")


def _run_simulate(args) -> int:
    import numpy as np

    from beyond_collapse.numerics.audit import supervised_truth
    from beyond_collapse.numerics.samplers import sample_supervised_pruning

    setting = dict(d=args.d, mu_norm=args.mu_norm, theta_gen=args.theta_gen, theta_prune=args.theta_prune,
                   theta=args.theta)
    truth = supervised_truth(**setting)
    y, y_syn, kept = sample_supervised_pruning(args.rows, **setting, rng=np.random.default_rng(args.seed))
    with open(args.out, "w") as fh:
        fh.write("y_true,y_syn,kept\n")
        fh.writelines(f"{a},{b},{c}\n" for a, b, c in zip(y, y_syn, kept))
    print(f"wrote {args.rows} rows to {args.out}; truth: p = {truth['p']:.4f}, phi = {truth['phi']:.4f}, "
          f"psi = {truth['psi']:.4f}, p* = {truth['p_star']:.4f}, margin = {truth['p_star'] - truth['p']:+.4f}")
    return 0


def _run_audit(args) -> int:
    from beyond_collapse.numerics.audit import audit

    result = audit(
        args.file, true_col=args.true_col, syn_col=args.syn_col, kept_col=args.kept_col,
        correct_col=args.correct_col, fmt=args.format, missing=args.missing, model=args.model,
        condition=args.condition,
        prior=tuple(args.prior), confidence=args.confidence, decision_level=args.decision_level,
        symmetry_alpha=args.symmetry_alpha, n_draws=args.draws, seed=args.seed,
    )
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.to_text())
    return 0


def _run_calibration(args) -> int:
    from beyond_collapse.numerics.audit import supervised_audit_calibration

    res = supervised_audit_calibration(
        n_audits=args.audits, n_rows=args.rows, d=args.d, mu_norm=args.mu_norm, theta_gen=args.theta_gen,
        theta_prune=args.theta_prune, theta=args.theta, n_draws=args.draws, followup=args.followup, seed=args.seed, out=args.out,
    )
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    t, m = res["truth"], res["metrics"]
    print(f"Truth: p = {t['p']:.4f}, phi = {t['phi']:.4f}, psi = {t['psi']:.4f}, p* = {t['p_star']:.4f}, "
          f"margin = {t['margin']:+.4f}")
    print(f"{m['n_audits']} audits of {res['config']['n_rows']} rows:")
    print(f"  verdict stated at 95%: {m['n_decided']} ({m['frac_decided']:.3f}); right {m['n_right']}, "
          f"wrong {m['n_wrong']}; right among stated {_fmt(m['frac_right_given_decided'])}")
    print(f"  wrong statements over all audits: {m['frac_wrong']:.4f} (target <= 0.05)")
    print(f"  95% credible interval of the margin covers the truth: {m['margin_coverage']:.4f}")
    print(f"  model-free check P(p_kept < 1/2) stated at 95%: {m['kept_check_decided']}, wrong {m['kept_check_wrong']}")
    for k, v in m["ci_coverage"].items():
        print(f"  95% Clopper-Pearson interval of {k} covers the truth: {v:.4f}")
    f = m.get("followup")
    if f and f["n"]:
        print(f"  sample-size rule: {f['n']} undecided audits re-audited at the size it named (median "
              f"{f['median_rows']:.0f} rows, {f['capped']} capped): {f['decided']} decided, {f['right']} rightly")
    return 0


def _fmt(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4f}"
