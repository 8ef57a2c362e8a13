"""CLI: ``beyond-collapse audit FILE`` and ``beyond-collapse audit-calibration``.

``audit`` reads a labelled audit sample (CSV or JSON Lines) and prints the estimates, the
symmetry test, p*, the posterior probability that p < p* and the verdict (``--json`` for the
machine-readable form). ``audit-calibration`` measures how often the audit's 95% statements are
right over many simulated audits of a supervised pruner whose true rates are known
(docs/audit.md). No torch anywhere here.
"""

from __future__ import annotations

import inspect
import json
import math

from beyond_collapse.audit import calibration, estimate, reading
from beyond_collapse.runs import int_arg, output_file, seed_arg


def _default(func, name: str):
    """The default of parameter ``name`` of ``func``: the library's own, never retyped here."""
    return inspect.signature(func).parameters[name].default


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "audit",
        help="collapse-risk verdict from a hand-labelled audit sample of synthesized examples",
        description="Estimate p, phi, psi (exact intervals), p* and P(p < p*) from an audit file with one row "
        "per synthesized example (true label, synthetic label, kept flag). See docs/audit.md.",
    )
    p.add_argument("file", help="CSV (header row) or JSON Lines file")
    p.add_argument("--format", choices=reading.FORMATS, default=None, help="file format (default: from the extension)")
    for opt, key, what in (("--true-col", "true_col", "true labels"), ("--syn-col", "syn_col", "synthetic labels"),
                           ("--kept-col", "kept_col", "verifier keep flags")):
        p.add_argument(opt, default=_default(estimate.audit, key),
                       help=f"column of {what}, 0/1 (default {_default(estimate.audit, key)})")
    p.add_argument("--correct-col", default=None,
                   help="correctness-flag mode (tasks without classes): column saying whether the example is correct; "
                   "replaces --true-col/--syn-col")
    p.add_argument("--missing", choices=estimate.MISSING_POLICIES, default=_default(estimate.audit, "missing"),
                   help="rows with missing/NaN values: refuse (error, default) or drop (dropped and counted)")
    p.add_argument("--model", choices=estimate.MODELS, default=_default(estimate.audit, "model"),
                   help="symmetric (phi, psi), class-dependent (phi0, phi1, psi01, psi10), or auto: symmetric unless "
                   "Fisher exact tests reject it (default)")
    p.add_argument("--condition", choices=estimate.CONDITIONS, default=_default(estimate.audit, "condition"),
                   help="breakdown condition for class-dependent rates: pooled (Prop. E.3, Gram structure b = -a, "
                   "the Gaussian mixture; default) or per-class (Prop. E.4, b = 0)")
    a, b = _default(estimate.audit, "prior")
    p.add_argument("--prior", type=float, nargs=2, default=(a, b), metavar=("A", "B"),
                   help=f"Beta(A, B) prior on each rate (default {a:g} {b:g}, Jeffreys)")
    for opt, key, kind, what in (
            ("--confidence", "confidence", float, "level of the intervals"),
            ("--decision-level", "decision_level", float, "posterior probability needed for a verdict"),
            ("--symmetry-alpha", "symmetry_alpha", float, "level of the symmetry test"),
            ("--draws", "n_draws", int_arg(1), "Monte Carlo draws from the posterior"),
            ("--seed", "seed", seed_arg, "seed of the posterior draws")):
        p.add_argument(opt, type=kind, default=_default(estimate.audit, key),
                       help=f"{what} (default {_default(estimate.audit, key)})")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_run_audit)

    c = subparsers.add_parser(
        "audit-calibration",
        help="how often the audit's 95%% statements are right over simulated audits with known truth",
        description="Simulate many audits of a supervised pruner (eq. (5), Gaussian mixture of App. D.6) with "
        "sample_supervised_pruning, audit each, and compare with the true p, phi, psi, p* from the theory.",
    )
    for opt, key, kind, what in (
            ("--audits", "n_audits", int_arg(1), "number of simulated audits"),
            ("--rows", "n_rows", int_arg(1), "rows per audit"),
            ("--draws", "n_draws", int_arg(1), "posterior draws per audit"),
            ("--followup", "followup", int_arg(0),
             "re-audit this many undecided audits at the size the sample-size rule names"),
            ("--seed", "seed", seed_arg, "seed")):
        c.add_argument(opt, type=kind, default=_calibration_default(key),
                       help=f"{what} (default {_calibration_default(key)})")
    _angle_args(c)
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
    sim.add_argument("--rows", type=int_arg(1), default=_calibration_default("n_rows"),
                     help=f"rows (default {_calibration_default('n_rows')})")
    sim.add_argument("--seed", type=seed_arg, default=_calibration_default("seed"),
                     help=f"seed (default {_calibration_default('seed')})")
    _angle_args(sim)
    sim.set_defaults(func=_run_simulate)


