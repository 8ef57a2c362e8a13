"""Condition D.1 datasets: the Gram matrix, computed by matrix product, has the exact structure."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from beyond_collapse.numerics import condition_d1_dataset


@given(
    labels=st.lists(st.integers(0, 1), min_size=1, max_size=30),
    a=st.floats(0.0, 0.99),
    frac=st.floats(-1.0, 1.0),
)
def test_gram_matrix_is_exactly_condition_d1(labels, a, frac):
    y = np.array(labels)
    b = frac * a  # |b| <= a by construction of the strategy
    X = condition_d1_dataset(y, a, b)
    assert X.dtype == np.float64 and X.shape == (y.size, y.size + 3)
    expected = np.where(y[:, None] == y[None, :], a, b)
    np.fill_diagonal(expected, 1.0)
    np.testing.assert_allclose(X @ X.T, expected, rtol=0, atol=4e-16)


@pytest.mark.parametrize(
    "y,a,b,match",
    [
        (np.array([0, 1]), 1.0, 0.0, "a must lie in"),
        (np.array([0, 1]), 0.3, -0.4, "b must lie in"),
        (np.array([0, 1]), 0.3, 0.31, "b must lie in"),
        (np.array([0, 2]), 0.3, 0.0, "labels 0 and 1"),
        (np.array([]), 0.3, 0.0, "non-empty"),
        (np.zeros((2, 2)), 0.3, 0.0, "1-D"),
        (np.array([0, 1]), float("nan"), 0.0, "a must not be NaN"),
    ],
)
def test_bad_input_raises(y, a, b, match):
    with pytest.raises(ValueError, match=match):
        condition_d1_dataset(y, a, b)
