"""Greedy summaries (resumable synthesis), ROUGE-1 and the perplexity of a summary (Sec. 5.3, App. C).

App. C: greedy decoding everywhere; evaluation is the mean ROUGE-1 between generated and reference
summaries of the test set; "when calculating the perplexity, we only calculate the perplexity for
the generated summary". Here the summary's tokens are the summary followed by eos (the tokens the
model is trained to emit), and the perplexity is ``exp(-mean log p(token | prefix))`` over them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from beyond_collapse.empirics.summarization.modeling import Encoded, Encoder


def _check_batch(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return batch_size


def rouge1(predictions: Sequence[str], references: Sequence[str], *, use_stemmer: bool = True) -> np.ndarray:
    """ROUGE-1 F-measure of each prediction against its reference (``rouge-score``, Lin 2004).

    Unigram overlap F1 after rouge-score's tokenization (lowercase, non-alphanumerics removed,
    Porter stemming when ``use_stemmer``). An empty prediction scores 0.
    """
    if len(predictions) != len(references):
        raise ValueError(f"predictions and references must have equal length, got {len(predictions)} "
                         f"and {len(references)}")
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=use_stemmer)
    return np.array([scorer.score(r, p)["rouge1"].fmeasure for p, r in zip(predictions, references)], dtype=float)


def summary_logprobs(model, encoded: Sequence[Encoded], *, pad_id: int, batch_size: int = 8) -> list[np.ndarray]:
    """Log-probabilities of each example's target tokens (summary + eos) given everything before them.

    Batches are right-padded with an attention mask; causal attention keeps the padding, which only
    follows the targets, from touching them.
    """
    import torch

    _check_batch(batch_size)
    out: list[np.ndarray] = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(encoded), batch_size):
            chunk = encoded[start:start + batch_size]
            seqs = [e.prompt_ids + e.target_ids for e in chunk]
            width = max(map(len, seqs))
            ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for i, s in enumerate(seqs):
                ids[i, :len(s)] = torch.tensor(s)
                mask[i, :len(s)] = 1
            logits = model(input_ids=ids.to(model.device), attention_mask=mask.to(model.device)).logits.float().cpu()
            logp = torch.log_softmax(logits[:, :-1], dim=-1)  # position t predicts token t + 1
            token_lp = logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            for i, e in enumerate(chunk):
                first = len(e.prompt_ids) - 1
                out.append(token_lp[i, first:first + len(e.target_ids)].numpy().astype(np.float64))
    return out


def summary_perplexity(model, encoded: Sequence[Encoded], *, pad_id: int, batch_size: int = 8) -> np.ndarray:
    """Perplexity of the summary tokens only: ``exp(-mean log p)`` over summary + eos (App. C)."""
    return np.array([float(np.exp(-lp.mean())) for lp in
                     summary_logprobs(model, encoded, pad_id=pad_id, batch_size=batch_size)])


def greedy_summaries(model, encoder: Encoder, articles: Sequence[str], *, batch_size: int = 16,
                     min_new_tokens: int = 0, no_repeat_ngram_size: int = 0,
                     desc: str | None = None) -> list[str]:
    """Greedy-decoded summaries (App. C) of ``articles``, at most ``encoder.max_summary_tokens`` tokens.

    Prompts are left-padded in batches; articles are processed in order of prompt length so that
    padding stays small, and returned in input order. ``min_new_tokens`` (eos is forbidden before)
    and ``no_repeat_ngram_size`` are the standard ``generate`` constraints; 0 and 0 give the
    paper's plain greedy decoding.
    """
    for name, value in (("min_new_tokens", min_new_tokens), ("no_repeat_ngram_size", no_repeat_ngram_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    import torch
    from tqdm.auto import tqdm

    _check_batch(batch_size)
    tok = encoder.tokenizer
    prompts = [encoder.prompt(a) for a in articles]
    order = sorted(range(len(prompts)), key=lambda i: (len(prompts[i]), i))
    result: list[str] = [""] * len(prompts)
    model.eval()
    batches = range(0, len(order), batch_size)
    for start in tqdm(batches, desc=desc, disable=desc is None, leave=False):
        idx = order[start:start + batch_size]
        width = max(len(prompts[i]) for i in idx)
        ids = torch.full((len(idx), width), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, i in enumerate(idx):
            p = prompts[i]
            ids[row, width - len(p):] = torch.tensor(p)
            mask[row, width - len(p):] = 1
        with torch.no_grad():
            gen = model.generate(input_ids=ids.to(model.device), attention_mask=mask.to(model.device),
                                 max_new_tokens=encoder.max_summary_tokens, do_sample=False,
                                 min_new_tokens=min_new_tokens or None,
                                 no_repeat_ngram_size=no_repeat_ngram_size or None,
                                 eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        for row, i in enumerate(idx):
            new = gen[row, width:].tolist()
            if tok.eos_token_id in new:
                new = new[:new.index(tok.eos_token_id)]
            result[i] = tok.decode(new, skip_special_tokens=True).strip()
    return result


def synthesize(model, encoder: Encoder, articles: Sequence[str], progress_path: str | Path, *,
               chunk_size: int = 64, batch_size: int = 16, min_new_tokens: int = 0, no_repeat_ngram_size: int = 0,
               on_chunk: Callable[[int], None] | None = None) -> list[str]:
    """Greedy summaries of all ``articles`` with checkpointed progress (Sec. 5.3 synthesis step).

    Articles are cut into fixed chunks of ``chunk_size`` by index; each finished chunk is appended
    as one JSON line ``{"chunk": k, "summaries": [...]}`` to ``progress_path`` and flushed to disk.
    A rerun reads the finished chunks and generates only the missing ones, so an interrupted
    synthesis resumes where it stopped and gives the same summaries as an uninterrupted one (the
    chunks, and so the batches, are the same). ``on_chunk(k)`` runs after chunk ``k`` is saved.
    """
    from tqdm.auto import tqdm

    _check_batch(chunk_size)
    progress_path = Path(progress_path)
    progress_path.parent.mkdir(parents=True, exist_ok=True)
    n_chunks = (len(articles) + chunk_size - 1) // chunk_size
    done: dict[int, list[str]] = {}
    if progress_path.exists():
        with open(progress_path) as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:  # a line cut by an interruption mid-write: redo that chunk
                    continue
                k = rec["chunk"]
                expected = min(chunk_size, len(articles) - k * chunk_size)
                if 0 <= k < n_chunks and len(rec["summaries"]) == expected:
                    done[k] = rec["summaries"]
    todo = [k for k in range(n_chunks) if k not in done]
    if progress_path.exists() and progress_path.stat().st_size:
        with open(progress_path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            cut = fh.read(1) != b"\n"
        if cut:  # end the cut line so the next record starts on its own line
            with open(progress_path, "a") as fh:
                fh.write("\n")
    with open(progress_path, "a") as fh:
        for k in tqdm(todo, desc="synthesize", initial=n_chunks - len(todo), total=n_chunks):
            chunk = articles[k * chunk_size:(k + 1) * chunk_size]
            done[k] = greedy_summaries(model, encoder, chunk, batch_size=batch_size, min_new_tokens=min_new_tokens,
                                       no_repeat_ngram_size=no_repeat_ngram_size)
            fh.write(json.dumps({"chunk": k, "summaries": done[k]}, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
            if on_chunk is not None:
                on_chunk(k)
    return [s for k in range(n_chunks) for s in done[k]]
