"""The simulations of Figs. 2, 3 and 5: one module per figure, each with ``PROFILES``, ``run`` and ``plot``."""

from __future__ import annotations

import importlib
from pathlib import Path

from beyond_collapse._validation import check_choice
from beyond_collapse.runs import write_json_atomic

FIGURES = ("fig2", "fig3", "fig5")


def produce(figure: str, *, profile: str, runs_dir: str | Path, out_dir: str | Path, base_seed: int = 0,
            progress: bool = True) -> tuple[dict, Path, Path]:
    """Run (or resume) ``figure`` on ``profile`` and write ``<out_dir>/<figure>.json`` and ``.png``.

    ``runs_dir`` holds the resumable units (one JSON per parameter point and seed).
    Returns ``(result, json_path, png_path)``.
    """
    check_choice("figure", figure, FIGURES)
    module = importlib.import_module(f"beyond_collapse.numerics.experiments.{figure}")
    result = module.run(profile, runs_dir=runs_dir, base_seed=base_seed, progress=progress)
    out_dir = Path(out_dir)
    json_path = write_json_atomic(out_dir / f"{figure}.json", result)
    png_path = module.plot(result, out_dir / f"{figure}.png")
    return result, json_path, png_path
