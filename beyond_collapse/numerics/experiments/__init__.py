"""The simulations of Figs. 2, 3 and 5: one module per figure, each with ``CONFIGS`` (a frozen config
per profile), ``get_profile``, ``run`` and ``plot``.

To add a simulation, follow ``fig5.py``: a frozen keyword-only config dataclass, ``CONFIGS`` with one
config per name of ``runs.PROFILES``, ``get_profile(name)``, ``run(profile, runs_dir, base_seed,
progress)`` writing one resumable unit per piece of work into ``runs_dir``, and ``plot(result, path)``;
then list it in ``FIGURES`` and give it a help line in ``numerics/commands.py``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from beyond_collapse._validation import check_choice
from beyond_collapse.runs import results_path, write_json_atomic

FIGURES = ("fig2", "fig3", "fig5", "generations")


def produce(figure: str, *, profile: str, runs_dir: str | Path, out_dir: str | Path, base_seed: int = 0,
            progress: bool = True) -> tuple[dict, Path, Path]:
    """Run (or resume) ``figure`` on ``profile`` and write its JSON and PNG at
    ``runs.results_path(out_dir, profile, "<figure>.json")`` (and ``.png``).

    ``runs_dir`` is the figure's own folder of resumable units (one JSON per parameter point and
    seed), normally ``runs.runs_folder(root, profile, figure)``. Returns ``(result, json_path, png_path)``.
    """
    check_choice("figure", figure, FIGURES)
    module = importlib.import_module(f"beyond_collapse.numerics.experiments.{figure}")
    result = module.run(profile, runs_dir=runs_dir, base_seed=base_seed, progress=progress)
    json_path = write_json_atomic(results_path(out_dir, profile, f"{figure}.json"), result)
    png_path = module.plot(result, results_path(out_dir, profile, f"{figure}.png"))
    return result, json_path, png_path
