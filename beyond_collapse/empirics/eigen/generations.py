"""Generations of the eigenvalue experiment (issue 17, part 4): does selection keep the loop up?

Generation 0 is the main run's generator (``generator.pt`` in the eigen units folder). Generation
t + 1 is a model trained from scratch, with the profile's ``retrain`` recipe (same budget, same
early stopping on real validation data), on data that generation t synthesized for fresh prompts:

- ``label``: oracle label selection, as in Table 2's best row: generation t decodes every prompt
  with beam ``beam`` and the verifier keeps the candidate closest to the true eigenvalues;
- ``none``: no selection, generation t's greedy labels.

Each arm is its own chain (the label arm's generation 2 learns from the label arm's generation 1).
Prompts of generation t are chunks ``100 + (t - 1) * multiple + i`` of the prompt stream, disjoint
from the main run's chunks. One resumable unit per (arm, generation): ``gen{t}_{arm}.json`` (test
accuracy, data-set size and label accuracy) beside its checkpoint ``gen{t}_{arm}.pt``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable

import numpy as np

from beyond_collapse._validation import check_choice
from beyond_collapse.empirics.eigen.data import sample_examples, synthetic_examples, tau_label
from beyond_collapse.empirics.eigen.decode import beam_search, greedy
from beyond_collapse.empirics.eigen.experiments import evaluate, prompt_chunk
from beyond_collapse.empirics.eigen.profiles import EigenProfile, get_profile
from beyond_collapse.empirics.eigen.selection import accuracy_from_err, decoded_errors, keep_bits, kept_labels
from beyond_collapse.empirics.eigen.train import load_model, train
from beyond_collapse.runs import read_json, run_unit

ARMS = ("label", "none")
_PROMPT_OFFSET = 100  # prompt chunks of the loop start here: the main run uses chunks 0-29


def run_generations(profile: str | EigenProfile, eigen_units: str | Path, units_dir: str | Path, *,
                    generations: int = 3, multiple: int = 2, beam: int | None = None, arms=ARMS, seed: int = 0,
                    progress: bool = True, log: Callable[[str], None] = print) -> dict:
    """Run (or resume) the loop; returns per arm the test accuracy of generations 0..T.

    ``eigen_units``: the main run's units folder (its finished ``generator.pt`` is generation 0);
    ``units_dir``: this loop's units; ``multiple``: prompts per generation in units of N0; ``beam``:
    the label arm's beam (default: the profile's largest).
    """
    import torch

    prof = get_profile(profile) if isinstance(profile, str) else profile
    if not isinstance(generations, int) or generations < 1:
        raise ValueError(f"generations must be an integer >= 1, got {generations!r}")
    if not isinstance(multiple, int) or multiple < 1:
        raise ValueError(f"multiple must be an integer >= 1, got {multiple!r}")
    for arm in arms:
        check_choice("arms", arm, ARMS)
    beam = prof.label_beam if beam is None else beam
    if not isinstance(beam, int) or beam < 2:
        raise ValueError(f"beam must be an integer >= 2 (label selection chooses among candidates), got {beam!r}")
    gen0 = Path(eigen_units) / "generator.pt"
    gen0_record = Path(eigen_units) / "generator.json"
    if not gen0.exists() or not gen0_record.exists():
        raise ValueError(f"no finished generator in {str(eigen_units)!r}: run `beyond-collapse eigen run` first")
    if prof.threads:
        torch.set_num_threads(prof.threads)
    root = Path(units_dir)
    root.mkdir(parents=True, exist_ok=True)
    n, n0, taus = prof.model.n, prof.n_train, prof.eval_taus
    val = sample_examples(n, prof.n_val, seed, "val")
    test = sample_examples(n, prof.n_test, seed, "test")
    base_cfg = {"model": asdict(prof.model), "n_train": n0, "n_val": prof.n_val, "n_test": prof.n_test,
                "stop_tau": prof.stop_tau, "eval_taus": taus, "train": asdict(prof.retrain),
                "multiple": multiple, "beam": beam}

    def validate(model) -> float:
        return evaluate(model, val, (prof.stop_tau,))["accuracy"][tau_label(prof.stop_tau)]

    def synthesize(model, arm: str, t: int):
        """Generation t's training examples, decoded by ``model`` (generation t - 1), and their label quality."""
        chunks = [prompt_chunk(n, n0, seed, _PROMPT_OFFSET + (t - 1) * multiple + i) for i in range(multiple)]
        src = np.concatenate([c.src for c in chunks])
        eig = np.concatenate([c.eig for c in chunks])
        if arm == "label":
            ids, _ = beam_search(model, src, beam, batch_size=max(1, prof.decode_batch * 10 // beam))
        else:
            ids, _ = greedy(model, src, batch_size=4 * prof.decode_batch)
            ids = ids[:, None, :]
        err = decoded_errors(ids, eig)
        kept = keep_bits(err.astype(np.float64), arm)
        if not kept.any():  # every candidate malformed: the verifier keeps nothing
            return None, None, len(src)
        rows, chosen = kept_labels(ids, kept)
        return synthetic_examples(src[rows], eig[rows], chosen), accuracy_from_err(err[kept], taus), len(src)

    out = {"generation_0": read_json(gen0_record)["metrics"]["test"]}
    for arm in arms:
        previous = gen0
        out[arm] = []
        for t in range(1, generations + 1):
            stem = f"gen{t}_{arm}"
            ckpt = root / f"{stem}.pt"

            def compute(previous=previous, arm=arm, t=t, stem=stem, ckpt=ckpt):
                if not previous.exists():
                    raise ValueError(f"{previous} is missing (its record exists, its checkpoint not, e.g. in a "
                                     f"fresh clone): delete {previous.with_suffix('.json')} to train it again")
                log(f"[eigen generations] {stem}: labels from {previous.name}, then training")
                start = time.perf_counter()
                data, label_acc, prompts = synthesize(load_model(previous), arm, t)
                decode_s = time.perf_counter() - start
                if data is None:  # the arm ends here: no model without data
                    return {"test": None, "data_size": 0, "prompts": prompts, "label_accuracy": None,
                            "decode_s": decode_s, "note": "the verifier kept no label: nothing to train on"}
                cfg = replace(prof.retrain, seed=prof.retrain.seed + 7919 * t)
                model, summary = train(prof.model, cfg, data, ckpt, validate=validate, progress=progress, desc=stem)
                return {"test": evaluate(model, test, taus), "train": summary, "data_size": len(data),
                        "prompts": prompts, "label_accuracy": label_acc, "decode_s": decode_s}

            rec = run_unit(root / f"{stem}.json", compute, config={**base_cfg, "arm": arm, "generation": t,
                                                                    "parent": previous.name}, seed=seed)
            out[arm].append({"generation": t, **{k: rec["metrics"][k] for k in
                                                 ("test", "data_size", "prompts", "label_accuracy")}})
            if rec["metrics"]["data_size"] == 0:
                break
            previous = ckpt
    return {"profile_config": asdict(prof), "generations": generations, "multiple": multiple, "beam": beam,
            "seed": seed, **out}
