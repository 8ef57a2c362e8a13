"""The claim record, the registration decorator and small shared helpers of the registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

STATUSES = ("verified", "erratum", "not checkable")
METHODS = ("symbolic", "numeric-hypothesis", "simulation", "exact", "none")


@dataclass(frozen=True)
class Claim:
    """One checkable statement of the paper.

    ``expected`` is the status recorded in the registry; ``check()`` recomputes it and returns
    ``(status, evidence)``. For a printed formula that is wrong, ``expected`` is ``"erratum"`` and
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


def verdict(ok: bool, evidence: str, *, if_false: str = "failed") -> tuple[str, str]:
    """``("verified", evidence)`` when ``ok``, else ``(if_false, evidence)``."""
    return ("verified" if ok else if_false), evidence


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
