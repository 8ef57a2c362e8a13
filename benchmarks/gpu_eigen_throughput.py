"""Training throughput and model FLOPs utilisation (MFU) of the eigenvalue transformer at paper size.

Runs the package's own training step (Adam, bf16 autocast on CUDA, the `paper` profile's model: 5x5
matrices, 4 + 1 layers, d_model 512) for a fixed number of steps after a warm-up, and prints examples/s,
tokens/s, achieved TFLOP/s and MFU against the device's dense bf16 peak. Meant for a GPU machine:

    .venv/bin/python benchmarks/gpu_eigen_throughput.py                 # ~2-3 minutes on one H100/H200
    .venv/bin/python benchmarks/gpu_eigen_throughput.py --batch 256 --steps 200

Model FLOPs per training example (the standard count, Kaplan et al. 2020 / PaLM appendix B): forward
= 2 x (matrix-multiply parameters used per token) x tokens + attention scores and values
(2 x 2 x length x d per token per self-attention layer, the same over the encoder memory for the
decoder's cross-attention); training = 3 x forward (backward = 2 x forward). Embedding lookups are
not FLOPs; the output projection is. Peak: --peak-tflops, or a table of known devices.

On a CPU (`--device cpu --small`) it runs a tiny model for a smoke check of the script itself; the
MFU it prints there is against --peak-tflops and means little.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from beyond_collapse.empirics.eigen.data import sample_examples
from beyond_collapse.empirics.eigen.model import ModelConfig, Seq2Seq
from beyond_collapse.empirics.eigen.profiles import get_profile
from beyond_collapse.empirics.eigen.tokenizer import PAD, VOCAB_SIZE

# dense bf16 tensor-core peaks (TFLOP/s, without sparsity), from the vendors' data sheets
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10": 125.0, "L4": 121.0}


def model_flops_per_example(cfg: ModelConfig) -> float:
    """Training FLOPs of one example (encoder input 3 n^2 tokens, decoder 3 n + 1 positions)."""
    s, t, d, ff = cfg.src_len, cfg.tgt_len - 1, cfg.d_model, cfg.dim_ff
    self_attn = 4 * d * d            # Q, K, V, output projections
    mlp = 2 * d * ff
    enc = cfg.enc_layers * s * (2 * (self_attn + mlp) + 4 * s * d)
    dec = cfg.dec_layers * t * (2 * (2 * self_attn + mlp) + 4 * t * d + 4 * s * d)  # self + cross attention
    head = t * 2 * d * VOCAB_SIZE
    return 3.0 * (enc + dec + head)


def peak_tflops(device: torch.device, override: float | None) -> float:
    if override is not None:
        return override
    if device.type != "cuda":
        raise SystemExit("on a CPU give --peak-tflops (the MFU is against it)")
    name = torch.cuda.get_device_name(device)
    for key, value in PEAK_BF16_TFLOPS.items():
        if key in name:
            return value
    raise SystemExit(f"unknown GPU {name!r}: give its dense bf16 peak with --peak-tflops")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=256, help="examples per step (default 256)")
    ap.add_argument("--steps", type=int, default=100, help="timed steps (default 100)")
    ap.add_argument("--warmup", type=int, default=20, help="untimed steps first (default 20)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--peak-tflops", type=float, default=None, help="device peak, TFLOP/s (default: known GPUs)")
    ap.add_argument("--small", action="store_true", help="a tiny 2x2 model (smoke check on a CPU)")
    args = ap.parse_args()
    device = torch.device(args.device)
    cfg = get_profile("paper").model
    if args.small:
        cfg = ModelConfig(n=2, d_model=32, n_heads=2, enc_layers=1, dec_layers=1, dim_ff=64)
    peak = peak_tflops(device, args.peak_tflops)
    torch.manual_seed(0)
    model = Seq2Seq(cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=5e-5)
    data = sample_examples(cfg.n, args.batch * 8, 0, "bench")
    src = torch.as_tensor(data.src, device=device)
    tgt = torch.as_tensor(data.tgt, device=device)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)

    def step(i: int) -> None:
        idx = torch.arange(i * args.batch, (i + 1) * args.batch, device=device) % len(src)
        s, t = src[idx], tgt[idx]
        with amp:
            logits = model(s, t[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), t[:, 1:].reshape(-1), ignore_index=PAD)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    for i in range(args.warmup):
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(args.steps):
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    examples = args.steps * args.batch / elapsed
    flops = model_flops_per_example(cfg) * examples
    params = sum(p.numel() for p in model.parameters())
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device: {name}; model: {cfg.n}x{cfg.n}, d_model {cfg.d_model}, {cfg.enc_layers}+{cfg.dec_layers} layers, "
          f"{params:,} parameters; batch {args.batch}, {args.steps} timed steps")
    print(f"training throughput: {examples:,.0f} examples/s ({examples * (cfg.src_len + cfg.tgt_len - 1):,.0f} tokens/s)")
    print(f"model FLOPs per example: {model_flops_per_example(cfg) / 1e6:.1f} MFLOP; achieved {flops / 1e12:.2f} TFLOP/s")
    print(f"MFU: {100 * flops / (peak * 1e12):.1f}% of {peak:g} TFLOP/s (dense bf16 peak)")
    paper = get_profile("paper").generator
    print(f"paper generator ({paper.steps:,} steps x {paper.batch_size}): "
          f"{paper.steps * paper.batch_size / examples / 3600:.1f} h at this throughput")


if __name__ == "__main__":
    main()
