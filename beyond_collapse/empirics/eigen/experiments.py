"""The eigenvalue experiments of Sec. 5.1-5.2 as resumable units (Tables 1-4 and a scaling curve).

Pipeline, in this order (each step is a unit in the units folder, ``runs.runs_folder(runs_dir,
profile, "eigen")``; a finished unit is never redone, an interrupted training resumes from its
checkpoint):

1. the generator: trained on N0 = ``n_train`` real examples, early-stopped on ``n_val`` real
   validation examples, evaluated greedily on the test set ("Synthesized Generator" row);
2. labels: the generator labels fresh prompts in chunks of N0 (greedy, and beam search for every
   beam width k); each chunk stores its token ids and the relative L1 error of every candidate.
   Table 1 reads the first ``synth_multiple`` chunks: the oracle's best beam against the most
   likely one;
3. synthesized data sets (``profiles.dataset_plan``): a selection rule on the first m x N0
   prompts; what it decided (each candidate's error, tolerance flags, keep bit) is saved as
   ``decisions_<name>.npz`` for the theory-vs-experiment export;
4. every data set trains ``len(retrain_seeds)`` new models from scratch with the same maximum
   budget, early-stopped on the same validation set (Tables 2 and 3, the scaling curve); with a
   ``finetune`` config the generator is also fine-tuned on each Table 2 data set (Table 4).

Under ``torchrun`` every process trains (DDP); decoding and evaluation run on rank 0 while the
others wait, then all read the stored unit.

On a CPU machine ``workers`` > 1 processes (``eigen run --workers N``) share the units: each label
chunk and each trained model has one owner (worker ``i`` of ``N``, by a fixed rule), a worker
waits for units it needs but does not own (the generator, chunks, data sets), and worker 0
collects every record into the results document at the end. The results do not depend on the
number of workers: every unit is computed from its own seeds.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from beyond_collapse.empirics.eigen.data import Examples, sample_examples, synthetic_examples, tau_label
from beyond_collapse.empirics.eigen.decode import beam_search, greedy
from beyond_collapse.empirics.eigen.model import Seq2Seq, count_parameters
from beyond_collapse.empirics.eigen.profiles import DatasetSpec, EigenProfile, dataset_plan, get_profile
from beyond_collapse.empirics.eigen.selection import (
    accuracy_from_err, decoded_errors, keep_bits, kept_labels, load_decisions, save_decisions, table1_row,
)
from beyond_collapse.empirics.eigen.train import TrainConfig, load_model, train
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


def evaluate(model: Seq2Seq, data: Examples, taus, *, batch_size: int = 1024) -> dict:
    """Greedy accuracy at each tolerance, plus the fraction of malformed outputs (App. B, Evaluation)."""
    ids, _ = greedy(model, data.src, batch_size=batch_size)
    err = decoded_errors(ids[:, None, :], data.eig)[:, 0]
    return {"accuracy": accuracy_from_err(err, taus), "malformed": float(np.mean(np.isinf(err))),
            "n": int(len(err))}


def prompt_chunk(n: int, n0: int, seed: int, index: int) -> Examples:
    """Synthesis prompts ``index * n0`` to ``(index + 1) * n0``: one independent random stream per chunk."""
    return sample_examples(n, n0, seed, f"prompts_{index}")


def seed_summary(runs: list[dict], taus) -> dict:
    """Mean, standard deviation (ddof 1) and best of the seeds' test accuracies (the paper: best of five)."""
    keys = [tau_label(t) for t in taus]
    acc = {key: np.array([r["test"]["accuracy"][key] for r in runs]) for key in keys}
    best = int(np.argmax(acc[keys[0]]))
    return {"seeds": [r["test"]["accuracy"] for r in runs],
            "mean": {key: float(a.mean()) for key, a in acc.items()},
            "sd": {key: float(a.std(ddof=1)) if len(a) > 1 else None for key, a in acc.items()},
            "best": runs[best]["test"]["accuracy"], "best_seed": best,
            "malformed": [r["test"]["malformed"] for r in runs],
            "best_steps": [r["train"]["best_step"] for r in runs],
            "data_size": runs[0]["data_size"], "n_test": runs[0]["test"]["n"]}


