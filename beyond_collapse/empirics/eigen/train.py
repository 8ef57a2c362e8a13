"""One training loop for CPU, one GPU, and several GPUs under ``torchrun`` (App. B).

Adam at a fixed learning rate after a linear warm-up (paper: 5e-5 after 10,000 steps),
cross-entropy on the target tokens (PAD ignored). bf16 autocast on CUDA. Checkpoints (model,
optimizer, step, configs) are written atomically every ``checkpoint_every_s`` seconds and at the
end; a call with an existing checkpoint resumes from it. Batches are drawn from a generator seeded
by (seed, step, rank), so a resumed run sees the same batches as an uninterrupted one.
Early stopping (the paper's "before overfitting"): with ``eval_every`` > 0 and a ``validate``
callback, the model is scored every ``eval_every`` steps on held-out real data; the best weights
are kept in the checkpoint, and training stops after ``patience`` scores without improvement. The
returned model is the best one.
torch.distributed is used only when ``WORLD_SIZE`` > 1 (DDP, one process per GPU).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from beyond_collapse.empirics.eigen.data import Examples
from beyond_collapse.empirics.eigen.model import ModelConfig, Seq2Seq
from beyond_collapse.empirics.eigen.tokenizer import PAD


@dataclass
class TrainConfig:
    steps: int = 65_000            # optimisation steps in total (a resumed run continues to this)
    batch_size: int = 64           # examples per step and per process
    lr: float = 5e-5               # App. B
    warmup_steps: int = 10_000     # App. B: linear warm-up, then fixed
    clip_grad: float = 1.0         # paper silent; 0 disables clipping
    seed: int = 0
    checkpoint_every_s: float = 300.0  # "checkpoints every few minutes" (issue 5)
    eval_every: int = 0            # steps between validation scores; 0: no early stopping
    patience: int = 0              # scores without improvement before stopping (with eval_every > 0)

    def __post_init__(self):
        for name in ("steps", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.warmup_steps < 0 or self.clip_grad < 0:
            raise ValueError(f"warmup_steps and clip_grad must be >= 0, got {self.warmup_steps}, {self.clip_grad}")
        if self.eval_every < 0 or self.patience < 0:
            raise ValueError(f"eval_every and patience must be >= 0, got {self.eval_every}, {self.patience}")
        if self.eval_every > 0 and self.patience < 1:
            raise ValueError(f"early stopping (eval_every > 0) needs patience >= 1, got {self.patience}")

    def lr_at(self, step: int) -> float:
        """Linear warm-up from lr/warmup to lr over ``warmup_steps`` steps, then constant."""
        if self.warmup_steps == 0:
            return self.lr
        return self.lr * min(1.0, (step + 1) / self.warmup_steps)


def _dist_info() -> tuple[int, int, int]:
    """(world_size, rank, local_rank) from the torchrun environment."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return world, int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))


def pick_device() -> torch.device:
    world, _, local_rank = _dist_info()
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank if world > 1 else 0)
    return torch.device("cpu")


