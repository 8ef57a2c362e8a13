"""Prompt building (App. C), encoding with truncation, the loss mask, LM blocks and data loading."""

import json

import pytest

pytestmark = pytest.mark.empirics  # needs the [empirics] extra: pytest -m "not empirics" leaves it out
pytest.importorskip("torch")
pytest.importorskip("transformers")

from beyond_collapse.empirics.summarization.data import (  # noqa: E402
    DATA_DIR, Pair, build_prompt, format_example, load_pairs,
)
from beyond_collapse.empirics.summarization.modeling import (  # noqa: E402
    Encoded, Encoder, PadCollator, lm_blocks, train_tokenizer, training_features,
)

CORPUS = [
    "The council approved the new budget for schools and roads on Monday.",
    "Police said the driver was taken to hospital after the crash near the bridge.",
    "The club confirmed the striker had signed a new three-year contract.",
    "A summary of the article: the weather stayed dry across the region.",
] * 5


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    return train_tokenizer(CORPUS, 320, tmp_path_factory.mktemp("tok"))


def test_prompt_is_the_app_c_format():
    # App. C: "Article: news. A summary of the article: summarization."
    assert build_prompt("  Rain fell in Leeds \n") == "Article: Rain fell in Leeds. A summary of the article:"
    assert format_example("Rain fell", " Wet day. ") == "Article: Rain fell. A summary of the article: Wet day."
    with pytest.raises(ValueError, match="article"):
        build_prompt(None)


def test_tokenizer_round_trips_and_has_specials(tok):
    text = "Police said the driver was taken to hospital."
    assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text
    assert (tok.pad_token_id, tok.eos_token_id) == (0, 1)
    assert len(tok) == 320


def test_encoder_concatenation_decodes_to_the_prompt_and_fits_the_block(tok):
    enc = Encoder(tok, block_size=96, max_summary_tokens=12)
    assert enc.max_article_tokens >= len(tok(" " + CORPUS[0], add_special_tokens=False)["input_ids"])
    e = enc.encode(Pair(CORPUS[0], "Budget approved."))
    assert tok.decode(e.prompt_ids) == format_example(CORPUS[0], "")[:-1]  # prompt ends before the summary
    assert tok.decode(e.target_ids[:-1]) == " Budget approved."
    assert e.target_ids[-1] == tok.eos_token_id
    long = " ".join(CORPUS[:4])  # far longer than the block: the article must be cut, not the suffix
    enc = Encoder(tok, block_size=64, max_summary_tokens=6)
    e2 = enc.encode(Pair(long, " ".join(["word"] * 50)))
    assert len(e2.prompt_ids) + len(e2.target_ids) <= 64
    assert len(e2.target_ids) == 6 + 1
    assert tok.decode(e2.prompt_ids).endswith(". A summary of the article:")
    with pytest.raises(ValueError, match="block_size"):
        Encoder(tok, block_size=20, max_summary_tokens=12)


def test_loss_mask_summary_only_and_all_tokens():
    e = [Encoded(prompt_ids=[5, 6, 7], target_ids=[8, 9, 1]), Encoded(prompt_ids=[4], target_ids=[1])]
    summ = training_features(e, "summary")
    assert summ[0] == {"input_ids": [5, 6, 7, 8, 9, 1], "labels": [-100, -100, -100, 8, 9, 1]}
    assert summ[1] == {"input_ids": [4, 1], "labels": [-100, 1]}
    full = training_features(e, "all")
    assert [f["labels"] for f in full] == [[5, 6, 7, 8, 9, 1], [4, 1]]
    with pytest.raises(ValueError, match="loss_on"):
        training_features(e, "prompt")


def test_loss_mask_drives_the_model_loss(tok):
    # The Trainer's loss is the model's loss on these labels: with the summary mask it must equal the
    # mean cross-entropy over the summary (+eos) positions only, computed here by hand.
    import torch

    from beyond_collapse.empirics.summarization.modeling import TinyLlamaSpec, tiny_llama

    spec = TinyLlamaSpec(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2)
    model = tiny_llama(tok, spec, max_positions=64, seed=3).eval()
    enc = Encoder(tok, block_size=64, max_summary_tokens=6)
    e = enc.encode(Pair(CORPUS[1], "Driver in hospital."))
    batch = PadCollator(tok.pad_token_id)(training_features([e], "summary"))
    with torch.no_grad():
        loss = model(**batch).loss.item()
        logp = torch.log_softmax(model(input_ids=batch["input_ids"]).logits[0].double(), -1)
    ids = e.prompt_ids + e.target_ids
    n0 = len(e.prompt_ids)
    hand = -sum(logp[t - 1, ids[t]].item() for t in range(n0, len(ids))) / len(e.target_ids)
    assert loss == pytest.approx(hand, rel=1e-5)  # float32 forward vs float64 sum


def test_pad_collator_right_pads():
    batch = PadCollator(0)([{"input_ids": [3, 4, 5], "labels": [-100, 4, 5]}, {"input_ids": [7], "labels": [7]}])
    assert batch["input_ids"].tolist() == [[3, 4, 5], [7, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 4, 5], [7, -100, -100]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]


def test_lm_blocks_concatenate_with_eos_and_drop_the_remainder(tok):
    texts = ["The council approved.", "The club confirmed."]
    ids = [tok(t)["input_ids"] for t in texts]
    stream = ids[0] + [1] + ids[1] + [1]
    blocks = lm_blocks(tok, texts, 4)
    assert [b["input_ids"] for b in blocks] == [stream[i:i + 4] for i in range(0, len(stream) // 4 * 4, 4)]
    assert all(b["labels"] == b["input_ids"] for b in blocks)
    head = lm_blocks(tok, texts, 2, max_tokens_per_text=1)
    assert [b["input_ids"] for b in head] == [[ids[0][0], 1], [ids[1][0], 1]]
    with pytest.raises(ValueError, match="block_size"):
        lm_blocks(tok, texts, 10_000)


def test_load_pairs_local_jsonl(tmp_path):
    rows = [{"text": f"article {i}", "summary": f"summary {i}", "extra": i} for i in range(5)]
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    pairs = load_pairs(tmp_path, "train", limit=3, cache_dir=tmp_path / "cache")
    assert pairs == [Pair(f"article {i}", f"summary {i}") for i in range(3)]
    with pytest.raises(ValueError, match="test.jsonl"):
        load_pairs(tmp_path, "test")
    with pytest.raises(ValueError, match="field"):
        load_pairs(tmp_path, "train", summary_field="highlights", cache_dir=tmp_path / "cache")
    with pytest.raises(ValueError, match="split"):
        load_pairs(tmp_path, "validation")


def test_shipped_data_matches_its_source_md(tmp_path):
    # SOURCE.md: 2,469 train and 431 test pairs, no article in both splits
    train = load_pairs(DATA_DIR, "train", cache_dir=tmp_path)
    test = load_pairs(DATA_DIR, "test", cache_dir=tmp_path)
    assert (len(train), len(test)) == (2469, 431)
    assert not {p.text for p in train} & {p.text for p in test}
    assert "Narayan" in (DATA_DIR / "SOURCE.md").read_text()
