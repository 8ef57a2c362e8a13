"""``beyond-collapse breakdown`` and ``beyond-collapse rates {gaussian-mixture,isotropic}``.

Angles accept plain numbers and the forms ``pi``, ``pi/12``, ``3*pi/4``, ``3pi/4``, ``-pi/2``,
``0.5*pi``, parsed by :func:`beyond_collapse.theory.angles.parse_angle` without ``eval``.
"""

from __future__ import annotations

import json

from beyond_collapse.theory.angles import parse_angle


def _angle(text: str) -> float:
    """argparse type: ValueError becomes argparse's one-line usage error (exit 2)."""
    import argparse

    try:
        return parse_angle(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _breakdown(args) -> int:
    from beyond_collapse.theory import breakdown_bounds, breakdown_point

    p_star = breakdown_point(args.phi, args.psi)
    p_minus, p_plus = breakdown_bounds(args.phi, args.psi, args.t)
    if args.json:
        print(json.dumps({"phi": args.phi, "psi": args.psi, "t": args.t, "p_star": p_star,
                          "p_minus": p_minus, "p_plus": p_plus}))
    else:
        print(f"phi = {args.phi:g}, psi = {args.psi:g} (psi/phi = "
              f"{'inf' if args.phi == 0 else format(args.psi / args.phi, 'g')})")
        print(f"breakdown point p* = {p_star:.6g}  (Thm. 3.2: accuracy -> 100% for p < p*, 0% for p > p*)")
        print(f"bounds at t = {args.t:g}: p-*(t) = {p_minus:.6g}, p+*(t) = {p_plus:.6g}  (eq. (19))")
    return 0


def _rates(args) -> int:
    from beyond_collapse.theory import gaussian_mixture_rates, isotropic_rates

    angles = dict(theta_gen=args.theta_gen, theta_prune=args.theta_prune, theta=args.theta)
    if args.setting == "gaussian-mixture":
        rates = gaussian_mixture_rates(args.mu_norm, args.d, **angles)
        config = {"setting": args.setting, "mu_norm": args.mu_norm, "d": args.d, **angles}
    else:
        rates = isotropic_rates(**angles)
        config = {"setting": args.setting, **angles}
    if args.json:
        print(json.dumps({**config, **rates.to_dict()}))
        return 0
    print(", ".join(f"{k} = {v:.6g}" if isinstance(v, float) else f"{k} = {v}" for k, v in config.items()))
    print(f"generator error p = {rates.p:.6g}")
    print(f"keep rates phi = {rates.phi:.6g} (correct labels), psi = {rates.psi:.6g} (wrong labels); "
          f"kept fraction {rates.kept_fraction:.6g}")
    verdict = "p < p*: accuracy -> 100%" if rates.below_breakdown else "p >= p*: accuracy does not reach 100%"
    print(f"breakdown point p* = {rates.p_star:.6g}; {verdict} (Thm. 3.2)")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "breakdown", help="breakdown point p* and bounds p-*(t), p+*(t) of an RLHF-type pruner (Thm. 3.2, eq. (19))")
    p.add_argument("--phi", type=float, required=True, help="keep rate of correctly labelled examples, in [0, 1]")
    p.add_argument("--psi", type=float, required=True, help="keep rate of wrongly labelled examples, in [0, 1]")
    p.add_argument("--t", type=float, default=0.1, help="concentration slack t in (0, 1) for eq. (19) (default 0.1)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_breakdown)

    r = subparsers.add_parser("rates", help="keep rates (p, phi, psi) and p* of supervised pruning (eq. (5))")
    settings = r.add_subparsers(dest="setting", required=True, parser_class=type(r))
    for name, help_text in (("gaussian-mixture", "Gaussian mixture with means +-mu (App. D.6)"),
                            ("isotropic", "isotropic inputs, labels from mu (Sec. 3.4, Fig. 2)")):
        s = settings.add_parser(name, help=help_text)
        if name == "gaussian-mixture":
            s.add_argument("--mu-norm", type=float, required=True, help="|mu| in [0, 1)")
            s.add_argument("--d", type=float, required=True, help="dimension d > 0")
        s.add_argument("--theta-gen", type=_angle, required=True, help="angle(w_gen, mu), e.g. pi/12")
        s.add_argument("--theta-prune", type=_angle, required=True, help="angle(w_prune, mu)")
        s.add_argument("--theta", type=_angle, required=True, help="angle(w_prune, w_gen)")
        s.add_argument("--json", action="store_true", help="print one JSON object")
        s.set_defaults(func=_rates)
