"""Results files and resumable runs, shared by every long experiment.

Conventions (DESIGN.md): results are JSON holding config, seed, package versions, device, wall
time and metrics; they are written atomically (temporary file + ``os.replace``) so an interrupted
run never leaves a half-written file; a run is split into named units of work, and a unit whose
result file already exists is not redone.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, is_dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import numpy as np

PROFILES = ("quick", "cpu", "paper")

_VERSIONED_PACKAGES = (
    "beyond-collapse", "numpy", "scipy", "sympy", "mpmath", "numba",
    "torch", "transformers", "datasets", "tokenizers", "rouge-score", "accelerate",
)


def _jsonable(obj: Any) -> Any:
    """Make numpy scalars/arrays, dataclasses and paths JSON-serialisable."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None if np.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, Path):
        return str(obj)
    return obj


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that can change results (None if absent)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def device_description() -> str:
    """CPU model and core count, plus the CUDA device when torch is already imported and sees one."""
    desc = f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores".replace("  ", " ")
    torch = sys.modules.get("torch")  # never import torch here: the core must not need it
    if torch is not None and torch.cuda.is_available():
        desc += f"; CUDA {torch.cuda.get_device_name(0)}"
    return desc


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as JSON to ``path`` via a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(_jsonable(data), fh, indent=2, sort_keys=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_json(path: str | os.PathLike) -> Any:
    with open(path) as fh:
        return json.load(fh)


def results_record(*, config: Any, seed: int | None, metrics: Any, wall_time_s: float) -> dict:
    """The standard results document: config, seed, versions, device, wall time, metrics."""
    return {
        "config": _jsonable(config),
        "seed": seed,
        "versions": package_versions(),
        "device": device_description(),
        "wall_time_s": round(float(wall_time_s), 3),
        "metrics": _jsonable(metrics),
    }


def run_unit(path: str | os.PathLike, compute: Callable[[], Any], *, config: Any, seed: int | None) -> dict:
    """Run one resumable unit of work.

    If ``path`` exists, its stored record is returned and ``compute`` is not called (resume).
    Otherwise ``compute()`` returns the metrics, which are written atomically with the config,
    seed, versions, device and wall time. A stored record whose config differs from ``config``
    raises ``ValueError`` rather than silently mixing results of two configurations.
    """
    path = Path(path)
    if path.exists():
        record = read_json(path)
        if record.get("config") != _jsonable(config):
            raise ValueError(
                f"results file {path} was written with a different config; "
                "use another output directory or delete the file to recompute"
            )
        return record
    start = time.perf_counter()
    metrics = compute()
    record = results_record(config=config, seed=seed, metrics=metrics, wall_time_s=time.perf_counter() - start)
    write_json_atomic(path, record)
    return record
