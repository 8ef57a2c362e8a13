"""The eigenvalue experiments of Sec. 5.1-5.2 as resumable units (Tables 1-4).

Pipeline, in this order (each step is a unit under ``runs_dir/eigen``; a finished unit is never
redone, an interrupted training resumes from its checkpoint):

1. the generator: trained on ``n_train`` ground-truth examples, evaluated greedily on the test set
   ("Synthesized Generator" row of Table 2);
2. for each beam width k: the generator labels fresh prompts (greedy for k = 1, beam search
   otherwise); Table 1 reads the same outputs: the oracle's best beam against the most likely one;
3. synthesized data sets from those labels: no selection (greedy, keep all), data selection
   (greedy, keep if within ``select_tau``), label selection (beam k, keep the beam closest to the
   truth); each trains a new model from scratch with the same budget (Table 2);
4. optional: data selection with more prompts and a stricter verifier (Table 3), and fine-tuning
   the generator on each data set (Table 4, model A).

Under ``torchrun`` every process trains (DDP); decoding and evaluation run on rank 0 while the
others wait, then all read the stored unit.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from beyond_collapse.empirics.eigen.data import (
    Examples, relative_l1_error, sample_examples, synthetic_examples, tau_label,
)
from beyond_collapse.empirics.eigen.decode import beam_search, greedy
from beyond_collapse.empirics.eigen.model import Seq2Seq, count_parameters
from beyond_collapse.empirics.eigen.profiles import EigenProfile, get_profile
from beyond_collapse.empirics.eigen.tokenizer import decode_output_ids
from beyond_collapse.empirics.eigen.train import train
from beyond_collapse.runs import read_json, run_unit, write_json_atomic


def _world() -> tuple[int, int]:
    return int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))


def _rank0_unit(path: Path, compute: Callable[[], dict], *, config, seed) -> dict:
    """``run_unit`` on rank 0 only; other ranks wait, then read the stored record."""
    world, rank = _world()
    if world == 1:
        return run_unit(path, compute, config=config, seed=seed)
    record = run_unit(path, compute, config=config, seed=seed) if rank == 0 else None
    torch.distributed.barrier()
    return record if record is not None else read_json(path)


def decoded_errors(ids: np.ndarray, eig: np.ndarray) -> np.ndarray:
    """Relative L1 error of each output (inf where malformed); ids (P, k, L), eig (P, n) -> (P, k)."""
    p, k, length = ids.shape
    values, _ = decode_output_ids(ids.reshape(p * k, length), eig.shape[1])
    return relative_l1_error(values.reshape(p, k, -1), eig[:, None, :])


def evaluate(model: Seq2Seq, data: Examples, taus, *, batch_size: int = 1024) -> dict:
    """Greedy accuracy at each tolerance, plus the fraction of malformed outputs (App. B, Evaluation)."""
    ids, _ = greedy(model, data.src, batch_size=batch_size)
    err = decoded_errors(ids[:, None, :], data.eig)[:, 0]
    return {"accuracy": {tau_label(t): float(np.mean(err < t)) for t in taus},
            "malformed": float(np.mean(np.isinf(err))), "n": int(len(err))}


def table1_row(err: np.ndarray, taus) -> dict:
    """Oracle-best-of-k and most-likely-beam accuracies from errors (P, k) sorted by beam score."""
    return {"oracle_best": {tau_label(t): float(np.mean(err.min(axis=1) < t)) for t in taus},
            "most_likely": {tau_label(t): float(np.mean(err[:, 0] < t)) for t in taus},
            "malformed_most_likely": float(np.mean(np.isinf(err[:, 0])))}


def data_selection(prompts: Examples, ids: np.ndarray, tau: float) -> tuple[Examples, np.ndarray]:
    """Sec. 5.2 data selection: keep greedy labels within ``tau`` of the truth; ids (P, L)."""
    err = decoded_errors(ids[:, None, :], prompts.eig)[:, 0]
    keep = err < tau
    return synthetic_examples(prompts.src[keep], prompts.eig[keep], ids[keep]), keep


def label_selection(prompts: Examples, ids: np.ndarray) -> tuple[Examples, np.ndarray]:
    """Sec. 5.2 label selection: of the k beams (P, k, L), keep the one closest to the truth.

    A prompt whose beams are all malformed has no label to keep and is dropped.
    """
    err = decoded_errors(ids, prompts.eig)
    best = err.argmin(axis=1)
    keep = np.isfinite(err[np.arange(len(err)), best])
    chosen = ids[np.arange(len(ids)), best]
    return synthetic_examples(prompts.src[keep], prompts.eig[keep], chosen[keep]), keep


def no_selection(prompts: Examples, ids: np.ndarray) -> tuple[Examples, np.ndarray]:
    """Greedy labels, all kept, as the generator produced them (malformed ones included)."""
    keep = np.ones(len(ids), dtype=bool)
    return synthetic_examples(prompts.src, prompts.eig, ids), keep


def _label_quality(ds: Examples, taus) -> dict:
    """How good a synthesized data set's labels are: the fraction within each tolerance of the truth."""
    if len(ds) == 0:
        return {tau_label(t): None for t in taus}
    err = decoded_errors(ds.tgt[:, 1:][:, None, :], ds.eig)[:, 0]
    return accuracy_from_err(err, taus)


