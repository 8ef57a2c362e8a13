"""Input checks shared by the public API.

Every public function validates its inputs here and raises ``ValueError`` naming the parameter,
the offending value and the valid range (DESIGN.md, Conventions). Kernels (numba, vectorised
inner loops) assume validated input and do no checking of their own.
"""

from __future__ import annotations

import os

import numpy as np


def _describe(x: np.ndarray, bad: np.ndarray) -> str:
    """Show the first offending value (arrays can be large)."""
    if x.ndim == 0:
        return repr(float(x))
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"{float(x[idx])!r} at index {idx}"


def _short_repr(value, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters (a 400-digit integer or a big list stays readable)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def as_float_array(name: str, value) -> np.ndarray:
    """Convert ``value`` to a float64 array, rejecting None, NaN and non-numeric input.

    Python integers beyond the float range (``10**400``) raise ``ValueError`` naming ``name``,
    not numpy's ``OverflowError``; ``None`` (which numpy turns into NaN) is named as ``None``.
    """
    must = f"{name} must be a real number or array of real numbers"
    kind = getattr(value, "dtype", None)
    kind = kind.kind if isinstance(kind, np.dtype) else None
    if isinstance(value, (bool, np.bool_, complex, np.complexfloating, str, bytes)) or kind in ("b", "c", "U", "S"):
        # numpy would turn True into 1.0, "0.5" into 0.5 and drop an imaginary part with only a warning
        raise TypeError(f"{must}, got {type(value).__name__} {_short_repr(value)}"
                        + (f" of dtype {value.dtype}" if kind else ""))
    try:
        x = np.asarray(value, dtype=np.float64)
    except OverflowError:
        raise ValueError(f"{must} within the float range (|x| <= 1.8e308), got {_short_repr(value)}") from None
    except (TypeError, ValueError):
        raise ValueError(f"{must}, got {_short_repr(value)}") from None
    if isinstance(value, (list, tuple)) and any(isinstance(v, (bool, complex, str, bytes))
                                                for v in np.ravel(np.array(value, dtype=object))):
        raise TypeError(f"{must}, got {_short_repr(value)} (bool, complex or string entries)")
    nan = np.isnan(x)
    if nan.any():
        if not isinstance(value, np.ndarray) or value.dtype == object:
            none = np.asarray(np.equal(np.asarray(value, dtype=object), None), dtype=bool)
            if none.any():
                where = "" if x.ndim == 0 else f" at index {tuple(int(i) for i in np.argwhere(none)[0])}"
                raise ValueError(f"{must}, got None{where}")
        raise ValueError(f"{name} must not be NaN, got {_describe(x, nan)}")
    return x


def check_finite(name: str, value) -> np.ndarray:
    """Return ``value`` as a float array after checking that every entry is finite (not +-inf)."""
    x = as_float_array(name, value)
    bad = ~np.isfinite(x)
    if bad.any():
        raise ValueError(f"{name} must be finite, got {_describe(x, bad)}")
    return x


def check_broadcast(**arrays) -> list[np.ndarray]:
    """``numpy.broadcast_arrays`` of the named arrays; shapes that do not broadcast raise a
    ``ValueError`` naming every parameter with its shape (numpy's message names none)."""
    try:
        return np.broadcast_arrays(*arrays.values())
    except ValueError:
        shapes = ", ".join(f"{name} {np.shape(a)}" for name, a in arrays.items())
        raise ValueError(f"the shapes of {shapes} do not broadcast to one shape") from None


def check_labels(name: str, value) -> np.ndarray:
    """Return ``value`` as an int8 array after checking every entry is a label 0 or 1 (the package's
    convention, y in {0, 1}; bool arrays are read as 0/1)."""
    y = np.asarray(value)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold labels 0/1, got an array of dtype {y.dtype}")
    bad = ~np.isin(y, (0, 1))
    if bad.any():
        first = y[tuple(np.argwhere(bad)[0])] if y.ndim else y
        raise ValueError(f"{name} must hold labels 0/1 (the convention y in {{0, 1}}), got {_plain(first)!r}")
    return y.astype(np.int8)


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def check_memory(what: str, n_bytes: int) -> None:
    """Refuse, before allocating, ``n_bytes`` (an int: exact however large) beyond this machine's physical memory."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not available (e.g. Windows): 1 TiB
        total = 2**40
    if n_bytes > total:
        gib = n_bytes / 2**30 if n_bytes < 2**1000 else float("inf")
        raise ValueError(f"{what} would need {gib:.4g} GiB of memory, more than this "
                         f"machine's {total / 2**30:.4g} GiB")


def check_count(name: str, value, minimum: int = 0) -> int:
    """Return ``value`` as an ``int`` after checking it is an integer (Python or numpy, not bool) ``>= minimum``.

    A float (``1e3``, ``inf``) or a bool is a ``TypeError`` naming ``name``; a smaller value a ``ValueError``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {_short_repr(value)} "
                        f"of type {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {_short_repr(value)}")
    return int(value)


def check_in_interval(
    name: str,
    value,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> np.ndarray:
    """Return ``value`` as a float array after checking ``low <(=) value <(=) high``.

    Raises ``ValueError`` naming the parameter, the first bad value and the interval.
    """
    x = as_float_array(name, value)
    too_low = x <= low if low_open else x < low
    too_high = x >= high if high_open else x > high
    bad = too_low | too_high
    if bad.any():
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{name} must lie in {interval}, got {_describe(x, bad)}")
    return x


def check_probability(name: str, value, *, open_low: bool = False, open_high: bool = False) -> np.ndarray:
    """Probabilities live in [0, 1] (optionally open at either end)."""
    return check_in_interval(name, value, 0.0, 1.0, low_open=open_low, high_open=open_high)


def check_positive(name: str, value, *, allow_zero: bool = False) -> np.ndarray:
    """Check ``value > 0`` (or ``>= 0``) and finite."""
    x = as_float_array(name, value)
    bad = ~np.isfinite(x) | ((x < 0) if allow_zero else (x <= 0))
    if bad.any():
        rng = "[0, inf)" if allow_zero else "(0, inf)"
        raise ValueError(f"{name} must be finite and lie in {rng}, got {_describe(x, bad)}")
    return x


def check_choice(name: str, value: str, choices) -> str:
    """Reject option values outside ``choices``, listing the allowed ones."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def scalar_or_array(x: np.ndarray):
    """Return a Python float for 0-d results so scalars in give scalars out."""
    return float(x) if np.ndim(x) == 0 else x
