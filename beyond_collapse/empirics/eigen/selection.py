"""What the verifier decides (Sec. 5.2), in numpy only: errors of decoded labels, keep bits, Table 1.

Every synthesized data set of the eigenvalue experiment is a set of *candidates* (the greedy label
of each prompt, or the k beam labels of each prompt) with one relative L1 error each, and a keep
bit per candidate chosen by a selection rule:

* no selection: the greedy label of every prompt is kept;
* data selection: the greedy label is kept iff its error is below ``tau`` (the oracle verifier);
* label selection: of the k beams of a prompt, the one closest to the truth is kept (none when
  every beam is malformed).

The pipeline saves these per-candidate errors and keep bits with the run (``save_decisions``),
and the theory-vs-experiment export reads them back (``load_decisions``) instead of redoing the
decoding. Nothing here imports torch, so the rules and their tests run without it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from beyond_collapse._validation import check_choice
from beyond_collapse.empirics.eigen.data import relative_l1_error, tau_label
from beyond_collapse.empirics.eigen.tokenizer import decode_output_ids

SELECTIONS = ("none", "data", "label")


def decoded_errors(ids: np.ndarray, eig: np.ndarray) -> np.ndarray:
    """Relative L1 error of each output (inf where malformed); ids (P, k, L), eig (P, n) -> (P, k)."""
    ids, eig = np.asarray(ids), np.asarray(eig)
    if ids.ndim != 3 or eig.ndim != 2 or len(ids) != len(eig):
        raise ValueError(f"ids must be (P, k, L) and eig (P, n) with the same P, got {ids.shape} and {eig.shape}")
    p, k, length = ids.shape
    values, _ = decode_output_ids(ids.reshape(p * k, length), eig.shape[1])
    return relative_l1_error(values.reshape(p, k, -1), eig[:, None, :])


def accuracy_from_err(err: np.ndarray, taus) -> dict[str, float]:
    """Fraction of errors below each tolerance; keys like ``"2%"``."""
    err = np.asarray(err, dtype=float)
    if err.size == 0:
        raise ValueError("err must hold at least one error")
    return {tau_label(t): float(np.mean(err < t)) for t in taus}


def table1_row(err: np.ndarray, taus) -> dict:
    """Oracle-best-of-k and most-likely-beam accuracies from errors (P, k) sorted by beam score."""
    err = np.asarray(err, dtype=float)
    return {"oracle_best": accuracy_from_err(err.min(axis=1), taus),
            "most_likely": accuracy_from_err(err[:, 0], taus),
            "malformed_most_likely": float(np.mean(np.isinf(err[:, 0])))}


def keep_bits(err: np.ndarray, selection: str, tau: float | None = None) -> np.ndarray:
    """The keep bit of every candidate, shape (P, k) like ``err``, for one selection rule.

    ``none`` and ``data`` read the greedy label only (k must be 1); ``data`` needs ``tau``;
    ``label`` keeps, in each row, the candidate with the smallest finite error (first on ties).
    """
    check_choice("selection", selection, SELECTIONS)
    err = np.asarray(err, dtype=float)
    if err.ndim != 2 or err.shape[1] < 1:
        raise ValueError(f"err must have shape (P, k) with k >= 1, got {err.shape}")
    if selection in ("none", "data") and err.shape[1] != 1:
        raise ValueError(f"{selection!r} selection reads greedy labels (k = 1), got k = {err.shape[1]}")
    if selection == "none":
        return np.ones(err.shape, dtype=bool)
    if selection == "data":
        if tau is None or not tau > 0:
            raise ValueError(f"data selection needs a tolerance tau > 0, got {tau}")
        return err < tau
    rows = np.arange(len(err))
    best = err.argmin(axis=1)
    kept = np.zeros(err.shape, dtype=bool)
    kept[rows, best] = np.isfinite(err[rows, best])
    return kept


def kept_labels(ids: np.ndarray, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(prompt indices, label ids) of the kept candidates; ids (P, k, L), kept (P, k), <= 1 per row."""
    if ids.shape[:2] != kept.shape:
        raise ValueError(f"ids (P, k, L) and kept (P, k) disagree: {ids.shape} and {kept.shape}")
    if (kept.sum(axis=1) > 1).any():
        raise ValueError("at most one candidate per prompt may be kept")
    rows = np.flatnonzero(kept.any(axis=1))
    return rows, ids[rows, kept[rows].argmax(axis=1)]


def save_decisions(path: str | os.PathLike, err: np.ndarray, kept: np.ndarray, taus) -> Path:
    """Store what a selection decided, per candidate: error, keep bit, and error < tau for each tau.

    Written atomically (temporary file + ``os.replace``). ``taus`` are stored beside the flags,
    so a reader never has to know the profile.
    """
    err, kept = np.asarray(err, dtype=float), np.asarray(kept, dtype=bool)
    if err.shape != kept.shape:
        raise ValueError(f"err and kept must have the same shape, got {err.shape} and {kept.shape}")
    taus = np.asarray(sorted({float(t) for t in taus}, reverse=True))
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.npz")
    np.savez_compressed(tmp, errors=err.astype(np.float32), kept=kept, taus=taus,
                        within=np.stack([err < t for t in taus]))
    os.replace(tmp, path)
    return path


def load_decisions(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """``{"errors", "kept", "taus", "within"}`` as written by ``save_decisions`` (errors, kept: (P, k))."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"decisions file {str(path)!r} not found: the eigen runs folder of this run is needed")
    with np.load(path) as z:
        return {name: z[name] for name in ("errors", "kept", "taus", "within")}
