"""Run sizes for the eigenvalue experiment: ``quick`` (seconds), ``cpu`` (about an hour), ``paper``.

Every choice of the ``cpu`` profile and its reason is recorded in docs/REPRODUCTION.md
("Eigenvalue experiment"). The ``paper`` profile follows App. B and Sec. 5.1-5.2.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from beyond_collapse._validation import check_choice
from beyond_collapse.empirics.eigen.model import ModelConfig
from beyond_collapse.empirics.eigen.train import TrainConfig
from beyond_collapse.runs import PROFILES


@dataclass
class EigenProfile:
    model: ModelConfig
    generator: TrainConfig          # training of the generator on ground-truth data
    retrain: TrainConfig            # from-scratch training on each synthesized data set (equal budget)
    n_train: int                    # ground-truth examples the generator learns from (paper: ~200k)
    n_test: int                     # held-out test matrices
    n_prompts: int                  # fresh prompts labelled by the generator (paper: 1M)
    beams: tuple[int, ...] = (1, 5, 10, 25, 35, 50)   # Table 1 (1 = greedy)
    label_beams: tuple[int, ...] | None = None  # label-selection data sets; None: every beam > 1
    n_table1: int | None = None     # prompts on which beams outside label_beams run (Table 1); None: n_prompts
    taus: tuple[float, ...] = (0.02, 0.01, 0.005)       # tolerances reported in Tables 1-3
    select_tau: float = 0.02        # data selection keeps greedy labels within this tolerance
    retrain_seeds: tuple[int, ...] = (0,)  # paper: best of five seeds
    table3: tuple[tuple[float, int], ...] = ()  # (select_tau, prompt multiplier) rows; () omits Table 3
    table4: bool = False            # fine-tune the generator on each data set (Table 4, model A)
    threads: int | None = None      # torch.set_num_threads; None leaves torch's default
    decode_batch: int = 256         # prompts per beam-search batch
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self):
        if 1 not in self.beams:
            raise ValueError(f"beams must include 1 (greedy), got {self.beams}")
        if any(k < 1 for k in self.beams):
            raise ValueError(f"beams must be >= 1, got {self.beams}")
        if self.label_beams is not None and not set(self.label_beams) <= set(self.beams) - {1}:
            raise ValueError(f"label_beams must be beams > 1 from {self.beams}, got {self.label_beams}")
        if self.n_table1 is not None and not 1 <= self.n_table1 <= self.n_prompts:
            raise ValueError(f"n_table1 must be in [1, n_prompts={self.n_prompts}], got {self.n_table1}")

    @property
    def selection_beams(self) -> tuple[int, ...]:
        return tuple(k for k in self.beams if k > 1) if self.label_beams is None else tuple(self.label_beams)

    @property
    def table1_prompts(self) -> int:
        return self.n_prompts if self.n_table1 is None else self.n_table1


def get_profile(name: str) -> EigenProfile:
    """The named profile (``quick``, ``cpu`` or ``paper``)."""
    check_choice("profile", name, PROFILES)
    return _PROFILES[name]()


def _quick() -> EigenProfile:
    model = ModelConfig(n=2, d_model=32, n_heads=2, enc_layers=1, dec_layers=1, dim_ff=64)
    gen = TrainConfig(steps=150, batch_size=32, lr=2e-3, warmup_steps=20, checkpoint_every_s=60)
    return EigenProfile(
        model=model, generator=gen, retrain=replace(gen, steps=60), n_train=2_000, n_test=100,
        n_prompts=100, beams=(1, 2, 4), taus=(0.2, 0.1, 0.05), select_tau=0.2,
        table3=((0.1, 2),), table4=True, threads=1, decode_batch=64,
        notes=("quick: a smoke run of the whole pipeline with a tiny model; its numbers mean nothing",),
    )


def _cpu() -> EigenProfile:
    # Reasons for every number: docs/REPRODUCTION.md, "Eigenvalue experiment", cpu profile.
    model = ModelConfig(n=2, d_model=64, n_heads=4, enc_layers=2, dec_layers=1, dim_ff=256)
    gen = TrainConfig(steps=1_500, batch_size=128, lr=1e-3, warmup_steps=150, checkpoint_every_s=120)
    return EigenProfile(
        model=model, generator=gen, retrain=replace(gen, seed=1), n_train=30_000, n_test=2_000,
        n_prompts=30_000, beams=(1, 5, 10, 25, 35, 50), label_beams=(5, 10), n_table1=500,
        taus=(0.1, 0.05, 0.02), select_tau=0.05, table3=((0.02, 2),), table4=True, threads=1,
        decode_batch=256,
        notes=("cpu: 2x2 matrices, a 0.3M-parameter model, 30k examples per data set; label selection "
               "with beams 5 and 10 only; Table 4 with model A only; see docs/REPRODUCTION.md",),
    )


def _paper() -> EigenProfile:
    model = ModelConfig(n=5, d_model=512, n_heads=8, enc_layers=4, dec_layers=1, dim_ff=2048)
    # ~200k examples for 65 epochs (Sec. 5.1): 13M examples at batch 64 is ~203k steps
    gen = TrainConfig(steps=203_000, batch_size=64, lr=5e-5, warmup_steps=10_000, checkpoint_every_s=600)
    return EigenProfile(
        model=model, generator=gen, retrain=replace(gen, seed=1), n_train=200_000, n_test=10_000,
        n_prompts=1_000_000, retrain_seeds=(0, 1, 2, 3, 4), table3=((0.02, 12), (0.01, 12)), table4=True,
        decode_batch=512,
    )


_PROFILES = {"quick": _quick, "cpu": _cpu, "paper": _paper}
