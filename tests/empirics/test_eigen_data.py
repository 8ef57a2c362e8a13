"""Matrices, eigenvalue targets, the verifier, and data/label selection (Sec. 5.1-5.2, App. B)."""

import pytest


import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from beyond_collapse.empirics.eigen.data import (
    eigenvalues_desc, random_symmetric, relative_l1_error, sample_examples, verify,
)
from beyond_collapse.empirics.eigen.tokenizer import (
    BOS, EOS, decode_p1000, ids_to_tokens, p1000_round, p1000_triplets,
)


def test_random_symmetric_matrices():
    m = random_symmetric(3, 500, np.random.default_rng(1))
    np.testing.assert_array_equal(m, np.swapaxes(m, 1, 2))
    assert m.min() >= -10 and m.max() <= 10
    np.testing.assert_array_equal(p1000_round(m), m)  # already at P1000 precision
    # U[-10, 10] entries: mean 0 and variance 100/3; 4500 entries (3000 independent), so the mean's
    # standard error is about sqrt(100/3/3000) = 0.105: allow 5 standard errors
    upper = m[:, np.triu_indices(3)[0], np.triu_indices(3)[1]]
    assert abs(upper.mean()) < 0.53
    assert abs(upper.var() - 100 / 3) < 2.0


@given(st.lists(st.floats(-10, 10), min_size=3, max_size=3))
def test_eigenvalues_2x2_closed_form(abc):
    a, b, c = abc
    # 2x2 symmetric: (a + c)/2 +- sqrt(((a - c)/2)^2 + b^2), largest first
    r = np.hypot((a - c) / 2, b)
    expected = [(a + c) / 2 + r, (a + c) / 2 - r]
    np.testing.assert_allclose(eigenvalues_desc([[a, b], [b, c]]), expected, atol=1e-12 * (1 + abs(a) + abs(b) + abs(c)))


def test_eigenvalues_5x5_invariants():
    m = random_symmetric(5, 50, np.random.default_rng(2))
    ev = eigenvalues_desc(m)
    assert (np.diff(ev, axis=1) <= 0).all()  # descending order (documented convention)
    # trace, determinant and Frobenius norm are symmetric functions of the spectrum
    np.testing.assert_allclose(ev.sum(1), np.trace(m, axis1=1, axis2=2), atol=1e-10)
    np.testing.assert_allclose(ev.prod(1), np.linalg.det(m), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose((ev ** 2).sum(1), (m ** 2).sum((1, 2)), rtol=1e-12)


def test_relative_l1_error_and_verifier():
    truth = np.array([3.0, -1.0])  # sum |v| = 4
    pred = np.array([[3.0, -1.0], [3.0625, -1.0], [3.0, -0.875], [np.nan, 0.0]])
    # errors by hand (exact in binary): 0, 0.0625/4, 0.125/4, malformed
    np.testing.assert_array_equal(relative_l1_error(pred, truth), [0, 0.015625, 0.03125, np.inf])
    assert verify(pred, truth, 0.02).tolist() == [True, True, False, False]
    assert verify(pred, truth, 0.015625).tolist() == [True, False, False, False]  # strict inequality
    with pytest.raises(ValueError, match="tau"):
        verify(pred, truth, -0.1)


def test_streams_are_seeded_and_disjoint():
    a = sample_examples(3, 300, 0, "train")
    b = sample_examples(3, 300, 0, "train")
    c = sample_examples(3, 300, 0, "test")
    np.testing.assert_array_equal(a.src, b.src)
    rows = {r.tobytes() for r in a.src}
    assert not any(r.tobytes() in rows for r in c.src)
    # targets are the tokens of the descending eigenvalues of the rounded matrix, framed by BOS/EOS
    assert (a.tgt[:, 0] == BOS).all() and (a.tgt[:, -1] == EOS).all()
    decoded = np.array([decode_p1000(ids_to_tokens(t[1:-1])) for t in a.tgt[:20]])
    np.testing.assert_allclose(decoded, a.eig[:20], rtol=0.005, atol=1e-12)


