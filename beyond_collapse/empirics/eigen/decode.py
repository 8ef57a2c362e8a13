"""Greedy decoding and batched beam search (Sec. 5.1, Table 1).

Both decode exactly ``3 n + 1`` tokens (n triplets and EOS) after BOS; a finished hypothesis is
extended with PAD at zero cost, so all hypotheses have the same length and the beam score is the
plain sum of token log-probabilities (no length penalty: well-formed outputs all have the same
length). Beam search returns all k beams, sorted by score, best first; with k = 1 it is greedy.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from beyond_collapse.empirics.eigen.model import Seq2Seq
from beyond_collapse.empirics.eigen.tokenizer import BOS, EOS, PAD


def _autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.inference_mode()
def beam_search(model: Seq2Seq, src, k: int, *, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Beam search with beam width ``k`` on a batch of encoded matrices.

    src: (B, 3 n^2) ids. Returns ``(ids, scores)``: ids (B, k, 3 n + 1) without BOS, and scores
    (B, k) log-likelihoods, sorted descending along the beam axis. ``batch_size`` prompts are
    decoded together (B * k hypotheses in one forward pass).
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    model.eval()
    device = next(model.parameters()).device
    src_t = torch.as_tensor(np.asarray(src), dtype=torch.long)
    out_ids, out_scores = [], []
    for start in range(0, len(src_t), batch_size):
        ids, scores = _beam_chunk(model, src_t[start:start + batch_size].to(device), k, device)
        out_ids.append(ids.cpu().numpy())
        out_scores.append(scores.float().cpu().numpy())
    length = model.cfg.tgt_len - 1
    if not out_ids:
        return np.zeros((0, k, length), dtype=np.int64), np.zeros((0, k))
    return np.concatenate(out_ids), np.concatenate(out_scores)


def _beam_chunk(model: Seq2Seq, src: torch.Tensor, k: int, device: torch.device):
    b = src.shape[0]
    steps = model.cfg.tgt_len - 1
    with _autocast(device):
        memory = model.encode(src)  # (B, S, d)
    memory = memory.repeat_interleave(k, dim=0)  # (B*k, S, d)
    seqs = torch.full((b * k, 1), BOS, dtype=torch.long, device=device)
    scores = torch.full((b, k), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live hypothesis at the start, so the first step fans out from it
    finished = torch.zeros(b * k, dtype=torch.bool, device=device)
    cache = None
    for _ in range(steps):
        with _autocast(device):
            logits, cache = model.decode_step(memory, seqs[:, -1], cache)  # (B*k, V)
        logp = torch.log_softmax(logits.float(), dim=-1)
        vocab = logp.shape[-1]
        done_row = torch.full_like(logp[0], float("-inf"))
        done_row[PAD] = 0.0
        logp = torch.where(finished[:, None], done_row, logp)
        cand = (scores.reshape(b * k, 1) + logp).reshape(b, k * vocab)
        scores, flat = cand.topk(k, dim=-1)  # (B, k), sorted descending
        beam, tok = flat // vocab, flat % vocab
        rows = (torch.arange(b, device=device)[:, None] * k + beam).reshape(-1)
        seqs = torch.cat([seqs[rows], tok.reshape(-1, 1)], dim=1)
        cache = [c[rows] for c in cache]
        finished = finished[rows] | (tok.reshape(-1) == EOS)
        if bool(finished.all()):
            break
    ids = torch.full((b * k, steps), PAD, dtype=torch.long, device=device)
    ids[:, : seqs.shape[1] - 1] = seqs[:, 1:]
    return ids.reshape(b, k, steps), scores


@torch.inference_mode()
def greedy(model: Seq2Seq, src, *, batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Greedy decoding: ids (B, 3 n + 1) without BOS (PAD after EOS), and their log-likelihoods (B,)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    model.eval()
    device = next(model.parameters()).device
    src_t = torch.as_tensor(np.asarray(src), dtype=torch.long)
    steps = model.cfg.tgt_len - 1
    out_ids, out_ll = [], []
    for start in range(0, len(src_t), batch_size):
        chunk = src_t[start:start + batch_size].to(device)
        with _autocast(device):
            memory = model.encode(chunk)
        seqs = torch.full((len(chunk), 1), BOS, dtype=torch.long, device=device)
        ll = torch.zeros(len(chunk), device=device)
        finished = torch.zeros(len(chunk), dtype=torch.bool, device=device)
        cache = None
        for _ in range(steps):
            with _autocast(device):
                logits, cache = model.decode_step(memory, seqs[:, -1], cache)
            logp = torch.log_softmax(logits.float(), dim=-1)
            best_lp, tok = logp.max(dim=-1)
            tok = torch.where(finished, torch.full_like(tok, PAD), tok)
            ll = ll + torch.where(finished, torch.zeros_like(best_lp), best_lp)
            seqs = torch.cat([seqs, tok[:, None]], dim=1)
            finished = finished | (tok == EOS)
            if bool(finished.all()):
                break
        ids = torch.full((len(chunk), steps), PAD, dtype=torch.long, device=device)
        ids[:, : seqs.shape[1] - 1] = seqs[:, 1:]
        out_ids.append(ids.cpu().numpy())
        out_ll.append(ll.cpu().numpy())
    if not out_ids:
        return np.zeros((0, steps), dtype=np.int64), np.zeros(0)
    return np.concatenate(out_ids), np.concatenate(out_ll)
