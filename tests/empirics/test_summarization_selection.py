"""The four selection strategies of Sec. 5.3 at the paper's rates."""

import numpy as np
import pytest

pytestmark = pytest.mark.empirics  # needs the [empirics] extra: pytest -m "not empirics" leaves it out
pytest.importorskip("torch")
pytest.importorskip("transformers")

from beyond_collapse.empirics.summarization.selection import n_selected, select  # noqa: E402

ROUGE = np.array([0.10, 0.90, 0.40, 0.90, 0.05, 0.70, 0.20, 0.30])
PPL_SELF = np.array([3.0, 9.0, 1.5, 4.0, 2.0, 8.0, 7.0, 1.0])
PPL_WEAK = np.array([5.0, 1.0, 6.0, 2.0, 9.0, 3.0, 4.0, 8.0])


def test_rates_give_the_paper_sizes():
    # 12.5% / 25% / 50% of the shipped 2,469 training pairs, rounded to nearest
    assert [n_selected(2469, r) for r in (0.125, 0.25, 0.5)] == [309, 617, 1234]
    assert n_selected(3, 0.01) == 1
    with pytest.raises(ValueError, match="rate"):
        n_selected(10, 0.0)
    with pytest.raises(ValueError, match="n must"):
        n_selected(0, 0.5)


def test_oracle_keeps_the_highest_rouge_with_ties_by_index():
    # top-2 ROUGE: 0.90 at indices 1 and 3; top-3 adds 0.70 at index 5
    assert select("oracle", 0.25, rouge=ROUGE).tolist() == [1, 3]
    assert select("oracle", 0.375, rouge=ROUGE).tolist() == [1, 3, 5]
    tied = np.array([0.5, 0.5, 0.5, 0.1])
    assert select("oracle", 0.5, rouge=tied).tolist() == [0, 1]


def test_self_and_weak_keep_the_lowest_perplexity_of_their_model():
    # sorted PPL_SELF: 1.0 (7), 1.5 (2), 2.0 (4), 3.0 (0); sorted PPL_WEAK: 1.0 (1), 2.0 (3), 3.0 (5), 4.0 (6)
    assert select("self", 0.5, ppl_self=PPL_SELF, ppl_weak=PPL_WEAK).tolist() == [0, 2, 4, 7]
    assert select("weak", 0.5, ppl_self=PPL_SELF, ppl_weak=PPL_WEAK).tolist() == [1, 3, 5, 6]
    with pytest.raises(ValueError, match="ppl_weak"):
        select("weak", 0.5, ppl_self=PPL_SELF)
    with pytest.raises(ValueError, match="NaN"):
        select("self", 0.5, ppl_self=np.array([1.0, np.nan]))


def test_random_is_seeded_uniform_and_of_the_right_size():
    a = select("random", 0.25, n=40, seed=3)
    assert a.tolist() == select("random", 0.25, rouge=np.zeros(40), seed=3).tolist()
    assert len(a) == 10 and len(set(a.tolist())) == 10 and a.min() >= 0 and a.max() < 40
    assert a.tolist() != select("random", 0.25, n=40, seed=4).tolist()
    # each index is kept with probability k/n = 1/4; over 2,000 seeds the inclusion frequency of
    # index 0 has standard error sqrt(0.25 * 0.75 / 2000) = 0.0097: allow 4 standard errors
    hits = np.mean([0 in select("random", 0.25, n=40, seed=s) for s in range(2000)])
    assert abs(hits - 0.25) < 4 * 0.0097
    with pytest.raises(ValueError, match="seed"):
        select("random", 0.25, n=40)
    with pytest.raises(ValueError, match="strategy"):
        select("best", 0.25, rouge=ROUGE)
