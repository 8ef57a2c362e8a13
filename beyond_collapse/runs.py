"""The one run layout, results files and resumable runs, shared by every long experiment.

Layout. A profile is a run size named in ``PROFILES``; an experiment looks up its own frozen
config of a profile with ``pick_profile``. Every experiment on every profile has its own folder of
resumable units, ``runs_folder(runs_dir, profile, experiment)`` = ``<runs_dir>/<profile>/<experiment>``,
and writes its results under ``results_path(out_dir, profile, name)`` =
``<out_dir>/<profile>/<name>``: one folder per profile, so no profile's results overwrite
another's. Commands declare the shared options with ``add_run_args``.

Conventions (DESIGN.md): results are JSON holding config, seed, package versions, device, wall
time and metrics; they are written atomically (temporary file + ``os.replace``) so an interrupted
run never leaves a half-written file; a run is split into named units of work, and a unit whose
result file already exists is not redone.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, is_dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

import numpy as np

from beyond_collapse._validation import check_choice

PROFILES = ("quick", "cpu", "paper")
"""Run sizes: ``quick`` (minutes on 2 CPU cores), ``cpu`` (hours, resumable), ``paper`` (the paper's sizes)."""
RUNS_DIR = "runs"
"""Default root of the resumable units (``--runs-dir``)."""

_Config = TypeVar("_Config")


def pick_profile(profile: str, configs: Mapping[str, _Config]) -> _Config:
    """The config of ``profile`` in an experiment's table of configs (one per name of ``PROFILES``).

    Raises ``ValueError`` naming the valid profiles for an unknown name.
    """
    check_choice("profile", profile, PROFILES)
    return configs[profile]


def runs_folder(runs_dir: str | os.PathLike, profile: str, experiment: str) -> Path:
    """``<runs_dir>/<profile>/<experiment>``: the resumable units of one experiment on one profile."""
    check_choice("profile", profile, PROFILES)
    if not experiment or Path(experiment).name != experiment:
        raise ValueError(f"experiment must be a plain folder name, got {experiment!r}")
    return Path(runs_dir) / profile / experiment


def results_path(out_dir: str | os.PathLike, profile: str, name: str) -> Path:
    """``<out_dir>/<profile>/<name>``: one results file of one profile (e.g. ``fig5.json``).

    Each profile has its own folder, so a ``cpu`` run never overwrites the ``quick`` results.
    """
    check_choice("profile", profile, PROFILES)
    if not name or Path(name).name != name:
        raise ValueError(f"name must be a plain file name, got {name!r}")
    return Path(out_dir) / profile / name


def add_run_args(parser, *, out: str, out_help: str = "results folder, one subfolder per profile",
                 profile: str = "quick", seed: int | None = 0, seed_help: str = "base seed") -> None:
    """Add the options every experiment command shares: ``--profile``, ``--runs-dir``, ``--out``, ``--seed``.

    ``out`` is the default results folder (an experiment writes ``results_path(out, profile, name)``);
    ``seed=None`` leaves the seed to the profile's config.
    """
    parser.add_argument("--profile", choices=PROFILES, default=profile, help=f"run sizes (default: {profile})")
    parser.add_argument("--runs-dir", type=folder_arg, default=RUNS_DIR,
                        help=f"root of the resumable units, <runs-dir>/<profile>/<experiment> (default: {RUNS_DIR})")
    parser.add_argument("--out", type=folder_arg, default=out, help=f"{out_help} (default: {out})")
    default = "the profile's" if seed is None else seed
    parser.add_argument("--seed", type=seed_arg, default=seed, help=f"{seed_help} (default: {default})")


SEED_LIMIT = 2**64
"""Seeds are integers in [0, 2**64): numpy takes larger ones, but a seed is also a JSON number in
every results file, and beyond 64 bits other readers of that file lose digits."""


def int_arg(low: int, high: int | None = None, high_text: str | None = None):
    """argparse type: an integer in [low, high) (``high=None``: no upper bound; ``high_text`` shows
    it in messages), else a usage error naming the option and the valid range (exit 2)."""
    import argparse

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value >= high):
            valid = f">= {low}" if high is None else f"in [{low}, {high_text or high})"
            raise argparse.ArgumentTypeError(f"must be an integer {valid}, got {text!r}")
        return value

    parse.__name__ = "integer"
    return parse


seed_arg = int_arg(0, SEED_LIMIT, "2**64")
"""argparse type of ``--seed``: an integer in [0, 2**64), else a usage error naming the option."""


def output_file(path: str | os.PathLike, option: str = "--out") -> Path:
    """Check an output file path before any work starts, creating its missing parent folders.

    Raises ``ValueError`` naming ``option`` when the path is a folder, when a folder above it is a
    file, or when its parent folder cannot be created (no write permission).
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} {path} is a folder; give the path of a file")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"{option} {path}: {parent} is a file, not a folder")
            break
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{option} {path}: cannot create the folder {path.parent} ({exc.strerror})") from None
    return path


def folder_arg(text: str) -> str:
    """argparse type of a folder option (``--runs-dir``, ``--out`` of results folders): a path
    whose existing part is made of folders (created later when missing), else a usage error."""
    import argparse

    for part in (Path(text), *Path(text).parents):
        if part.exists():
            if not part.is_dir():
                raise argparse.ArgumentTypeError(f"{part} is a file, not a folder" if part != Path(text)
                                                 else f"{text} is not a folder")
            break
    return text


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


def _umask() -> int:
    """The process's umask (reading it means setting it; set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as JSON to ``path`` via a temporary file and ``os.replace``.

    The file gets the mode of an ordinary new file (0666 less the umask, usually 0644), not the
    0600 that ``mkstemp`` gives its temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())
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
    """Parse the JSON file ``path``; a malformed file raises ``ValueError`` naming it."""
    with open(path) as fh:
        try:
            return json.load(fh)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON ({exc}); delete it to recompute, or fix it") from None


@contextlib.contextmanager
def run_lock(folder: str | os.PathLike):
    """Hold ``<folder>/.lock`` for the duration: a second run into the same folder refuses at once.

    Two runs into one folder would both compute every unit (each sees it missing) and overwrite
    each other's files; with the lock the second raises ``ValueError`` naming the folder. The lock
    is an advisory ``flock``, released by the OS when the process ends, even after SIGKILL, so a
    killed run never leaves a stale lock. (Where ``fcntl`` is missing, Windows, no lock is taken.)
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the runs folder {folder}: {exc.strerror}") from None
    try:
        import fcntl
    except ImportError:
        yield folder
        return
    with open(folder / ".lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"another run is using the runs folder {folder} (its .lock is held); "
                             "wait for it to finish, or pass another --runs-dir") from None
        try:
            yield folder
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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