def _calibration_default(name: str):
    return _default(calibration.supervised_audit_calibration, name)


def _angle_args(parser) -> None:
    """The supervised-pruning setting of docs/audit.md (``supervised_audit_calibration``'s defaults:
    p = 0.394, p* = 0.452, margin +0.058)."""
    from beyond_collapse.theory.commands import _angle

    for opt, key, kind, what in (("--d", "d", int, "dimension"), ("--mu-norm", "mu_norm", float, "|mu|"),
                                 ("--theta-gen", "theta_gen", _angle, "angle(w_gen, mu), radians or pi/12-style"),
                                 ("--theta-prune", "theta_prune", _angle, "angle(w_prune, mu)"),
                                 ("--theta", "theta", _angle, "angle(w_prune, w_gen)")):
        parser.add_argument(opt, type=kind, default=_calibration_default(key),
                            help=f"{what} (default {_calibration_default(key)})")


def _run_simulate(args) -> int:
    import numpy as np

    from beyond_collapse.numerics.samplers import sample_supervised_pruning

    setting = dict(d=args.d, mu_norm=args.mu_norm, theta_gen=args.theta_gen, theta_prune=args.theta_prune,
                   theta=args.theta)
    truth = calibration.supervised_truth(**setting)
    out = output_file(args.out)
    y, y_syn, kept = sample_supervised_pruning(args.rows, **setting, rng=np.random.default_rng(args.seed))
    with open(out, "w") as fh:
        fh.write("y_true,y_syn,kept\n")
        fh.writelines(f"{a},{b},{c}\n" for a, b, c in zip(y, y_syn, kept))
    print(f"wrote {args.rows} rows to {args.out}; truth: p = {truth['p']:.4f}, phi = {truth['phi']:.4f}, "
          f"psi = {truth['psi']:.4f}, p* = {truth['p_star']:.4f}, margin = {truth['p_star'] - truth['p']:+.4f}")
    return 0


def _run_audit(args) -> int:
    result = estimate.audit(
        args.file, true_col=args.true_col, syn_col=args.syn_col, kept_col=args.kept_col,
        correct_col=args.correct_col, fmt=args.format, missing=args.missing, model=args.model,
        condition=args.condition,
        prior=tuple(args.prior), confidence=args.confidence, decision_level=args.decision_level,
        symmetry_alpha=args.symmetry_alpha, n_draws=args.draws, seed=args.seed,
    )
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.to_text())
    return 0


def _run_calibration(args) -> int:
    out = None if args.out is None else output_file(args.out)
    import numpy as np

    from beyond_collapse.numerics.samplers import sample_supervised_pruning

    # the setting is checked before the first audit (the truth and a zero-row draw validate what the
    # loop uses), so a bad one is one line with no progress bar
    setting = dict(d=args.d, mu_norm=args.mu_norm, theta_gen=args.theta_gen, theta_prune=args.theta_prune,
                   theta=args.theta)
    calibration.supervised_truth(**setting)
    sample_supervised_pruning(0, **setting, rng=np.random.default_rng(0))
    res = calibration.supervised_audit_calibration(
        n_audits=args.audits, n_rows=args.rows, d=args.d, mu_norm=args.mu_norm, theta_gen=args.theta_gen,
        theta_prune=args.theta_prune, theta=args.theta, n_draws=args.draws, followup=args.followup, seed=args.seed, out=out,
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