def accuracy_from_err(err: np.ndarray, taus) -> dict:
    return {tau_label(t): float(np.mean(err < t)) for t in taus}


def run_pipeline(profile: str | EigenProfile, runs_dir: str | os.PathLike, *, seed: int = 0,
                 progress: bool = True, log: Callable[[str], None] = print) -> dict:
    """Run (or resume) every unit of the eigenvalue experiment; returns the results document."""
    prof = get_profile(profile) if isinstance(profile, str) else profile
    name = profile if isinstance(profile, str) else "custom"
    if prof.threads:
        torch.set_num_threads(prof.threads)
    root = Path(runs_dir) / "eigen"
    root.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    n, taus = prof.model.n, prof.taus
    eval_taus = tuple(sorted(set(taus) | {prof.select_tau}, reverse=True))
    mult = max([m for _, m in prof.table3], default=1)
    train_set = sample_examples(n, prof.n_train, seed, "train")
    test = sample_examples(n, prof.n_test, seed, "test")
    all_prompts = sample_examples(n, prof.n_prompts * mult, seed, "prompts")
    pool = all_prompts.subset(slice(0, prof.n_prompts))
    base_cfg = {"model": asdict(prof.model), "n_train": prof.n_train, "n_test": prof.n_test}

    # 1. the generator
    log(f"[eigen] generator: {prof.generator.steps} steps on {prof.n_train} ground-truth examples")
    gen_ckpt = root / "generator.pt"
    model, gen_summary = train(prof.model, prof.generator, train_set, gen_ckpt, progress=progress, desc="generator")
    gen_cfg = {**base_cfg, "train": asdict(prof.generator)}
    gen = _rank0_unit(root / "generator.json", lambda: {
        "train": gen_summary, "parameters": count_parameters(model),
        "test": evaluate(model, test, eval_taus)}, config=gen_cfg, seed=seed)

    # 2. labels for the prompts, and Table 1 (on the first table1_prompts prompts, for every beam)
    n1 = prof.table1_prompts

    def outputs(k: int) -> tuple[np.ndarray, dict]:
        npz = root / f"pool_beam{k}.npz"
        count = len(all_prompts) if k == 1 else prof.n_prompts if k in prof.selection_beams else n1

        def compute():
            log(f"[eigen] labelling {count} prompts with beam {k}")
            if k == 1:
                ids, score = greedy(model, all_prompts.src, batch_size=4 * prof.decode_batch)
                ids, score = ids[:, None, :], score[:, None]
            else:
                ids, score = beam_search(model, all_prompts.src[:count], k,
                                         batch_size=max(1, prof.decode_batch * 10 // k))
            tmp = npz.with_name(f".{npz.name}.tmp.npz")
            np.savez_compressed(tmp, ids=ids.astype(np.int16), scores=score.astype(np.float32))
            os.replace(tmp, npz)
            return {"table1": table1_row(decoded_errors(ids[:n1], pool.eig[:n1]), taus), "prompts": count}
        rec = _rank0_unit(root / f"pool_beam{k}.json", compute,
                          config={**gen_cfg, "k": k, "prompts": count, "table1_prompts": n1}, seed=seed)
        with np.load(npz) as z:
            return z["ids"].astype(np.int64), rec["metrics"]["table1"]

    # 3. data sets, in the order of what they tell (the cpu run reports finished units if cut short)
    plans: list[tuple[str, int, Callable]] = [
        ("no_selection", 1, lambda ids: no_selection(pool, ids[: prof.n_prompts, 0])),
        ("data_selection", 1, lambda ids: data_selection(pool, ids[: prof.n_prompts, 0], prof.select_tau)),
    ]
    sel_beams = prof.selection_beams
    for k in sorted(sel_beams, key=lambda k: (k != max(sel_beams), k)):
        plans.append((f"label_selection_beam{k}", k, label_selection_for(pool)))
    for tau, m in prof.table3:
        count = prof.n_prompts * m
        plans.append((f"data_selection_{tau_label(tau)}_x{m}", 1,
                      lambda ids, tau=tau, count=count: data_selection(all_prompts.subset(slice(0, count)), ids[:count, 0], tau)))

    table1, datasets, table2, table4 = {}, {}, {}, {}

    def snapshot(complete: bool) -> dict:
        """The results document; written after every unit so that a run cut short still reports."""
        doc = {
            "profile": name, "seed": seed, "complete": complete, "profile_config": asdict(prof),
            "generator": {"test": gen["metrics"]["test"], "parameters": gen["metrics"]["parameters"],
                          "examples_seen": gen["metrics"]["train"]["examples_seen"],
                          "loss_curve": gen["metrics"]["train"]["loss_curve"],
                          "wall_time_s": gen["wall_time_s"]},
            "table1": {str(k): table1[k] for k in sorted(table1)},
            "datasets": datasets, "table2": table2,
            "table3": {k: v for k, v in table2.items() if k.startswith("data_selection_")},
            "table4": table4, "wall_time_s": time.perf_counter() - start,
        }
        if _world()[1] == 0:
            write_json_atomic(root / "results.json", doc)
        return doc

    for k in sorted(prof.beams):  # Table 1 first: every beam's labels, before any retraining
        table1[k] = outputs(k)[1]
        snapshot(False)
    for ds_name, k, build in plans:
        ids, _ = outputs(k)
        ds, keep = build(ids)
        datasets[ds_name] = {"size": int(len(ds)), "kept_fraction": float(keep.mean()), "beam": k,
                             "label_accuracy": _label_quality(ds, eval_taus)}
        log(f"[eigen] {ds_name}: {len(ds)} examples ({keep.mean():.1%} kept)")
        if len(ds) == 0:
            table2[ds_name] = {"best": None, "seeds": [], "note": "empty data set: nothing to train on"}
            continue
        runs = []
        for s in prof.retrain_seeds:
            cfg = replace(prof.retrain, seed=prof.retrain.seed + 1000 * s)
            ckpt = root / f"retrain_{ds_name}_s{s}.pt"
            retrained, summary = train(prof.model, cfg, ds, ckpt, progress=progress, desc=f"{ds_name} s{s}")
            runs.append(_rank0_unit(root / f"retrain_{ds_name}_s{s}.json", lambda: {
                "train": summary, "test": evaluate(retrained, test, eval_taus), "data_size": int(len(ds))},
                config={**base_cfg, "train": asdict(cfg), "dataset": ds_name, "k": k, "prompts": prof.n_prompts,
                        "select_tau": prof.select_tau, "generator": gen_cfg}, seed=seed)["metrics"])
        table2[ds_name] = _best_of(runs, eval_taus)
        if prof.table4 and not ds_name.startswith("data_selection_"):
            ckpt = root / f"finetune_{ds_name}.pt"
            cfg = replace(prof.retrain, seed=prof.retrain.seed + 7)
            tuned, summary = train(prof.model, cfg, ds, ckpt, init_from=gen_ckpt, progress=progress,
                                   desc=f"finetune {ds_name}")
            table4[ds_name] = _rank0_unit(root / f"finetune_{ds_name}.json", lambda: {
                "train": summary, "test": evaluate(tuned, test, eval_taus)},
                config={**base_cfg, "train": asdict(cfg), "dataset": ds_name, "init": "generator",
                        "generator": gen_cfg}, seed=seed)["metrics"]["test"]
        snapshot(False)
    return snapshot(True)


def label_selection_for(pool: Examples) -> Callable:
    return lambda ids: label_selection(pool, ids)


def _best_of(runs: list[dict], taus) -> dict:
    """Table 2 reports the best run across seeds (Sec. 5.2); the per-seed numbers are kept too."""
    key = tau_label(max(taus))
    best = max(runs, key=lambda r: r["test"]["accuracy"][key])
    return {"best": best["test"]["accuracy"], "seeds": [r["test"]["accuracy"] for r in runs],
            "malformed": best["test"]["malformed"], "data_size": best["data_size"]}
