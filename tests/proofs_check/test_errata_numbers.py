"""Numbers quoted in docs/ERRATA.md, recomputed by the check or function that produces them (issue 15: a quoted
number comes from its check, so a wrong quote or a changed check fails here)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from beyond_collapse.proofs_check.registry import run_claims

ERRATA = (Path(__file__).resolve().parents[2] / "docs" / "ERRATA.md").read_text()
TEXT = " ".join(ERRATA.split())  # quotes may wrap across lines


def sci(log10: float, digits: int = 2) -> str:
    """``m.me-k`` from a base-10 logarithm, also below the float range (3.4e-326)."""
    e = math.floor(log10)
    m = 10 ** (log10 - e)
    if round(m, digits - 1) >= 10:
        m, e = m / 10, e + 1
    return f"{m:.{digits - 1}f}e{e}"


def quoted(snippet: str) -> None:
    assert snippet in TEXT, f"docs/ERRATA.md should quote {snippet!r}"


def test_sci_formats_like_the_errata():
    assert sci(math.log10(1.56107e-34), 3) == "1.56e-34" and sci(-325.4705) == "3.4e-326" and sci(math.log10(5.56e-8)) == "5.6e-8"


def test_per_class_and_pooled_probabilities_of_the_e5_entry():
    from beyond_collapse.numerics import success_probability
    from beyond_collapse.theory import per_class_breakdown_points, pooled_breakdown_point

    Ns = [100, 1000, 10_000, 100_000]
    args = dict(phi1=0.5, psi10=0.6)
    per = success_probability(Ns, 0.505, 0.9, 0.4, condition="per-class", **args).probability
    pooled = success_probability(Ns, 0.505, 0.9, 0.4, condition="pooled", **args)
    fail10 = pooled.log_failure / math.log(10)  # log10(1 - P): 1 - P underflows at N = 1e5
    quoted(f"is {per[0]:.3f}, {per[1]:.3f}, {sci(math.log10(per[2]))}, {sci(math.log10(per[3]))} at N = 1e2, 1e3, 1e4, 1e5")
    quoted(f"(the pooled event's: {pooled.probability[0]:.3f}, {pooled.probability[1]:.5f}, 1 - {sci(fail10[2], 3)}, "
           f"1 - {sci(fail10[3])};")
    c0, c1 = per_class_breakdown_points(0.9, 0.5, 0.4, 0.6)
    quoted(f"(per-class p* = ({c0:.3f}, {c1:.3f}), pooled p* = {pooled_breakdown_point(0.9, 0.5, 0.4, 0.6):.3f})")


def _numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+\.\d+", text)]


@pytest.mark.parametrize("claim_id, template, pick", [
    ("E.34-s-t-sign", "gives s = {0:.3f}, t = {1:.3f}", lambda ev: re.search(r"s = (\S+), t = (\S+)", ev).groups()),
    ("E.3-finite-gamma", "gamma*B = {0:.3f} < 1/2 and training accuracy {1:.3f}",
     lambda ev: re.search(r"gamma\*B = (\S+) < 1/2, accuracy (\S+?);", ev).groups()),
    ("D.6-angles-only", "simulated phi is {0:.2f} at |mu| = 0.1 and {1:.3f} at |mu| = 0.3",
     lambda ev: re.search(r"phi = (\S+) at \|mu\|=0.1 vs (\S+) at", ev).groups()),
])
def test_numbers_quoted_from_a_registry_check(claim_id, template, pick):
    (r,) = run_claims([claim_id])
    values = [float(v) for v in pick(r.evidence)]
    quoted(template.format(*values))


def test_prop_e4_counterexample_and_e5_printed_inequality_point():
    from beyond_collapse.numerics.kkt import solve_limit_system
    from beyond_collapse.proofs_check.checks_numeric import _clean_accuracy
    from beyond_collapse.theory import breakdown_bounds

    A, B, C, D = solve_limit_system(np.array([2.0, 1.0, 3.0, 1.0]), 0.5, 0.0)
    quoted(f"N_kl/gamma = (2, 1, 3, 1), a = 0.5 gives C = {C:.3f} although N10 < N11")
    assert C < 0.5  # the counterexample: N10 < N11 yet C < 1/2
    phi, psi, t = 0.8, 0.4, 0.1
    hi = breakdown_bounds(phi, psi, t)[1]
    p = hi + 0.5 * (1 - hi)
    n = np.array([(1 - p) * phi, p * psi, p * psi, (1 - p) * phi]) / 2 / 0.1
    assert (1 - t) / (1 + t) <= p * psi / ((1 - p) * phi)
    assert _clean_accuracy(n, solve_limit_system(n, 0.5, -0.5)) == 0.0
    quoted(f"phi = 0.8, psi = 0.4, t = 0.1, p = {p:.3f} satisfies it and the limit accuracy there is 0%")


def test_printed_psi_value_at_the_centre():
    from beyond_collapse.theory import printed_gaussian_mixture_rates

    # c1 = c2 = 0 needs cos(theta_gen) = cos(theta_prune) = 0; theta = pi/2 between them
    _, _, psi = printed_gaussian_mixture_rates(0.3, 10, math.pi / 2, math.pi / 2, math.pi / 2)
    quoted(f"(at c1 = c2 = 0, theta = pi/2 it is {psi:.1f})")
