"""The P1000 number encoding (App. B; Charton 2022, "Linear algebra with transformers").

A real number is rounded to three significant digits and written as three tokens: a sign
(``+`` or ``-``), a mantissa (``0`` .. ``999``) and a power-of-ten exponent (``E-100`` ..
``E100``), value = sign * mantissa * 10**exponent. Trailing zeros of the mantissa are moved into
the exponent, so the encoding is canonical: the paper's example encodes 2.3 as ``+ 23 E-1``, not
``+ 230 E-2`` (docs/REPRODUCTION.md). Zero is ``+ 0 E0``. Rounding is half-up on the shortest
decimal representation of the float (0.6035 -> 604, as in the paper's example).

Two routes compute the same encoding: ``encode_p1000`` (exact decimal arithmetic, one number at
a time, the reference) and ``p1000_triplets`` (vectorised numpy, used to build data sets); the
tests check that they agree. Decoding never raises on model output: a malformed sequence decodes
to ``None`` and is scored as a wrong answer.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Sequence

import numpy as np

from beyond_collapse._validation import as_float_array

EXP_MIN, EXP_MAX = -100, 100
SPECIALS = ("<pad>", "<bos>", "<eos>")
PAD, BOS, EOS = 0, 1, 2
PLUS, MINUS = 3, 4
MANT0 = 5  # id of mantissa token "0"; mantissa m has id MANT0 + m
EXP0 = MANT0 + 1000  # id of exponent token "E-100"; exponent e has id EXP0 + e - EXP_MIN
VOCAB: tuple[str, ...] = (
    SPECIALS + ("+", "-") + tuple(str(m) for m in range(1000))
    + tuple(f"E{e}" for e in range(EXP_MIN, EXP_MAX + 1))
)
VOCAB_SIZE = len(VOCAB)
TOKEN_ID = {tok: i for i, tok in enumerate(VOCAB)}


def _round3_decimal(x: float) -> tuple[int, int, int]:
    """(sign, mantissa, exponent) of ``x`` rounded half-up to three significant digits."""
    d = Decimal(repr(float(x)))
    sign = -1 if d.is_signed() and d != 0 else 1
    d = abs(d)
    if d == 0:
        return 1, 0, 0
    exp = d.adjusted() - 2  # scale so that the mantissa has three digits
    mant = int(d.scaleb(-exp).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if mant == 1000:  # 999.5 rounds up to a fourth digit
        mant, exp = 100, exp + 1
    while mant % 10 == 0:
        mant, exp = mant // 10, exp + 1
    return sign, mant, exp


def encode_p1000(values) -> list[str]:
    """Encode real numbers as P1000 tokens, three per number (App. B).

    ``values``: a number or an array of numbers (flattened in C order). Raises ``ValueError``
    for NaN, infinities, or magnitudes whose exponent falls outside E-100..E100.

    >>> " ".join(encode_p1000([[2.3, 0.6035], [0.6035, -3.141]]))
    '+ 23 E-1 + 604 E-3 + 604 E-3 - 314 E-2'
    """
    x = as_float_array("values", values).ravel()
    if not np.isfinite(x).all():
        raise ValueError(f"values must be finite, got {x[~np.isfinite(x)][0]!r}")
    tokens: list[str] = []
    for v in x:
        sign, mant, exp = _round3_decimal(float(v))
        if not EXP_MIN <= exp <= EXP_MAX:
            raise ValueError(f"values: {float(v)!r} needs exponent E{exp}, outside the P1000 range "
                             f"E{EXP_MIN}..E{EXP_MAX}")
        tokens += ["+" if sign > 0 else "-", str(mant), f"E{exp}"]
    return tokens


def decode_p1000(tokens: Sequence[str]) -> list[float] | None:
    """Decode P1000 tokens into numbers; ``None`` if the sequence is malformed (App. B).

    A well-formed sequence is a whole number of (sign, mantissa, exponent) triplets with sign in
    {+, -}, mantissa an integer token 0..999 and exponent E-100..E100. Anything else (wrong
    length, a token out of place, an unknown token) gives ``None``, never an exception.
    """
    try:
        toks = list(tokens)
    except TypeError:
        return None
    if len(toks) % 3:
        return None
    out: list[float] = []
    for i in range(0, len(toks), 3):
        s, m, e = toks[i:i + 3]
        sign_id, mant_id, exp_id = (TOKEN_ID.get(t) if isinstance(t, str) else None for t in (s, m, e))
        if sign_id not in (PLUS, MINUS) or mant_id is None or exp_id is None:
            return None
        if not (MANT0 <= mant_id < EXP0 and EXP0 <= exp_id < VOCAB_SIZE):
            return None
        value = float(Decimal(mant_id - MANT0).scaleb(exp_id - EXP0 + EXP_MIN))
        out.append(-value if sign_id == MINUS else value)
    return out


def p1000_triplets(values) -> np.ndarray:
    """Vectorised P1000 token ids: an array of shape ``values.shape + (3,)``.

    Same encoding as ``encode_p1000`` (the tests check agreement on random inputs); rounding
    works on the float, with the product rounded to 6 decimals first so that a value printed as
    0.6035 rounds half-up like its decimal form.
    """
    x = as_float_array("values", values)
    if not np.isfinite(x).all():
        raise ValueError("values must be finite")
    a = np.abs(x)
    nz = a > 0
    exp = np.zeros(x.shape, dtype=np.int64)
    exp[nz] = np.floor(np.log10(a[nz])).astype(np.int64) - 2
    mant = np.zeros(x.shape, dtype=np.int64)
    scaled = np.round(a[nz] * 10.0 ** (-exp[nz].astype(np.float64)), 6)
    mant[nz] = np.floor(scaled + 0.5).astype(np.int64)
    # log10 may land one decade off near powers of ten: renormalise to 100..999
    for _ in range(2):
        hi = mant >= 1000
        mant[hi], exp[hi] = np.floor(mant[hi] / 10 + 0.5).astype(np.int64), exp[hi] + 1
        lo = nz & (mant < 100)
        mant[lo], exp[lo] = (np.floor(np.round(a[lo] * 10.0 ** (-(exp[lo] - 1).astype(np.float64)), 6) + 0.5)
                             .astype(np.int64), exp[lo] - 1)
    for _ in range(2):  # strip trailing zeros: canonical form
        z = nz & (mant % 10 == 0)
        mant[z], exp[z] = mant[z] // 10, exp[z] + 1
    if ((exp < EXP_MIN) | (exp > EXP_MAX)).any():
        raise ValueError(f"values: magnitude outside the P1000 range E{EXP_MIN}..E{EXP_MAX}")
    sign = np.where((x < 0) & nz, MINUS, PLUS)
    return np.stack([sign, MANT0 + mant, EXP0 + exp - EXP_MIN], axis=-1)


def p1000_round(values) -> np.ndarray:
    """The numbers that the P1000 encoding of ``values`` represents (three significant digits)."""
    return triplets_to_values(p1000_triplets(values))


def triplets_to_values(ids: np.ndarray) -> np.ndarray:
    """Inverse of ``p1000_triplets`` for well-formed id triplets (last axis of size 3)."""
    ids = np.asarray(ids)
    sign = np.where(ids[..., 0] == MINUS, -1.0, 1.0)
    mant = (ids[..., 1] - MANT0).astype(np.float64)
    exp = (ids[..., 2] - EXP0 + EXP_MIN).astype(np.float64)
    # mant * 10**exp with a negative power would round twice; dividing by 10**-exp rounds once
    return sign * np.where(exp >= 0, mant * 10.0 ** np.abs(exp), mant / 10.0 ** np.abs(exp))


def decode_output_ids(ids: np.ndarray, n_values: int) -> tuple[np.ndarray, np.ndarray]:
    """Decode a batch of generated id sequences (without BOS) into ``n_values`` numbers each.

    Returns ``(values, ok)``: ``values`` of shape (B, n_values) (NaN where malformed) and a
    boolean ``ok``. A sequence is well-formed when it holds exactly ``n_values`` valid triplets
    followed by EOS; anything else (early EOS, no EOS, a token out of place) is malformed.
    """
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f"ids must have shape (batch, length), got shape {ids.shape}")
    length = 3 * n_values
    values = np.full((ids.shape[0], n_values), np.nan)
    if ids.shape[1] < length + 1:
        return values, np.zeros(ids.shape[0], dtype=bool)
    trip = ids[:, :length].reshape(ids.shape[0], n_values, 3)  # (B, n, 3)
    ok = (
        np.isin(trip[..., 0], (PLUS, MINUS)).all(axis=1)
        & ((trip[..., 1] >= MANT0) & (trip[..., 1] < EXP0)).all(axis=1)
        & ((trip[..., 2] >= EXP0) & (trip[..., 2] < VOCAB_SIZE)).all(axis=1)
        & (ids[:, length] == EOS)
    )
    values[ok] = triplets_to_values(trip[ok])
    return values, ok


def ids_to_tokens(ids) -> list[str]:
    """Token strings of a sequence of ids (ids outside the vocabulary become ``<unk>``)."""
    return [VOCAB[i] if 0 <= i < VOCAB_SIZE else "<unk>" for i in (int(j) for j in ids)]
