"""The claim checks and tables of the eigenvalue report section, on hand-made results documents.

numpy/scipy only: no torch needed.
"""

import math

import pytest
from scipy import stats

from beyond_collapse.empirics.eigen.tables import (
    claims_markdown, difference_interval, paper_claims, scaling_markdown, table1_markdown, table2_markdown,
)


def _trained(*accs):
    seeds = [{"5%": a} for a in accs]
    mean = sum(accs) / len(accs)
    sd = (sum((a - mean) ** 2 for a in accs) / (len(accs) - 1)) ** 0.5
    return {"seeds": seeds, "mean": {"5%": mean}, "sd": {"5%": sd}, "best": {"5%": max(accs)}, "best_seed": 0}


def _doc(no_sel, data_sel, beam5, beam10, greedy_top, beam10_top):
    acc = lambda a: {"5%": a}
    spec = lambda sel, beam, roles=("table2",): {"selection": sel, "beam": beam, "multiple": 5, "tau": 0.05,
                                                 "roles": list(roles), "size": 100, "kept_fraction": 0.5,
                                                 "label_accuracy": acc(0.9)}
    return {
        "profile": "x", "profile_config": {"n_train": 400, "synth_multiple": 1, "beams": [1, 5, 10]},
        "generator": {"test": {"accuracy": acc(0.5), "n": 400}},
        "table1": {"1": {"oracle_best": acc(greedy_top), "most_likely": acc(greedy_top), "malformed_most_likely": 0.0},
                   "10": {"oracle_best": acc(0.9), "most_likely": acc(beam10_top), "malformed_most_likely": 0.0}},
        "datasets": {"none_x5": spec("none", 1, ("table2", "scaling")), "data_5pct_x5": spec("data", 1),
                     "label_b5_x5": spec("label", 5), "label_b10_x5": spec("label", 10, ("table2", "scaling"))},
        "trained": {"none_x5": _trained(no_sel - 0.01, no_sel, no_sel + 0.01),
                    "data_5pct_x5": _trained(data_sel - 0.01, data_sel, data_sel + 0.01),
                    "label_b5_x5": _trained(beam5 - 0.01, beam5, beam5 + 0.01),
                    "label_b10_x5": _trained(beam10 - 0.01, beam10, beam10 + 0.01)},
    }


def test_difference_interval_by_hand():
    diff, low, high = difference_interval([0.6, 0.62, 0.64], 0.5, 0.025)
    half = math.hypot(stats.t.ppf(0.975, 2) * 0.02 / math.sqrt(3), 1.96 * 0.025)
    assert diff == pytest.approx(0.12) and high - diff == pytest.approx(half) and diff - low == pytest.approx(half)
    # one seed: the test-set error alone
    assert difference_interval([0.6], 0.5, 0.025)[1] == pytest.approx(0.1 - 1.96 * 0.025)


def test_claims_that_hold():
    claims = paper_claims(_doc(0.4, 0.6, 0.65, 0.78, 0.5, 0.49))
    assert all(c["held"] is True for c in claims), [c for c in claims if c["held"] is not True]
    by = {c["claim"]: c for c in claims}
    c = by["training on unselected synthetic data does worse than the generator"]
    assert c["difference"] == pytest.approx(-0.1)
    half = math.hypot(stats.t.ppf(0.975, 2) * 0.01 / math.sqrt(3), 1.96 * math.sqrt(0.25 / 400))
    assert c["high"] == pytest.approx(-0.1 + half)


def test_claims_that_fail_or_are_inconclusive():
    claims = paper_claims(_doc(0.6, 0.4, 0.45, 0.44, 0.4, 0.5))
    held = {c["claim"]: c["held"] for c in claims}
    assert held["training on unselected synthetic data does worse than the generator"] is False
    assert held["Data selection 5%, 5x N0 beats the generator"] is False
    assert held["Label selection, beam 10, 5x N0 beats no selection"] is False
    assert held["more beams help (label selection, retrained)"] is None  # 0.44 vs 0.45: the interval covers 0
    assert held["the most likely beam is no better than greedy (Table 1)"] is False  # 0.5 vs 0.4 on 400
    text = claims_markdown(claims)
    assert "inconclusive" in text and text.count("**no**") == sum(1 for c in claims if c["held"] is False)


def test_tables_show_mean_sd_best_and_scaling():
    doc = _doc(0.6, 0.45, 0.55, 0.5, 0.4, 0.5)
    assert "| Beam 10 | 90.0 | 50.0 | 0.0 |" in table1_markdown(doc)
    assert "| Label selection, beam 10, 5x N0 | 100 | 50.0% | 90.0 | 50.0 ± 1.0 (51.0) |" in table2_markdown(doc)
    scaling = scaling_markdown(doc)
    assert "| 5x N0 | label selection, beam 10 | 100 | 50.0 ± 1.0 (51.0) |" in scaling
    assert "| N0 real | generator | 400 | 50.0 |" in scaling


def test_one_seed_gives_no_verdict():
    doc = _doc(0.4, 0.6, 0.65, 0.78, 0.5, 0.49)
    doc["trained"]["data_5pct_x5"] = {**_trained(0.9, 0.9), "seeds": [{"5%": 0.9}], "seeds_planned": 3}
    by = {c["claim"]: c for c in paper_claims(doc)}
    assert by["Data selection 5%, 5x N0 beats the generator"]["held"] == "one seed"
    assert "one seed: no verdict" in claims_markdown(list(by.values()))
    assert "[1 of 3 seeds]" in table2_markdown(doc)
