"""ROUGE-1, summary-only perplexity, greedy decoding and resumable synthesis (Sec. 5.3, App. C)."""

import json
import math

import numpy as np
import pytest

pytestmark = pytest.mark.empirics  # needs the [empirics] extra: pytest -m "not empirics" leaves it out
pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch  # noqa: E402

from beyond_collapse.empirics.summarization.data import Pair  # noqa: E402
from beyond_collapse.empirics.summarization.modeling import (  # noqa: E402
    Encoder, TinyLlamaSpec, tiny_llama, train_tokenizer,
)
from beyond_collapse.empirics.summarization.scoring import (  # noqa: E402
    greedy_summaries, rouge1, summary_logprobs, summary_perplexity, synthesize,
)

CORPUS = [
    "The council approved the new budget for schools and roads on Monday.",
    "Police said the driver was taken to hospital after the crash near the bridge.",
    "The club confirmed the striker had signed a new three-year contract.",
    "Heavy rain closed two schools and flooded the main road into town.",
] * 5
ARTICLES = [CORPUS[i % 4] + " " + CORPUS[(i + 1) % 4][: 10 + 3 * i] for i in range(10)]


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    tok = train_tokenizer(CORPUS, 300, tmp_path_factory.mktemp("tok"))
    spec = TinyLlamaSpec(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2)
    model = tiny_llama(tok, spec, max_positions=64, seed=7).eval()
    with torch.no_grad():  # larger random weights: sharper, varied next-token distributions
        for p in model.parameters():
            p.mul_(8.0)
    return tok, model, Encoder(tok, block_size=64, max_summary_tokens=5)


def test_rouge1_matches_hand_counts():
    # hand: "the cat sat" vs "the cat ran": 2 shared unigrams, P = R = 2/3, F = 2/3
    # "a b c d" vs "a b": P = 2/4, R = 2/2, F = 2 * 0.5 * 1 / 1.5 = 2/3
    # rouge-score lowercases and drops punctuation; "Cats" stems to "cat"
    got = rouge1(["the cat sat", "a b c d", "Cats, RAN!", "", "x y"], ["the cat ran", "a b", "cat ran", "a b", "z"])
    np.testing.assert_allclose(got, [2 / 3, 2 / 3, 1.0, 0.0, 0.0], rtol=0, atol=1e-12)
    # without the stemmer "cats" and "cat" differ: 1 shared of 2 and 2 -> 1/2
    assert rouge1(["Cats ran"], ["cat ran"], use_stemmer=False)[0] == pytest.approx(0.5, abs=1e-12)
    with pytest.raises(ValueError, match="equal length"):
        rouge1(["a"], [])


def test_summary_perplexity_matches_a_hand_computation(lm):
    tok, model, enc = lm
    pairs = [Pair(ARTICLES[0], "Budget approved."), Pair(ARTICLES[5][:30], "Crash on the bridge, driver hurt badly.")]
    encoded = [enc.encode(p) for p in pairs]
    assert len(encoded[0].prompt_ids) != len(encoded[1].prompt_ids)  # batch needs padding
    got = summary_perplexity(model, encoded, pad_id=tok.pad_token_id, batch_size=2)
    for e, ppl in zip(encoded, got):
        ids = torch.tensor([e.prompt_ids + e.target_ids])
        with torch.no_grad():  # one unpadded sequence; float64 log-softmax of its logits
            logp = torch.log_softmax(model(input_ids=ids).logits[0].double(), dim=-1)
        n0 = len(e.prompt_ids)
        nll = -sum(logp[t - 1, ids[0, t]].item() for t in range(n0, ids.shape[1]))
        assert ppl == pytest.approx(math.exp(nll / len(e.target_ids)), rel=1e-4)  # float32 model
    # perplexity of the summary only: changing the article changes it, but only through the context
    lp = summary_logprobs(model, encoded, pad_id=tok.pad_token_id, batch_size=1)
    assert [len(x) for x in lp] == [len(e.target_ids) for e in encoded]


def _manual_greedy(model, tok, prompt, max_new):
    ids = list(prompt)
    out = []
    with torch.no_grad():
        for _ in range(max_new):
            nxt = int(model(input_ids=torch.tensor([ids])).logits[0, -1].argmax())
            if nxt == tok.eos_token_id:
                break
            out.append(nxt)
            ids.append(nxt)
    return tok.decode(out, skip_special_tokens=True).strip()


def test_greedy_batched_generation_matches_a_manual_argmax_loop(lm):
    tok, model, enc = lm
    arts = ARTICLES[:5]
    got = greedy_summaries(model, enc, arts, batch_size=3)  # left-padded batches of mixed lengths
    want = [_manual_greedy(model, tok, enc.prompt(a), enc.max_summary_tokens) for a in arts]
    assert got == want
    assert any(want)  # the check is not vacuous: the model emits tokens


def test_synthesis_resumes_after_an_interruption(lm, tmp_path):
    tok, model, enc = lm
    arts = ARTICLES[:7]
    full = synthesize(model, enc, arts, tmp_path / "full.jsonl", chunk_size=2, batch_size=2)

    class Stop(Exception):
        pass

    def stop_after_two(k):
        if k == 1:
            raise Stop

    path = tmp_path / "part.jsonl"
    with pytest.raises(Stop):
        synthesize(model, enc, arts, path, chunk_size=2, batch_size=2, on_chunk=stop_after_two)
    assert [json.loads(line)["chunk"] for line in path.read_text().splitlines()] == [0, 1]
    with open(path, "a") as fh:  # a record cut mid-write by the interruption
        fh.write('{"chunk": 2, "summ')
    seen = []
    resumed = synthesize(model, enc, arts, path, chunk_size=2, batch_size=2, on_chunk=seen.append)
    assert seen == [2, 3]  # only the missing chunks were generated
    assert resumed == full
    assert len(full) == len(arts)
    # a finished file is read back without generating anything
    again = []
    assert synthesize(model, enc, arts, path, chunk_size=2, batch_size=2, on_chunk=again.append) == full
    assert again == []
