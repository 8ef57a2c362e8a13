"""P1000 tokenizer (App. B): the paper's example, round trips, two independent encoders, malformed input."""

import pytest

pytestmark = pytest.mark.empirics  # needs the [empirics] extra: pytest -m "not empirics" leaves it out
pytest.importorskip("torch")

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from beyond_collapse.empirics.eigen.tokenizer import (
    EOS, PAD, TOKEN_ID, VOCAB_SIZE, decode_output_ids, decode_p1000, encode_p1000, p1000_round,
    p1000_triplets,
)

# finite magnitudes whose P1000 exponent stays inside E-100..E100
reals = st.floats(min_value=-1e90, max_value=1e90, allow_nan=False, allow_infinity=False).filter(
    lambda x: x == 0 or abs(x) > 1e-90)


def test_paper_example_encodes_exactly():
    # App. B: the 2x2 matrix [[2.3, 0.6035], [0.6035, -3.141]] "will be encoded as the sequence of 12 tokens"
    tokens = encode_p1000([[2.3, 0.6035], [0.6035, -3.141]])
    assert " ".join(tokens) == "+ 23 E-1 + 604 E-3 + 604 E-3 - 314 E-2"


def test_vocabulary_size():
    # 3 specials + 2 signs + 1000 mantissas + 201 exponents (E-100..E100)
    assert VOCAB_SIZE == 3 + 2 + 1000 + 201


@given(reals)
def test_round_trip_within_three_significant_digits(x):
    (y,) = decode_p1000(encode_p1000(x))
    # rounding to 3 significant digits moves a number by at most half a unit of the third digit,
    # i.e. by at most 0.5/100 of its magnitude (mantissa >= 100 before trailing zeros are stripped)
    assert abs(y - x) <= 0.005 * abs(x) * (1 + 1e-12)
    assert encode_p1000(y) == encode_p1000(x)  # rounding is idempotent


@given(st.lists(reals, min_size=1, max_size=20))
def test_vectorised_encoder_matches_decimal_reference(values):
    ids = p1000_triplets(np.array(values)).reshape(-1)
    assert [TOKEN_ID[t] for t in encode_p1000(values)] == ids.tolist()


def test_vectorised_encoder_on_rounding_edges():
    # values at half-way points and decade boundaries, where float and decimal rounding can differ
    edges = [0.6035, 9.995, 99.95, 999.5, 1000.0, 0.001, 0.0625, 1e-98, -2.5e-5, 0.0, 12.345, 1.0005]
    ids = p1000_triplets(np.array(edges)).reshape(-1)
    assert [TOKEN_ID[t] for t in encode_p1000(edges)] == ids.tolist()
    # hand-rounded, half-up on the decimal form: 9.995 -> 10.0 -> "+ 1 E1", 999.5 -> 1000 -> "+ 1 E3"
    assert encode_p1000(9.995) == ["+", "1", "E1"]
    assert encode_p1000(999.5) == ["+", "1", "E3"]
    assert encode_p1000(0.0) == ["+", "0", "E0"]
    # the double nearest 2.675 is 2.67499999999999982236431605997495353221893310546875 (Decimal(2.675));
    # rounding is half-up on the printed form, so it still gives 268, by both encoders
    assert encode_p1000(2.675) == ["+", "268", "E-2"]
    assert p1000_triplets(np.array([2.675])).reshape(-1).tolist() == [TOKEN_ID[t] for t in ("+", "268", "E-2")]
    np.testing.assert_array_equal(p1000_round([12.345, -0.6035]), [12.3, -0.604])


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 1e-150, -3e120])
def test_encode_rejects_unencodable(bad):
    with pytest.raises(ValueError, match="values"):
        encode_p1000([1.0, bad])


@pytest.mark.parametrize("tokens", [
    ["+", "23"],                       # incomplete triplet
    ["23", "+", "E-1"],                # out of order
    ["*", "23", "E-1"],                # unknown sign
    ["+", "1000", "E-1"],              # mantissa out of range
    ["+", "023", "E-1"],               # not a vocabulary token
    ["+", "23", "E101"],               # exponent out of range
    ["+", "23", "E-1", "<eos>", "+", "1"],
    ["+", 23, "E-1"],                  # not a string
])
def test_decode_malformed_is_none(tokens):
    assert decode_p1000(tokens) is None


def test_decode_never_raises_on_garbage():
    rng = np.random.default_rng(0)
    from beyond_collapse.empirics.eigen.tokenizer import VOCAB
    for _ in range(200):
        toks = [VOCAB[i] for i in rng.integers(0, VOCAB_SIZE, size=rng.integers(0, 10))]
        out = decode_p1000(toks)
        assert out is None or len(out) == len(toks) // 3
    assert decode_p1000(None) is None


def test_decode_output_ids_flags_structure():
    good = p1000_triplets([2.3, -0.6035]).reshape(-1).tolist() + [EOS]
    no_eos = good[:-1] + [PAD]
    early_eos = good[:3] + [EOS] + [PAD] * 3
    swapped = [good[1], good[0]] + good[2:]
    values, ok = decode_output_ids(np.array([good, no_eos, early_eos, swapped]), 2)
    assert ok.tolist() == [True, False, False, False]
    np.testing.assert_allclose(values[0], [2.3, -0.604], rtol=1e-15)
    assert np.isnan(values[1:]).all()
    # the string decoder agrees with the id decoder on the well-formed sequence
    from beyond_collapse.empirics.eigen.tokenizer import ids_to_tokens
    assert decode_p1000(ids_to_tokens(good[:-1])) == values[0].tolist()


def test_cli_encode_decode(capsys):
    from beyond_collapse.cli import main
    assert main(["eigen", "encode", "--", "2.3", "0.6035", "-3.141"]) == 0
    assert capsys.readouterr().out.strip() == "+ 23 E-1 + 604 E-3 - 314 E-2"
    assert main(["eigen", "decode", "--", "+", "23", "E-1", "-", "314", "E-2"]) == 0
    assert capsys.readouterr().out.strip() == "2.3 -3.14"
    assert main(["eigen", "decode", "--", "+", "23"]) == 1
    assert capsys.readouterr().out.strip() == "malformed"
    assert main(["eigen", "encode", "nan"]) == 2  # ValueError -> one line on stderr, status 2
    assert "values must not be NaN" in capsys.readouterr().err


def test_registering_the_commands_does_not_import_torch():
    import subprocess
    import sys
    code = ("import sys, beyond_collapse, beyond_collapse.empirics.eigen.commands, "
            "beyond_collapse.report.sections.eigen; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
