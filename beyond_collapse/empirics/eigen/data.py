"""Matrices, eigenvalue targets and the verifier for the eigenvalue task (Sec. 5.1, App. B).

Matrices are symmetric with independent entries U[-10, 10] on and above the diagonal. Each
entry is rounded to the P1000 precision (three significant digits) *before* the eigenvalues are
computed, so the target is exact for the matrix the model sees (docs/REPRODUCTION.md). The
target is the eigenvalue vector sorted in **descending** order (as LAWT does), so it is canonical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from beyond_collapse._validation import as_float_array, check_positive
from beyond_collapse.empirics.eigen.tokenizer import BOS, EOS, PAD, p1000_round, p1000_triplets

ENTRY_LOW, ENTRY_HIGH = -10.0, 10.0


def random_symmetric(n: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` symmetric n x n matrices, entries U[-10, 10] rounded to P1000 (App. B); (count, n, n)."""
    if n < 1 or count < 0:
        raise ValueError(f"n must be >= 1 and count >= 0, got n={n}, count={count}")
    upper = np.triu(rng.uniform(ENTRY_LOW, ENTRY_HIGH, size=(count, n, n)))
    sym = upper + np.swapaxes(np.triu(upper, 1), 1, 2)
    return p1000_round(sym)


def eigenvalues_desc(matrices) -> np.ndarray:
    """Eigenvalues of symmetric matrices, sorted in descending order; shape (..., n)."""
    m = as_float_array("matrices", matrices)
    if m.ndim < 2 or m.shape[-1] != m.shape[-2]:
        raise ValueError(f"matrices must have shape (..., n, n), got {m.shape}")
    return np.linalg.eigvalsh(m)[..., ::-1]


def relative_l1_error(pred, truth) -> np.ndarray:
    """sum_i |v_i - p_i| / sum_i |v_i| over the last axis (App. B, Evaluation); NaN predictions give inf."""
    p = np.asarray(pred, dtype=np.float64)
    v = as_float_array("truth", truth)
    err = np.abs(v - p).sum(axis=-1) / np.abs(v).sum(axis=-1)
    return np.where(np.isnan(err), np.inf, err)


def verify(pred, truth, tau) -> np.ndarray:
    """The verifier of App. B: True where sum|v - p| < tau * sum|v| (malformed, i.e. NaN, is False)."""
    tau = check_positive("tau", tau)
    return relative_l1_error(pred, truth) < tau


def accuracy(pred, truth, taus) -> dict[str, float]:
    """Fraction verified correct at each tolerance; keys like ``"2%"``."""
    err = relative_l1_error(pred, truth)
    return {tau_label(t): float(np.mean(err < t)) for t in taus}


def tau_label(tau: float) -> str:
    return f"{100 * tau:g}%"


@dataclass
class Examples:
    """Tokenised examples: ``src`` (N, 3 n^2) matrix tokens, ``tgt`` (N, T) BOS + tokens + EOS + PAD."""

    src: np.ndarray
    tgt: np.ndarray
    eig: np.ndarray  # (N, n) true eigenvalues of the (rounded) matrices, for the verifier

    def __len__(self) -> int:
        return len(self.src)

    def subset(self, idx) -> "Examples":
        return Examples(self.src[idx], self.tgt[idx], self.eig[idx])


def target_length(n: int) -> int:
    """BOS + 3 n value tokens + EOS."""
    return 3 * n + 2


def encode_matrices(matrices: np.ndarray) -> np.ndarray:
    """Encoder input ids: all n^2 entries in row-major order, three tokens each (App. B)."""
    count = matrices.shape[0]
    return p1000_triplets(matrices).reshape(count, -1)


def make_examples(matrices: np.ndarray) -> Examples:
    """Ground-truth examples: targets are the P1000 tokens of the descending eigenvalues."""
    eig = eigenvalues_desc(matrices)
    count, n = eig.shape
    tgt = np.full((count, target_length(n)), PAD, dtype=np.int64)
    tgt[:, 0] = BOS
    tgt[:, 1:-1] = p1000_triplets(eig).reshape(count, -1)
    tgt[:, -1] = EOS
    return Examples(encode_matrices(matrices), tgt, eig)


def sample_examples(n: int, count: int, seed: int, stream: str) -> Examples:
    """Fresh examples from a named random stream (``train``, ``test``, ``prompts``...).

    Streams with different names draw independent matrices, so train, test and prompt sets are
    disjoint with probability one (continuous entries; the tests check there are no collisions).
    """
    check_positive("count", count)
    key = [seed, *(ord(c) for c in stream)]
    return make_examples(random_symmetric(n, count, np.random.default_rng(key)))


def synthetic_examples(src: np.ndarray, eig: np.ndarray, generated: np.ndarray) -> Examples:
    """Examples whose targets are a generator's output ids (without BOS, PAD after EOS), as produced.

    An output without EOS gets one in its last position, so every target is terminated. No check
    of well-formedness is made here: that is the job of the selection step.
    """
    count, length = generated.shape
    tgt = np.full((count, length + 1), PAD, dtype=np.int64)
    tgt[:, 0] = BOS
    tgt[:, 1:] = generated
    tgt[~(generated == EOS).any(axis=1), -1] = EOS
    return Examples(src.copy(), tgt, eig.copy())
