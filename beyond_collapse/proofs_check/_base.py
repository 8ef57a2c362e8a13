"""The claim record, the registration decorator and small shared helpers of the registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

STATUSES = ("verified", "erratum", "unproved", "erratum by inspection", "by construction", "not checkable")
# What each status claims, and whether its check can come out otherwise (the report prints this legend).
STATUS_MEANINGS = {
    "verified": "the statement agrees with a computation independent of the code under test (simulation, exact "
                "enumeration, actual fits, mpmath, an independently derived system); the check can fail",
    "erratum": "the printed form disagrees with such an independent computation, which also shows the corrected "
               "form; the check can come out 'verified'",
    "unproved": "the paper states it without a proof; the numerical evidence agrees (the check can fail)",
    "erratum by inspection": "the printed form is wrong on its face (e.g. a 'rate' that is always >= 1, a rule "
                             "that multiplies by a 0/1 label); the check only restates that reading and cannot "
                             "come out otherwise",
    "by construction": "true by how the statement or the code is defined (a definition, or the package compared "
                       "with itself); it cannot fail and is not evidence about the paper",
    "not checkable": "a definition or a qualitative remark; the reason is given",
}
# Statuses whose check cannot come out any other way: counted apart from the evidence-backed ones.
NOT_EVIDENCE = ("erratum by inspection", "by construction", "not checkable")
METHODS = ("symbolic", "numeric-hypothesis", "simulation", "exact", "none")


@dataclass(frozen=True)
class Claim:
    """One checkable statement of the paper.

    ``expected`` is the status recorded in the registry (one of ``STATUSES``, meanings in
    ``STATUS_MEANINGS``); ``check()`` recomputes it and returns ``(status, evidence)``. For a printed formula that is wrong, ``expected`` is ``"erratum"`` and
    the check shows that the printed form fails where the derived one holds; the corrected form is
    a separate claim with ``expected == "verified"``. ``reason`` says why a claim is not checkable.
    """

    id: str
    statement: str
    source: str
    method: str
    expected: str
    check: Callable[[], tuple[str, str]]
    reason: str = ""


_REGISTRY: list[Claim] = []


def claim(id: str, statement: str, source: str, method: str, expected: str = "verified", reason: str = ""):
    """Decorator registering ``fn() -> (status, evidence)`` as the check of a claim."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if expected not in STATUSES:
        raise ValueError(f"expected must be one of {STATUSES}, got {expected!r}")

    def wrap(fn):
        if any(c.id == id for c in _REGISTRY):
            raise ValueError(f"duplicate claim id {id!r}")
        _REGISTRY.append(Claim(id, statement, source, method, expected, fn, reason))
        return fn

    return wrap


def not_checkable(id: str, statement: str, source: str, reason: str) -> None:
    """Register a claim that cannot be checked; its check returns the reason."""
    claim(id, statement, source, "none", "not checkable", reason)(lambda: ("not checkable", reason))


def verdict(ok: bool, evidence: str, *, if_true: str = "verified", if_false: str = "failed") -> tuple[str, str]:
    """``(if_true, evidence)`` when ``ok``, else ``(if_false, evidence)``."""
    return (if_true if ok else if_false), evidence


def status_counts(statuses) -> str:
    """``"54 verified, 16 erratum, ...; 7 cannot fail (...)"``: evidence-backed statuses first, in
    ``STATUSES`` order, then the ones whose check cannot come out otherwise, counted apart."""
    counts: dict[str, int] = {}
    for s in statuses:
        counts[s] = counts.get(s, 0) + 1
    order = [s for s in STATUSES if s in counts] + sorted(s for s in counts if s not in STATUSES)
    backed = [f"{counts[s]} {s}" for s in order if s not in NOT_EVIDENCE]
    fixed = [f"{counts[s]} {s}" for s in order if s in NOT_EVIDENCE]
    out = ", ".join(backed)
    if fixed:
        out += f"; not evidence (cannot fail): {', '.join(fixed)}"
    return out


def hypothesis_settings(max_examples: int = 25):
    """Bounded, deterministic hypothesis settings for checks run outside pytest."""
    from hypothesis import HealthCheck, settings

    return settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck), print_blob=False)


def for_all(strategy, prop, max_examples: int = 25) -> str | None:
    """Run ``prop(example)`` (which asserts) on ``max_examples`` deterministic examples.

    Returns None when every example passes, else a one-line description of the falsifying example.
    """
    from hypothesis import given

    try:
        hypothesis_settings(max_examples)(given(strategy)(prop))()
    except AssertionError as exc:
        return " ".join(str(exc).split())[:300]
    return None


def find_example(strategy, condition, max_examples: int = 200):
    """A (shrunk) example satisfying ``condition``, or None when the search finds none."""
    from hypothesis import find
    from hypothesis.errors import NoSuchExample

    try:
        return find(strategy, condition, settings=hypothesis_settings(max_examples))
    except NoSuchExample:
        return None
