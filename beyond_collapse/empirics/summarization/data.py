"""News article/summary pairs and the App. C prompt format.

Data come through Hugging Face ``datasets``: either a hub name (the paper: ``csebuetnlp/xlsum``,
configuration ``english``) or local JSON Lines files. The project ships a small XSum (BBC) sample
in ``data/`` (see ``data/SOURCE.md`` for provenance and licence: research use only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from beyond_collapse._validation import check_choice

DATA_DIR = Path(__file__).resolve().parent / "data"
SPLITS = ("train", "test")

# App. C: "Article: news. A summary of the article: summarization."
PROMPT_PREFIX = "Article: "
PROMPT_SUFFIX = ". A summary of the article:"


@dataclass(frozen=True)
class Pair:
    """One news article and its summary (reference or synthesized)."""

    text: str
    summary: str


def build_prompt(article: str) -> str:
    """The App. C prompt up to and including "A summary of the article:" (the generation prefix).

    The article is stripped of surrounding whitespace; the summary follows after one space
    (see :func:`format_example`).
    """
    if not isinstance(article, str):
        raise ValueError(f"article must be a string, got {type(article).__name__}")
    return f"{PROMPT_PREFIX}{article.strip()}{PROMPT_SUFFIX}"


def format_example(article: str, summary: str) -> str:
    """One training document in the App. C form "Article: {news}. A summary of the article: {summary}"."""
    if not isinstance(summary, str):
        raise ValueError(f"summary must be a string, got {type(summary).__name__}")
    return f"{build_prompt(article)} {summary.strip()}"


def load_pairs(source: str | Path = DATA_DIR, split: str = "train", *, config: str | None = None,
               text_field: str = "text", summary_field: str = "summary",
               limit: int | None = None, cache_dir: str | Path | None = None) -> list[Pair]:
    """Load ``split`` as a list of :class:`Pair` through ``datasets.load_dataset``.

    ``source`` is a local folder holding ``{split}.jsonl`` (the default: the shipped XSum sample)
    or a hub dataset name (e.g. ``csebuetnlp/xlsum`` with ``config="english"``, Sec. 5.3). ``limit``
    keeps the first rows (the files are already in a hash-shuffled order).
    """
    check_choice("split", split, SPLITS)
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
    import datasets

    datasets.disable_progress_bars()
    local = Path(source)
    if local.is_dir():
        path = local / f"{split}.jsonl"
        if not path.exists():
            raise ValueError(f"source folder {local} has no {split}.jsonl")
        ds = datasets.load_dataset("json", data_files={split: str(path)}, split=split,
                                   cache_dir=None if cache_dir is None else str(cache_dir))
    else:
        ds = datasets.load_dataset(str(source), config, split=split,
                                   cache_dir=None if cache_dir is None else str(cache_dir))
    for field in (text_field, summary_field):
        if field not in ds.column_names:
            raise ValueError(f"dataset {source} has no field {field!r}; fields: {ds.column_names}")
    if limit is not None:
        ds = ds.select(range(min(limit, len(ds))))
    return [Pair(text=t, summary=s) for t, s in zip(ds[text_field], ds[summary_field])]
