"""Angles written as text: plain numbers and the forms ``pi``, ``pi/12``, ``3*pi/4``, ``3pi/4``,
``-pi/2``, ``0.5*pi`` (radians), parsed without ``eval``. Used by the command line and the report."""

from __future__ import annotations

import math
import re

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_ANGLE = re.compile(
    rf"^\s*(?P<sign>[+-]?)\s*(?:(?P<num>{_NUMBER})\s*(?P<times>\*?)\s*)?(?P<pi>pi)?"
    rf"\s*(?:/\s*(?P<den>{_NUMBER}))?\s*$"
)


def parse_angle(text: str) -> float:
    """Parse an angle in radians: a number, or ``[a][*]pi[/b]`` such as ``pi/12`` or ``3*pi/4``.

    Raises:
        ValueError: for anything else (no expression evaluation).
    """
    m = _ANGLE.match(text)
    if m is None or (m["num"] is None and m["pi"] is None) or (m["times"] and not m["pi"]):
        raise ValueError(
            f"angle {text!r} is not a number or a form like 'pi', 'pi/12', '3*pi/4' (radians)"
        )
    value = float(m["num"]) if m["num"] is not None else 1.0
    if m["pi"]:
        value *= math.pi
    if m["den"] is not None:
        den = float(m["den"])
        if den == 0:
            raise ValueError(f"angle {text!r} divides by zero")
        value /= den
    return -value if m["sign"] == "-" else value