def _wait_for(paths: list[Path], check: Callable[[], None], log: Callable[[str], None], what: str) -> None:
    """Block until every path exists (another worker computes them); ``check`` raises if that worker died."""
    if all(p.exists() for p in paths):
        return
    log(f"[eigen] waiting for {what} (another worker)")
    while not all(p.exists() for p in paths):
        check()
        time.sleep(2)


def run_pipeline(profile: str | EigenProfile, units_dir: str | os.PathLike, *, seed: int = 0,
                 progress: bool = True, log: Callable[[str], None] = print, worker: int = 0, workers: int = 1,
                 check: Callable[[], None] = lambda: None, collect_only: bool = False) -> dict:
    """Run (or resume) every unit of the eigenvalue experiment in ``units_dir``; returns the results document.

    ``collect_only``: compute nothing; the results document of the units finished so far (marked
    incomplete if any is missing), e.g. for a run that is still going or was stopped.

    ``worker``/``workers``: this process's share of the units (see the module docstring); ``check``
    is called while waiting for another worker and should raise if that worker failed. Worker 0
    returns the results document, the others an empty dict.
    """
    if not 0 <= worker < workers:
        raise ValueError(f"worker must be in [0, workers={workers}), got {worker}")
    if workers > 1 and _world()[0] > 1:
        raise ValueError("workers > 1 is for CPU machines; under torchrun every process trains each model (DDP)")
    prof = get_profile(profile) if isinstance(profile, str) else profile
    name = profile if isinstance(profile, str) else "custom"
    if collect_only and not (Path(units_dir) / "generator.json").exists():
        raise ValueError(f"no finished generator in {str(units_dir)!r}: nothing to collect yet")
    if prof.threads:
        torch.set_num_threads(prof.threads)
    root = Path(units_dir)
    root.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    n, n0, taus = prof.model.n, prof.n_train, prof.eval_taus
    stop_key = tau_label(prof.stop_tau)
    train_set = sample_examples(n, n0, seed, "train")
    val = sample_examples(n, prof.n_val, seed, "val")
    test = sample_examples(n, prof.n_test, seed, "test")
    base_cfg = {"model": asdict(prof.model), "n_train": n0, "n_val": prof.n_val, "n_test": prof.n_test,
                "stop_tau": prof.stop_tau, "eval_taus": taus}

    def validate(model: Seq2Seq) -> float:
        return evaluate(model, val, (prof.stop_tau,))["accuracy"][stop_key]

    def fit(stem: str, cfg: TrainConfig, data: Callable[[], Examples], config: dict, *,
            init_from: Path | None = None, owner: int = 0) -> dict | None:
        """One trained model as a unit: skipped (data never built) when its record exists; None when
        another worker owns it and has not finished it."""
        path = root / f"{stem}.json"
        trained = None
        if not path.exists() and (collect_only or owner % workers != worker):
            return None
        if not path.exists():  # every rank trains (DDP); rank 0 evaluates and writes the record
            ds = data()
            model, summary = train(prof.model, cfg, ds, root / f"{stem}.pt", init_from=init_from,
                                   validate=validate, progress=progress, desc=stem)
            trained = (model, summary, len(ds))
        return _rank0_unit(path, lambda: {
            "train": {**trained[1], "parameters": count_parameters(trained[0])},
            "test": evaluate(trained[0], test, taus), "data_size": int(trained[2])},
            config={**base_cfg, "train": asdict(cfg), **config}, seed=seed)

    # 1. the generator
    log(f"[eigen] generator: at most {prof.generator.steps} steps on {n0} real examples, early-stopped at {stop_key}")
    gen_ckpt = root / "generator.pt"
    if worker != 0:
        _wait_for([root / "generator.json"], check, log, "the generator")
    gen = fit("generator", prof.generator, lambda: train_set, {"role": "generator"})
    gen_cfg = {**base_cfg, "train": asdict(prof.generator)}
    generator: list[Seq2Seq] = []  # loaded on first use: a resumed run with every chunk done never needs it

    # 2. labels, in chunks of N0 prompts
    plan = dataset_plan(prof)
    chunks = {k: prof.synth_multiple for k in prof.beams}  # Table 1 reads the first synth_multiple chunks
    for spec in plan:
        chunks[spec.beam] = max(chunks[spec.beam], spec.multiple)

    def chunk(k: int, i: int) -> Path:
        """The npz of beam-k labels of prompt chunk i (ids (N0, k, L), scores, errors), computed if missing."""
        npz = root / f"pool_b{k}_c{i}.npz"
        unit = npz.with_suffix(".json")
        if unit.exists() and not npz.exists() and _world()[1] == 0 and i % workers == worker:
            unit.unlink()  # labels lost (e.g. a fresh clone with the records only): decode again
        if i % workers != worker:  # another worker's chunk
            _wait_for([unit, npz], check, log, f"labels of chunk {i} with beam {k}")
            return npz

        def compute():
            if not generator:
                generator.append(load_model(gen_ckpt))
            prompts = prompt_chunk(n, n0, seed, i)
            log(f"[eigen] labelling prompts {i * n0}-{(i + 1) * n0} with beam {k}")
            if k == 1:
                ids, score = greedy(generator[0], prompts.src, batch_size=4 * prof.decode_batch)
                ids, score = ids[:, None, :], score[:, None]
            else:
                ids, score = beam_search(generator[0], prompts.src, k, batch_size=max(1, prof.decode_batch * 10 // k))
            err = decoded_errors(ids, prompts.eig)
            tmp = npz.with_name(f".{npz.name}.tmp.npz")
            np.savez_compressed(tmp, ids=ids.astype(np.int16), scores=score.astype(np.float32),
                                errors=err.astype(np.float32))
            os.replace(tmp, npz)
            return {"prompts": int(len(ids)), "most_likely": accuracy_from_err(err[:, 0], taus)}
        _rank0_unit(unit, compute, config={**gen_cfg, "k": k, "chunk": i}, seed=seed)
        return npz

    def labels(k: int, count: int, field: str) -> np.ndarray:
        parts = []
        for i in range(count):
            with np.load(chunk(k, i)) as z:
                parts.append(z[field])
        return np.concatenate(parts)

    table1: dict[int, dict] = {}  # Table 1 fills in as the data sets decode every beam
    datasets, trained, table4 = {}, {}, {}
    retrain_cfg = {s: replace(prof.retrain, seed=prof.retrain.seed + 1000 * s) for s in prof.retrain_seeds}

    def collect(spec: DatasetSpec) -> None:
        """Summaries of the finished models of one data set, read from their records (any worker's)."""
        runs = [read_json(p)["metrics"] for s in prof.retrain_seeds
                if (p := root / f"retrain_{spec.name}_s{s}.json").exists()]
        if runs:
            trained[spec.name] = {**seed_summary(runs, taus), "seeds_done": len(runs),
                                  "seeds_planned": len(prof.retrain_seeds)}
        tuned = root / f"finetune_{spec.name}.json"
        if tuned.exists():
            table4[spec.name] = read_json(tuned)["metrics"]["test"]

    def snapshot(complete: bool) -> dict:
        """The results document; written after every unit so that a run cut short still reports."""
        fill_table1(force=complete and not collect_only)
        g = gen["metrics"]
        doc = {
            "profile": name, "seed": seed, "complete": complete, "profile_config": asdict(prof),
            "generator": {"test": g["test"], "parameters": g["train"]["parameters"],
                          "examples_seen": g["train"]["examples_seen"], "best_step": g["train"]["best_step"],
                          "stopped_early": g["train"]["stopped_early"],
                          "validation_curve": g["train"]["validation_curve"],
                          "loss_curve": g["train"]["loss_curve"], "wall_time_s": gen["wall_time_s"]},
            "table1": {str(k): table1[k] for k in sorted(table1)},
            "datasets": datasets, "trained": trained, "table4": table4,
            "wall_time_s": time.perf_counter() - start,
        }
        if _world()[1] == 0:
            write_json_atomic(root / "results.json", doc)
        return doc

    def fill_table1(force: bool) -> None:
        """Table 1 rows of the beams whose first synth_multiple chunks exist (all of them if ``force``)."""
        for k in prof.beams:
            ready = all((root / f"pool_b{k}_c{i}.npz").exists() for i in range(prof.synth_multiple))
            if k not in table1 and (ready or force):
                table1[k] = table1_row(labels(k, prof.synth_multiple, "errors"), taus)

    # 3.-4. data sets and their models
    for j, spec in enumerate(plan):
        unit = root / f"dataset_{spec.name}.json"
        if collect_only:
            if unit.exists():
                datasets[spec.name] = {**asdict(spec), **read_json(unit)["metrics"],
                                       "decisions": f"decisions_{spec.name}.npz"}
                collect(spec)
            continue
        for i in range(worker, spec.multiple, workers):  # this worker's label chunks first, then the data set
            chunk(spec.beam, i)
        if worker != 0:  # worker 0 decides the data sets (one writer per decisions file)
            _wait_for([unit], check, log, f"data set {spec.name}")
        datasets[spec.name] = _dataset_unit(spec, root, labels, taus,
                                            config={**gen_cfg, **asdict(spec)}, seed=seed)
        info = datasets[spec.name]
        log(f"[eigen] {spec.name}: {info['size']} examples ({info['kept_fraction']:.1%} kept)")
        if info["size"] == 0:
            trained[spec.name] = {"seeds": [], "note": "empty data set: nothing to train on"}
            continue
        build = _builder(spec, root, n, n0, seed, labels)
        ds_cfg = {"dataset": spec.name, "generator": gen_cfg}
        for s in prof.retrain_seeds:
            fit(f"retrain_{spec.name}_s{s}", retrain_cfg[s], build, ds_cfg, owner=j + s)
        if prof.finetune is not None and "table2" in spec.roles:
            fit(f"finetune_{spec.name}", prof.finetune, build, {**ds_cfg, "init": "generator"},
                init_from=gen_ckpt, owner=j + len(prof.retrain_seeds))
        if worker == 0:
            collect(spec)
            snapshot(False)
    if worker != 0:
        return {}
    sizes = {spec.name: datasets.get(spec.name, {}).get("size") for spec in plan}
    pending = [root / f"retrain_{spec.name}_s{s}.json" for spec in plan if sizes[spec.name]
               for s in prof.retrain_seeds]
    pending += [root / f"finetune_{spec.name}.json" for spec in plan if sizes[spec.name]
                and prof.finetune is not None and "table2" in spec.roles]
    if collect_only:
        return snapshot(len(datasets) == len(plan) and all(p.exists() for p in pending))
    _wait_for(pending, check, log, "the other workers' models")
    for spec in plan:
        if datasets[spec.name]["size"]:
            collect(spec)
    return snapshot(True)


def _dataset_unit(spec: DatasetSpec, root: Path, labels: Callable, taus, *, config: dict, seed: int) -> dict:
    """Apply the selection rule, save its decisions, and record the data set's size and label quality."""
    decisions = root / f"decisions_{spec.name}.npz"
    unit = root / f"dataset_{spec.name}.json"
    if unit.exists() and not decisions.exists() and _world()[1] == 0:
        unit.unlink()  # decisions lost: decide again (deterministic, from the stored labels)

    def compute():
        err = labels(spec.beam, spec.multiple, "errors").astype(np.float64)
        kept = keep_bits(err, spec.selection, spec.tau)
        save_decisions(decisions, err, kept, taus)
        size = int(kept.sum())
        return {"size": size, "prompts": int(len(err)), "candidates": int(err.size),
                "kept_fraction": size / len(err),
                "label_accuracy": accuracy_from_err(err[kept], taus) if size else {tau_label(t): None for t in taus}}
    record = _rank0_unit(unit, compute, config=config, seed=seed)
    return {**asdict(spec), **record["metrics"], "decisions": decisions.name}


def _builder(spec: DatasetSpec, root: Path, n: int, n0: int, seed: int, labels: Callable) -> Callable[[], Examples]:
    """The training examples of a data set, built only when a model still has to be trained on it."""
    def build() -> Examples:
        kept = load_decisions(root / f"decisions_{spec.name}.npz")["kept"]
        ids = labels(spec.beam, spec.multiple, "ids").astype(np.int64)
        prompts = [prompt_chunk(n, n0, seed, i) for i in range(spec.multiple)]
        src = np.concatenate([p.src for p in prompts])
        eig = np.concatenate([p.eig for p in prompts])
        rows, chosen = kept_labels(ids, kept)
        return synthetic_examples(src[rows], eig[rows], chosen)
    return build
