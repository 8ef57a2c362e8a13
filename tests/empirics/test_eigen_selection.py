"""The verifier's decisions (Sec. 5.2): errors of decoded labels, keep bits, Table 1, saved decisions.

numpy only: these tests must pass without torch installed.
"""

import numpy as np
import pytest

from beyond_collapse.empirics.eigen.data import sample_examples, synthetic_examples
from beyond_collapse.empirics.eigen.selection import (
    decoded_errors, keep_bits, kept_labels, load_decisions, save_decisions, table1_row,
)
from beyond_collapse.empirics.eigen.tokenizer import EOS, PAD, decode_p1000, ids_to_tokens, p1000_triplets


def _ids(values_rows):
    """Output ids (no BOS) for rows of eigenvalue predictions; None makes a malformed row."""
    rows = []
    for v in values_rows:
        rows.append([PAD] * 7 if v is None else p1000_triplets(np.array(v)).reshape(-1).tolist() + [EOS])
    return np.array(rows)


def _string_error(ids_row, truth):
    """Reference error through the string decoder, an independent route from ``decoded_errors``."""
    stop = list(ids_row).index(EOS) if EOS in ids_row else len(ids_row)
    dec = decode_p1000(ids_to_tokens(ids_row[:stop]))
    return np.inf if dec is None else np.abs(np.array(dec) - truth).sum() / np.abs(truth).sum()


def test_data_label_and_no_selection():
    prompts = sample_examples(2, 3, 5, "prompts")
    v = prompts.eig
    greedy = _ids([v[0] * 1.001, v[1] * 1.5, None])[:, None, :]
    err = decoded_errors(greedy, v)
    assert err[:, 0] == pytest.approx([_string_error(r, t) for r, t in zip(greedy[:, 0], v)])
    assert keep_bits(err, "data", 0.02)[:, 0].tolist() == [True, False, False]
    assert keep_bits(err, "none").all()

    # three beams per prompt, best-scored first; the verifier keeps the one closest to the truth
    beams = np.stack([_ids([v[0] * 1.2, v[0] * 1.01, v[0] * 0.9]), _ids([None, v[1] * 1.3, v[1] * 0.7]),
                      _ids([None, None, None])])
    err = decoded_errors(beams, v)
    kept = keep_bits(err, "label")
    assert kept.sum(axis=1).tolist() == [1, 1, 0]  # no well-formed beam: nothing to keep
    rows, chosen = kept_labels(beams, kept)
    assert rows.tolist() == [0, 1]
    for i, label in zip(rows, chosen):  # brute force over decoded strings: the smallest error
        errs = [_string_error(b, v[i]) for b in beams[i]]
        np.testing.assert_array_equal(label, beams[i][int(np.argmin(errs))])
    ds = synthetic_examples(prompts.src[rows], prompts.eig[rows], chosen)
    assert len(ds) == 2 and (ds.tgt[:, -1] == EOS).all()


def test_rules_refuse_what_they_cannot_read():
    err = np.array([[0.1, 0.2]])
    with pytest.raises(ValueError, match="greedy"):
        keep_bits(err, "data", 0.05)
    with pytest.raises(ValueError, match="tolerance"):
        keep_bits(err[:, :1], "data")
    with pytest.raises(ValueError, match="selection"):
        keep_bits(err, "oracle")
    with pytest.raises(ValueError, match="at most one"):
        kept_labels(np.zeros((1, 2, 7), int), np.array([[True, True]]))


def test_table1_row_by_hand():
    # errors sorted by beam score: the most likely beam is column 0
    err = np.array([[0.03, 0.01], [0.08, 0.03], [np.inf, np.inf], [0.01, 0.5]])
    row = table1_row(err, (0.05, 0.02))
    assert row["oracle_best"] == {"5%": 0.75, "2%": 0.5}
    assert row["most_likely"] == {"5%": 0.5, "2%": 0.25}
    assert row["malformed_most_likely"] == 0.25


def test_decisions_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    err = np.where(rng.random((50, 3)) < 0.1, np.inf, rng.random((50, 3)) * 0.1)
    kept = keep_bits(err, "label")
    path = save_decisions(tmp_path / "d.npz", err, kept, [0.02, 0.05])
    got = load_decisions(path)
    np.testing.assert_array_equal(got["kept"], kept)
    np.testing.assert_allclose(got["errors"], err, rtol=1e-7)  # stored as float32
    assert got["taus"].tolist() == [0.05, 0.02]
    np.testing.assert_array_equal(got["within"], np.stack([err < 0.05, err < 0.02]))
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
    with pytest.raises(ValueError, match="not found"):
        load_decisions(tmp_path / "missing.npz")
