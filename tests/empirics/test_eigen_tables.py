"""The claim checks of the eigenvalue report section, on hand-made results documents."""

import pytest

pytest.importorskip("torch")

from beyond_collapse.empirics.eigen.tables import claims_markdown, paper_claims, table1_markdown


def _doc(no_sel, data_sel, beam5, beam10, greedy_top, beam10_top):
    acc = lambda a: {"5%": a}
    return {
        "profile_config": {"n_prompts": 400},
        "generator": {"test": {"accuracy": acc(0.5), "n": 400}},
        "table1": {"1": {"oracle_best": acc(greedy_top), "most_likely": acc(greedy_top), "malformed_most_likely": 0.0},
                   "10": {"oracle_best": acc(0.9), "most_likely": acc(beam10_top), "malformed_most_likely": 0.0}},
        "table2": {"no_selection": {"best": acc(no_sel)}, "data_selection": {"best": acc(data_sel)},
                   "label_selection_beam5": {"best": acc(beam5)}, "label_selection_beam10": {"best": acc(beam10)}},
    }


def test_claims_that_hold():
    claims = {c["claim"]: c for c in paper_claims(_doc(0.4, 0.6, 0.55, 0.7, 0.5, 0.49))}
    assert all(c["held"] for c in claims.values())
    # 0.4 vs 0.5 on 400 test matrices each: s.e. of the difference sqrt(2 * 0.4*0.6/400... ) by hand
    se = (0.4 * 0.6 / 400 + 0.5 * 0.5 / 400) ** 0.5
    assert claims["training on unselected synthetic data does worse than the generator"]["z"] == pytest.approx(-0.1 / se)


def test_claims_that_fail():
    claims = {c["claim"]: c for c in paper_claims(_doc(0.6, 0.45, 0.55, 0.5, 0.4, 0.5))}
    assert not any(c["held"] for c in claims.values())
    text = claims_markdown(list(claims.values()))
    assert text.count("**no**") == 5
    assert "| Beam 10 | 90.0 | 50.0 | 0.0 |" in table1_markdown(_doc(0.6, 0.45, 0.55, 0.5, 0.4, 0.5))
