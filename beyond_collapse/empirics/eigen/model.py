"""The sequence-to-sequence transformer of App. B (paper: 4 encoder layers, 1 decoder layer,
512 dimensions, 8 heads). Built on ``torch.nn.Transformer`` with learned positional embeddings
and one token embedding shared by encoder and decoder (both read the same P1000 vocabulary).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import nn

from beyond_collapse.empirics.eigen.tokenizer import VOCAB_SIZE


@dataclass
class ModelConfig:
    n: int = 5                 # matrix size: inputs are n*n numbers, outputs n eigenvalues
    d_model: int = 512         # App. B
    n_heads: int = 8           # App. B
    enc_layers: int = 4        # App. B
    dec_layers: int = 1        # App. B
    dim_ff: int = 2048         # paper silent: 4 * d_model, the nn.Transformer convention
    dropout: float = 0.0       # paper silent: LAWT's default is 0
    norm_first: bool = True    # pre-norm: stable at the higher learning rates of the cpu profile

    def __post_init__(self):
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})")
        for name in ("n", "d_model", "n_heads", "enc_layers", "dec_layers", "dim_ff"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    @property
    def src_len(self) -> int:
        return 3 * self.n * self.n

    @property
    def tgt_len(self) -> int:
        return 3 * self.n + 2


class Seq2Seq(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(VOCAB_SIZE, cfg.d_model)
        self.pos_src = nn.Embedding(cfg.src_len, cfg.d_model)
        self.pos_tgt = nn.Embedding(cfg.tgt_len, cfg.d_model)
        with warnings.catch_warnings():  # "enable_nested_tensor ... norm_first": a fast path we do not need
            warnings.filterwarnings("ignore", message="enable_nested_tensor")
            self.transformer = nn.Transformer(
                d_model=cfg.d_model, nhead=cfg.n_heads, num_encoder_layers=cfg.enc_layers,
                num_decoder_layers=cfg.dec_layers, dim_feedforward=cfg.dim_ff, dropout=cfg.dropout,
                batch_first=True, norm_first=cfg.norm_first,
            )
        self.out = nn.Linear(cfg.d_model, VOCAB_SIZE)

    def encode(self, src: torch.Tensor) -> torch.Tensor:
        """src (B, S) ids -> memory (B, S, d)."""
        b, s = src.shape
        assert s == self.cfg.src_len, f"source length {s} != {self.cfg.src_len} for n={self.cfg.n}"
        x = self.embed(src) + self.pos_src(torch.arange(s, device=src.device))
        return self.transformer.encoder(x)

    def _decoder_states(self, memory: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        t = tgt_in.shape[1]
        assert t <= self.cfg.tgt_len, f"target length {t} > {self.cfg.tgt_len}"
        y = self.embed(tgt_in) + self.pos_tgt(torch.arange(t, device=tgt_in.device))
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=tgt_in.device, dtype=y.dtype)
        return self.transformer.decoder(y, memory, tgt_mask=mask, tgt_is_causal=True)

    def decode(self, memory: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """memory (B, S, d), tgt_in (B, T) ids starting with BOS -> logits (B, T, V)."""
        return self.out(self._decoder_states(memory, tgt_in))

    def decode_step(self, memory: torch.Tensor, tok: torch.Tensor,
                    cache: list[torch.Tensor] | None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One step of incremental decoding: the logits (B, V) of the token after ``tok`` (B,).

        ``cache`` holds, per decoder layer, that layer's inputs at the earlier positions (B, t, d)
        (None at the first step, where ``tok`` is BOS); the returned cache adds this position.
        Causal attention means a position's outputs depend only on positions up to it, so each step
        runs every layer on the new position alone, attending over the cached inputs; the result
        equals ``decode(memory, prefix)[:, -1]`` (tested). Decoding re-indexes the cache rows when
        beams are reordered.
        """
        t = 0 if cache is None else cache[0].shape[1]
        assert t < self.cfg.tgt_len, f"target length {t + 1} > {self.cfg.tgt_len}"
        x = self.embed(tok[:, None]) + self.pos_tgt.weight[t]
        new_cache = []
        for i, layer in enumerate(self.transformer.decoder.layers):
            inputs = x if cache is None else torch.cat([cache[i], x], dim=1)
            new_cache.append(inputs)
            if layer.norm_first:
                kv = layer.norm1(inputs)
                x = x + layer.self_attn(layer.norm1(x), kv, kv, need_weights=False)[0]
                x = x + layer.multihead_attn(layer.norm2(x), memory, memory, need_weights=False)[0]
                x = x + layer._ff_block(layer.norm3(x))
            else:
                x = layer.norm1(x + layer.self_attn(x, inputs, inputs, need_weights=False)[0])
                x = layer.norm2(x + layer.multihead_attn(x, memory, memory, need_weights=False)[0])
                x = layer.norm3(x + layer._ff_block(x))
        if self.transformer.decoder.norm is not None:
            x = self.transformer.decoder.norm(x)
        return self.out(x[:, 0]), new_cache

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(src), tgt_in)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