def _save_atomic(obj, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def final_weights(ckpt: dict) -> dict:
    """The weights ``train`` returns from a checkpoint: the best-scoring ones under early stopping."""
    return ckpt["best"]["model"] if ckpt.get("best") else ckpt["model"]


def load_model(path: str | os.PathLike, device: torch.device | None = None) -> Seq2Seq:
    """The model stored in a checkpoint written by ``train`` (its best weights under early stopping)."""
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model = Seq2Seq(ModelConfig(**ckpt["model_config"]))
    model.load_state_dict(final_weights(ckpt))
    return model.to(device or pick_device())


def train(model_cfg: ModelConfig, cfg: TrainConfig, data: Examples, checkpoint: str | os.PathLike, *,
          init_from: str | os.PathLike | None = None, validate: Callable[[Seq2Seq], float] | None = None,
          progress: bool = True, desc: str = "train") -> tuple[Seq2Seq, dict]:
    """Train (or resume training) a model on ``data``; returns the model and a summary dict.

    ``init_from``: a checkpoint whose weights start a fresh run (fine-tuning, Table 4); ignored
    when ``checkpoint`` exists, since then the run resumes from it. ``validate``: the score
    (higher is better) that early stopping reads when ``cfg.eval_every`` > 0; then the returned
    model is the best-scoring one, and the summary holds the validation history.
    """
    if len(data) == 0:
        raise ValueError("data must hold at least one example")
    if cfg.eval_every > 0 and validate is None:
        raise ValueError("cfg.eval_every > 0 (early stopping) needs a validate callback")
    checkpoint = Path(checkpoint)
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    world, rank, _ = _dist_info()
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    device = pick_device()
    torch.manual_seed(cfg.seed)  # before the model is built: same seed, same initial weights
    model = Seq2Seq(model_cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    step, losses = 0, []
    # early stopping state: every (step, score), the best weights, scores since the last improvement
    history, best, stale = [], None, 0
    spent_before = 0.0  # training seconds of earlier (interrupted) calls, kept in the checkpoint
    if checkpoint.exists():
        ckpt = torch.load(checkpoint, map_location=device, weights_only=False)
        if ckpt["model_config"] != asdict(model_cfg) or ckpt["train_config"] != asdict(cfg):
            raise ValueError(f"checkpoint {checkpoint} was written with a different configuration; "
                             "delete it or use another runs directory")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        step, losses = ckpt["step"], ckpt["losses"]
        history, best, stale = ckpt.get("history", []), ckpt.get("best"), ckpt.get("stale", 0)
        spent_before = ckpt.get("wall_time_s", 0.0)  # absent in checkpoints written before it was kept
    elif init_from is not None:
        model.load_state_dict(final_weights(torch.load(init_from, map_location=device, weights_only=False)))
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    src = torch.as_tensor(data.src, dtype=torch.long)
    tgt = torch.as_tensor(data.tgt, dtype=torch.long)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else contextlib.nullcontext()

    def save():
        if rank == 0:
            _save_atomic({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                          "losses": losses, "history": history, "best": best, "stale": stale,
                          "wall_time_s": spent_before + time.perf_counter() - start,
                          "model_config": asdict(model_cfg), "train_config": asdict(cfg)},
                         checkpoint)

    start, last_save = time.perf_counter(), time.perf_counter()
    start_step, running = step, []
    log_every = max(1, min(100, cfg.steps // 20))  # about 20 points on the loss curve, at most every 100 steps
    model.train()
    bar = tqdm(total=cfg.steps, initial=step, desc=desc, disable=not progress or rank != 0,
               mininterval=5.0, leave=False)
    stopped = cfg.eval_every > 0 and stale >= cfg.patience
    while step < cfg.steps and not stopped:
        rng = np.random.default_rng([cfg.seed, step, rank])
        idx = torch.as_tensor(rng.integers(0, len(data), size=cfg.batch_size))
        s, t = src[idx].to(device), tgt[idx].to(device)
        for group in opt.param_groups:
            group["lr"] = cfg.lr_at(step)
        with amp:
            logits = net(s, t[:, :-1])  # (B, T-1, V)
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), t[:, 1:].reshape(-1), ignore_index=PAD)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.clip_grad > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad)
        opt.step()
        step += 1
        running.append(loss.item())  # a sync point on GPU; cheap next to a step of this size
        if step % log_every == 0 or step == cfg.steps:
            losses.append([step, float(np.mean(running))])
            bar.set_postfix(loss=f"{losses[-1][1]:.3f}")
            running = []
        bar.update(1)
        if cfg.eval_every > 0 and (step % cfg.eval_every == 0 or step == cfg.steps):
            model.eval()
            score = float(validate(model))
            model.train()
            history.append([step, score])
            if best is None or score > best["score"]:
                best = {"step": step, "score": score,
                        "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
                stale = 0
            else:
                stale += 1
            stopped = stale >= cfg.patience
            bar.set_postfix(loss=f"{losses[-1][1]:.3f}" if losses else "", val=f"{score:.3f}")
            save()  # a validation point is a natural resume point (and the best weights must survive)
            last_save = time.perf_counter()
        if time.perf_counter() - last_save > cfg.checkpoint_every_s:
            save()
            last_save = time.perf_counter()
    bar.close()
    if step > start_step:  # a finished checkpoint is left untouched when there was nothing to do
        save()
    elapsed = time.perf_counter() - start
    done = step - start_step
    if best is not None:  # early stopping: the best-scoring weights, not the last ones
        model.load_state_dict(best["model"])
    summary = {"steps": step, "examples_seen": step * cfg.batch_size * world,
               "stopped_early": bool(stopped and step < cfg.steps),
               "best_step": None if best is None else best["step"],
               "best_validation": None if best is None else best["score"], "validation_curve": history,
               "final_loss": losses[-1][1] if losses else None, "loss_curve": losses,
               "examples_per_s_this_call": done * cfg.batch_size * world / elapsed if done else None,
               "wall_time_s_this_call": elapsed, "wall_time_s": spent_before + elapsed}
    model.eval()
    return model, summary
