"""Reading an audit sample: CSV or JSON Lines files, or in-memory columns, and binary columns with
missing values."""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from beyond_collapse._validation import check_choice

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none"})
_TRUE_TOKENS = {"1": 1, "1.0": 1, "true": 1, "0": 0, "0.0": 0, "false": 0}
FORMATS = ("csv", "jsonl")
MAX_FILE_BYTES = 2**30
"""Largest audit file read (1 GiB, some 50 million rows of three 0/1 columns)."""
MAX_FIELD_CHARS = 131_072
"""Largest CSV field (the ``csv`` module's default limit); an audit field is a 0/1 flag."""


def _detect_format(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        return check_choice("format", fmt, FORMATS)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    raise ValueError(f"cannot tell the format of {str(path)!r} from its extension; pass format='csv' or 'jsonl'")


def read_audit_table(path: str | os.PathLike, columns: list[str], fmt: str | None = None) -> dict[str, list]:
    """Read the named ``columns`` of a CSV (header row) or JSON Lines (one object per line) file.

    Returns raw values per column (strings for CSV, JSON values for JSON Lines; a key absent from a
    JSON object reads as None, i.e. missing). Raises ``ValueError`` for an unreadable or empty file,
    for a column that appears nowhere, and beyond the input limits: a file over ``MAX_FILE_BYTES``
    (checked before reading), a CSV field over ``MAX_FIELD_CHARS``, JSON nested deeper than the
    interpreter's recursion limit.
    """
    path = Path(path)
    kind = _detect_format(path, fmt)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ValueError(f"audit file {str(path)!r} has {size} bytes, more than the limit of "
                             f"{MAX_FILE_BYTES} (1 GiB); audit a random subsample of its rows")
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"cannot read audit file {str(path)!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"audit file {str(path)!r} is not UTF-8 text (byte {exc.start})") from None
    if kind == "csv":
        dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
        reader = csv.DictReader(text.splitlines(), dialect=dialect)
        try:
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            rows = list(reader)
        except csv.Error as exc:  # a field over MAX_FIELD_CHARS, a NUL byte, ...
            raise ValueError(f"{str(path)!r} line {reader.line_num + 1} is not valid CSV: {exc}") from None
        present = set(header)
    else:
        rows, present = [], set()
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{str(path)!r} line {lineno} is not valid JSON: {exc.msg}") from None
            except RecursionError:  # nesting deeper than the interpreter's stack (about 1000 levels)
                raise ValueError(f"{str(path)!r} line {lineno} nests JSON too deeply; an audit row is one "
                                 "flat object of 0/1 values") from None
            if not isinstance(obj, dict):
                raise ValueError(f"{str(path)!r} line {lineno} must be a JSON object, got {type(obj).__name__}")
            rows.append(obj)
            present.update(obj)
    if not rows:
        raise ValueError(f"audit file {str(path)!r} has no data rows")
    for col in columns:
        if col not in present:
            shown = ", ".join(sorted(map(str, present))) or "none"
            raise ValueError(f"column {col!r} not found in {str(path)!r} (columns: {shown})")
    return {col: [row.get(col) for row in rows] for col in columns}


def _plain(v):
    """numpy scalars as Python values, so messages show 2, not np.int64(2)."""
    return v.item() if isinstance(v, np.generic) else v


def parse_binary(name: str, values) -> tuple[np.ndarray, np.ndarray]:
    """Turn a column into (values in {0, 1} as int8, missing mask).

    Accepted: 0/1 (ints, floats, strings such as "1" or "1.0") and true/false (booleans or
    strings, any case). Missing: None, NaN and the strings in ``MISSING_TOKENS``. Anything else
    raises ``ValueError`` naming the column, the (1-based) row and the value.
    """
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if arr.ndim != 1:
        raise ValueError(f"column {name!r} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind in "biuf":
        x = arr.astype(np.float64)
        missing = np.isnan(x)
        bad = ~missing & (x != 0) & (x != 1)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"column {name!r} row {i + 1}: value {_plain(arr[i])!r} is not binary "
                             "(expected 0/1 or true/false)")
        return np.where(missing, 0, x).astype(np.int8), missing
    out = np.zeros(len(arr), dtype=np.int8)
    missing = np.zeros(len(arr), dtype=bool)
    for i, v in enumerate(arr):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            missing[i] = True
        elif isinstance(v, (bool, np.bool_)):
            out[i] = int(v)
        elif isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
            out[i] = int(v)
        elif isinstance(v, str) and v.strip().lower() in MISSING_TOKENS:
            missing[i] = True
        elif isinstance(v, str) and v.strip().lower() in _TRUE_TOKENS:
            out[i] = _TRUE_TOKENS[v.strip().lower()]
        else:
            raise ValueError(f"column {name!r} row {i + 1}: value {_plain(v)!r} is not binary "
                             "(expected 0/1 or true/false)")
    return out, missing


def load_columns(source, names: dict, fmt: str | None) -> tuple[str, dict[str, list]]:
    """The columns ``names.values()`` of a file path or an in-memory mapping, and a label of the source."""
    wanted = list(names.values())
    if isinstance(source, (str, os.PathLike)):
        return str(source), read_audit_table(source, wanted, fmt)
    if isinstance(source, Mapping) or hasattr(source, "keys"):
        keys = set(source.keys())
        for col in wanted:
            if col not in keys:
                raise ValueError(f"column {col!r} not found in the audit data (columns: {', '.join(map(str, sorted(keys)))})")
        cols = {col: source[col] for col in wanted}
        lengths = {len(v) for v in cols.values()}
        if len(lengths) != 1:
            raise ValueError(f"audit columns must have equal lengths, got {sorted(lengths)}")
        if lengths == {0}:
            raise ValueError("the audit data have no rows")
        return "<in-memory data>", cols
    raise ValueError(f"source must be a file path or a mapping of column name to values, got {type(source).__name__}")

