"""Beam search cost of the eigenvalue experiment (Table 1, label selection): prompts per second.

The package's batched beam search with incremental decoding (``Seq2Seq.decode_step``: one new
position per step, attending over cached layer inputs) against the same search re-running the whole
decoder on the full prefix at every step (what ``nn.Transformer`` gives out of the box, and what this
package did before), on the `cpu` profile's model (2x2 matrices, 0.32M parameters), one torch
thread, the same prompts, in one process. Prints prompts/s for greedy and each beam width, the
ratio, and whether both routes chose the same beams.

    .venv/bin/python benchmarks/bench_beam.py            # ~3 minutes on a quiet core
    .venv/bin/python benchmarks/bench_beam.py --prompts 1020
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from beyond_collapse.empirics.eigen.data import sample_examples
from beyond_collapse.empirics.eigen.decode import beam_search, greedy
from beyond_collapse.empirics.eigen.model import Seq2Seq
from beyond_collapse.empirics.eigen.profiles import get_profile


def full_prefix_step(model: Seq2Seq):
    """decode_step's contract, computed by running the decoder over the whole prefix (no cache)."""
    def step(memory, tok, cache):
        seqs = tok[:, None] if cache is None else torch.cat([cache[0], tok[:, None]], dim=1)
        return model.decode(memory, seqs)[:, -1], [seqs]
    return step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prompts", type=int, default=510, help="prompts per beam width (default 510)")
    ap.add_argument("--checkpoint", default=None, help="a trained generator.pt (default: random weights)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    prof = get_profile("cpu")
    torch.manual_seed(0)
    if args.checkpoint:
        from beyond_collapse.empirics.eigen.train import load_model
        model = load_model(args.checkpoint)
    else:
        model = Seq2Seq(prof.model).eval()
    src = sample_examples(prof.model.n, args.prompts, 0, "bench").src
    print(f"load average before: {os.getloadavg()[0]:.2f}; {args.prompts} prompts, "
          f"{'trained' if args.checkpoint else 'random'} weights, 1 thread")
    print("| decoding | incremental, prompts/s | full prefix, prompts/s | speed-up | same outputs |")
    print("|---|---|---|---|---|")
    cached = model.decode_step
    for k in (1, *(b for b in prof.beams if b > 1)):
        batch = max(1, prof.decode_batch * 10 // k)
        run = (lambda: greedy(model, src, batch_size=4 * prof.decode_batch)) if k == 1 else \
            (lambda: beam_search(model, src, k, batch_size=batch))
        times, outs = [], []
        for step in (cached, full_prefix_step(model)):
            model.decode_step = step
            t = time.perf_counter()
            outs.append(run())
            times.append(time.perf_counter() - t)
        model.decode_step = cached
        same = float(np.mean(np.all(outs[0][0] == outs[1][0], axis=-1)))
        print(f"| {'greedy' if k == 1 else f'beam {k}'} | {args.prompts / times[0]:,.0f} | "
              f"{args.prompts / times[1]:,.0f} | {times[1] / times[0]:.2f}x | {100 * same:.2f}% |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
