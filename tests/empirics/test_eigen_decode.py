"""Greedy decoding and batched beam search (Sec. 5.1, Table 1) on a tiny random transformer."""

import pytest

pytestmark = pytest.mark.empirics  # needs the [empirics] extra: pytest -m "not empirics" leaves it out
torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # tiny models: threads only add synchronisation cost on a shared machine

import numpy as np

from beyond_collapse.empirics.eigen.data import sample_examples
from beyond_collapse.empirics.eigen.decode import beam_search, greedy
from beyond_collapse.empirics.eigen.model import ModelConfig, Seq2Seq
from beyond_collapse.empirics.eigen.tokenizer import BOS, EOS, PAD


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    cfg = ModelConfig(n=1, d_model=16, n_heads=2, enc_layers=1, dec_layers=1, dim_ff=32)
    model = Seq2Seq(cfg).eval()
    # sharpen the output layer so that a few tokens (EOS among them) carry most of the mass
    with torch.no_grad():
        model.out.weight.mul_(8.0)
        model.out.bias[EOS] += 4.0
    return model, sample_examples(1, 12, 0, "test").src


def _teacher_forced_loglik(model, src, ids):
    """Sum of log p(token | prefix) up to and including EOS, by one forward pass on the full sequence."""
    src_t = torch.as_tensor(src)
    tgt = torch.cat([torch.full((len(ids), 1), BOS), torch.as_tensor(ids)], dim=1)
    with torch.no_grad():
        logp = torch.log_softmax(model(src_t, tgt[:, :-1]).double(), dim=-1)
    tok_lp = logp.gather(-1, tgt[:, 1:, None])[..., 0]
    live = torch.ones_like(tok_lp, dtype=torch.bool)
    for i, row in enumerate(ids):
        stop = np.flatnonzero(row == EOS)
        if stop.size:
            live[i, stop[0] + 1:] = False
    return (tok_lp * live).sum(dim=1).numpy()


def test_beam_one_equals_greedy(tiny):
    model, src = tiny
    g_ids, g_ll = greedy(model, src)
    b_ids, b_sc = beam_search(model, src, 1)
    np.testing.assert_array_equal(b_ids[:, 0], g_ids)
    np.testing.assert_allclose(b_sc[:, 0], g_ll, rtol=1e-5)


def test_beams_sorted_and_scores_are_log_likelihoods(tiny):
    model, src = tiny
    ids, scores = beam_search(model, src, 6, batch_size=5)
    assert ids.shape == (len(src), 6, 4) and scores.shape == (len(src), 6)
    assert (np.diff(scores, axis=1) <= 1e-6).all()
    # every returned score equals the hypothesis' log-likelihood computed another way (teacher forcing)
    flat = ids.reshape(-1, 4)
    np.testing.assert_allclose(scores.reshape(-1), _teacher_forced_loglik(model, np.repeat(src, 6, axis=0), flat),
                               rtol=1e-4, atol=1e-4)
    # beams of one prompt are distinct hypotheses, and PAD only ever follows EOS
    for p in range(len(src)):
        assert len({tuple(r) for r in ids[p]}) == 6
    for row in flat:
        pads = np.flatnonzero(row == PAD)
        if pads.size:
            assert EOS in row[: pads[0]]


def test_beam_search_batching_does_not_change_results(tiny):
    model, src = tiny
    a_ids, a_sc = beam_search(model, src, 4, batch_size=1)
    b_ids, b_sc = beam_search(model, src, 4, batch_size=12)
    np.testing.assert_array_equal(a_ids, b_ids)
    np.testing.assert_allclose(a_sc, b_sc, rtol=1e-5, atol=1e-6)


def test_bad_arguments(tiny):
    model, src = tiny
    with pytest.raises(ValueError, match="k must be"):
        beam_search(model, src, 0)
    with pytest.raises(ValueError, match="batch_size"):
        greedy(model, src, batch_size=0)


@pytest.mark.parametrize("norm_first", [True, False])
def test_incremental_decoding_equals_the_full_decoder(norm_first):
    """decode_step with its cache gives the logits of decode() on the whole prefix, position by position,
    for pre-norm and post-norm layers and more than one decoder layer."""
    torch.manual_seed(1)
    cfg = ModelConfig(n=2, d_model=16, n_heads=2, enc_layers=1, dec_layers=2, dim_ff=32, norm_first=norm_first)
    model = Seq2Seq(cfg).eval()
    data = sample_examples(2, 5, 0, "test")
    src, tgt = torch.as_tensor(data.src), torch.as_tensor(data.tgt)
    with torch.no_grad():
        memory = model.encode(src)
        full = model.decode(memory, tgt[:, :-1])  # (B, T, V)
        cache = None
        for t in range(tgt.shape[1] - 1):
            logits, cache = model.decode_step(memory, tgt[:, t], cache)
            torch.testing.assert_close(logits, full[:, t], rtol=1e-5, atol=1e-5)
    assert len(cache) == 2 and cache[0].shape == (5, tgt.shape[1] - 1, 16)
