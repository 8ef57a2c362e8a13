"""Run sizes for the eigenvalue experiment: ``quick`` (seconds), ``cpu`` (hours, resumable), ``paper``.

Sizes follow the paper's ratios (Sec. 5.1-5.2, App. B): the generator learns from N0 real examples
until its accuracy on held-out real data stops improving (early stopping, the paper's "before
overfitting"); each Table 2 data set has ``synth_multiple`` x N0 synthesis prompts (paper: 1M for
about 200k real, 5x); Table 3 uses more prompts and a stricter verifier; a scaling curve varies
the number of synthesis prompts. Every model trained on synthesized data gets the same maximum
budget and is stopped on the same real validation set. The reasons for every ``cpu`` number are
in docs/REPRODUCTION.md ("Eigenvalue experiment").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from beyond_collapse.empirics.eigen.data import tau_label
from beyond_collapse.empirics.eigen.model import ModelConfig
from beyond_collapse.empirics.eigen.train import TrainConfig
from beyond_collapse.runs import pick_profile


@dataclass(frozen=True, kw_only=True)
class EigenProfile:
    model: ModelConfig
    generator: TrainConfig          # on N0 real examples; maximum budget, early-stopped on validation
    retrain: TrainConfig            # from scratch on each synthesized data set; same maximum, same stopping
    finetune: TrainConfig | None = None  # Table 4: the generator fine-tuned on each Table 2 data set
    n_train: int                    # N0: real examples the generator learns from (paper: ~200k)
    n_val: int                      # real validation examples read by early stopping
    n_test: int                     # real test examples every accuracy is measured on
    synth_multiple: int = 5         # Table 2 data sets hold synth_multiple x N0 prompts (paper: 1M / 200k)
    beams: tuple[int, ...] = (1, 5, 10, 25, 35, 50)   # Table 1 (1 = greedy); label selection for every k > 1
    taus: tuple[float, ...] = (0.02, 0.01, 0.005)     # tolerances reported in every table
    select_tau: float = 0.02        # data selection keeps greedy labels within this tolerance
    stop_tau: float = 0.02          # early stopping scores validation accuracy at this tolerance
    retrain_seeds: tuple[int, ...] = (0, 1, 2)  # training seeds per data set (paper: best of five)
    table3: tuple[tuple[float, int], ...] = ()  # (select_tau, multiple of N0) rows; () omits Table 3
    scaling: tuple[int, ...] = ()   # multiples of N0 for the scaling curve; () omits it
    threads: int | None = None      # torch.set_num_threads; None leaves torch's default
    decode_batch: int = 256         # prompts per greedy batch / 10 x beam-search batch
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self):
        if 1 not in self.beams or any(k < 1 for k in self.beams):
            raise ValueError(f"beams must be >= 1 and include 1 (greedy), got {self.beams}")
        for name in ("n_train", "n_val", "n_test", "synth_multiple", "decode_batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.retrain_seeds or len(set(self.retrain_seeds)) != len(self.retrain_seeds):
            raise ValueError(f"retrain_seeds must be distinct and non-empty, got {self.retrain_seeds}")
        if any(m < 1 for _, m in self.table3) or any(m < 1 for m in self.scaling):
            raise ValueError(f"table3 and scaling multiples must be >= 1, got {self.table3}, {self.scaling}")
        if not all(t > 0 for t in (*self.taus, self.select_tau, self.stop_tau, *(t for t, _ in self.table3))):
            raise ValueError("every tolerance must be > 0")

    @property
    def label_beam(self) -> int:
        """The largest beam: the label selection of the scaling curve."""
        return max(self.beams)

    @property
    def eval_taus(self) -> tuple[float, ...]:
        """Every tolerance any table reads, largest first."""
        return tuple(sorted({*self.taus, self.select_tau, *(t for t, _ in self.table3)}, reverse=True))


@dataclass(frozen=True)
class DatasetSpec:
    """One synthesized data set: a selection rule on the first ``multiple`` x N0 prompts."""

    name: str
    selection: str                  # "none", "data" or "label" (beyond_collapse.empirics.eigen.selection)
    beam: int                       # 1 (greedy labels) for none and data selection
    multiple: int                   # prompts = multiple x N0
    tau: float | None = None        # data selection's tolerance
    roles: tuple[str, ...] = ()     # tables that show it: "table2", "table3", "scaling"


def dataset_name(selection: str, beam: int, multiple: int, tau: float | None = None) -> str:
    """The one naming scheme of synthesized data sets, e.g. ``label_b50_x5``, ``data_2pct_x30``, ``none_x5``."""
    body = {"none": "none", "data": f"data_{tau_label(tau).replace('%', 'pct') if tau else ''}", "label": f"label_b{beam}"}[selection]
    return f"{body}_x{multiple}"


def dataset_plan(prof: EigenProfile) -> list[DatasetSpec]:
    """Every synthesized data set of a profile, in the order the pipeline trains on them.

    The order puts first what tells most (the largest beam's label selection, no selection, data
    selection), so a run cut short still answers the main question.
    """
    m = prof.synth_multiple
    roles: dict[tuple, list[str]] = {}

    def add(selection, beam, multiple, tau, role):
        roles.setdefault((selection, beam, multiple, tau), []).append(role)

    top = prof.label_beam
    add("label", top, m, None, "table2")
    add("none", 1, m, None, "table2")
    add("data", 1, m, prof.select_tau, "table2")
    for k in sorted((k for k in prof.beams if 1 < k < top), reverse=True):
        add("label", k, m, None, "table2")
    for tau, mult in prof.table3:
        add("data", 1, mult, tau, "table3")
    for mult in prof.scaling:
        add("label", top, mult, None, "scaling")
        add("none", 1, mult, None, "scaling")
    return [DatasetSpec(dataset_name(s, k, mult, tau), s, k, mult, tau, tuple(r))
            for (s, k, mult, tau), r in roles.items()]


def get_profile(name: str) -> EigenProfile:
    """The named profile (``quick``, ``cpu`` or ``paper``)."""
    return pick_profile(name, CONFIGS)


def _quick() -> EigenProfile:
    model = ModelConfig(n=2, d_model=32, n_heads=2, enc_layers=1, dec_layers=1, dim_ff=64)
    gen = TrainConfig(steps=150, batch_size=32, lr=2e-3, warmup_steps=20, checkpoint_every_s=60,
                      eval_every=50, patience=2)
    return EigenProfile(
        model=model, generator=gen, retrain=replace(gen, steps=60, eval_every=30), finetune=replace(gen, steps=30, eval_every=15),
        n_train=200, n_val=50, n_test=100, synth_multiple=2, beams=(1, 2, 4), taus=(0.2, 0.1, 0.05),
        select_tau=0.2, stop_tau=0.2, retrain_seeds=(0, 1), table3=((0.1, 3),), scaling=(1,), threads=1,
        decode_batch=64,
        notes=("quick: a smoke run of the whole pipeline with a tiny model; its numbers mean nothing",),
    )


def _cpu() -> EigenProfile:
    # Reasons for every number: docs/REPRODUCTION.md, "Eigenvalue experiment", cpu profile.
    model = ModelConfig(n=2, d_model=64, n_heads=4, enc_layers=2, dec_layers=1, dim_ff=256)
    gen = TrainConfig(steps=8_000, batch_size=128, lr=1e-3, warmup_steps=200, checkpoint_every_s=120,
                      eval_every=250, patience=6)
    return EigenProfile(
        model=model, generator=gen, retrain=replace(gen, seed=1), finetune=replace(gen, seed=2, steps=4_000, warmup_steps=50),
        n_train=15_000, n_val=2_000, n_test=5_000, synth_multiple=5, beams=(1, 5, 10, 25, 35, 50),
        taus=(0.1, 0.05, 0.02, 0.01), select_tau=0.05, stop_tau=0.05, retrain_seeds=(0, 1, 2),
        table3=((0.05, 30), (0.02, 30)), scaling=(1, 2, 5, 10), threads=1, decode_batch=256,
        notes=("cpu: 2x2 matrices, a 0.3M-parameter model, N0 = 15k real examples, 5 x N0 synthesis prompts "
               "(Table 3: 30 x N0), three seeds per data set; see docs/REPRODUCTION.md",),
    )


def _paper() -> EigenProfile:
    model = ModelConfig(n=5, d_model=512, n_heads=8, enc_layers=4, dec_layers=1, dim_ff=2048)
    # ~200k examples for at most 65 epochs (Sec. 5.1): 13M examples at batch 64 is ~203k steps
    gen = TrainConfig(steps=203_000, batch_size=64, lr=5e-5, warmup_steps=10_000, checkpoint_every_s=600,
                      eval_every=5_000, patience=4)
    return EigenProfile(
        model=model, generator=gen, retrain=replace(gen, seed=1), finetune=replace(gen, seed=2),
        n_train=200_000, n_val=10_000, n_test=10_000, synth_multiple=5, retrain_seeds=(0, 1, 2, 3, 4),
        table3=((0.02, 60), (0.01, 60)), scaling=(1, 2, 5, 10), decode_batch=512,
    )


CONFIGS = {"quick": _quick(), "cpu": _cpu(), "paper": _paper()}
