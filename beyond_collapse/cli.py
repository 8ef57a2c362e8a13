"""The ``beyond-collapse`` command.

Each capability registers its own subcommands: a module listed in ``COMMAND_MODULES`` exposes
``register(subparsers)``, which adds parsers whose ``func(args) -> int`` does the work. Modules
that need torch import it inside their handlers, so ``beyond-collapse breakdown`` never loads it.

Errors: a ``ValueError`` from the library (bad input) or an ``OSError`` (a file or folder the
user named cannot be read or written) becomes one line on stderr and exit status 2, as do
argparse's usage errors (DESIGN.md, Conventions); validation turns every other user error into a
``ValueError`` before work starts. A closed stdout (``| head``) ends quietly with status 141. Ctrl-C (SIGINT) becomes one
line saying where the finished units are kept and how to resume, exit status 130 (128 + SIGINT).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMAND_MODULES = (
    "beyond_collapse.theory.commands",
    "beyond_collapse.report.commands",
    "beyond_collapse.empirics.eigen.commands",
    "beyond_collapse.empirics.summarization.commands",
    "beyond_collapse.audit.commands",
    "beyond_collapse.numerics.commands",
    "beyond_collapse.proofs_check.commands",
    "beyond_collapse.report.phase_commands",
)


class _OneLineErrorParser(argparse.ArgumentParser):
    """argparse prints usage plus the error; we print the error alone, on one line."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineErrorParser(
        prog="beyond-collapse",
        description="Breakdown points, keep rates and experiments for verifier-selected synthetic data "
        "(Feng et al. 2024, 'Beyond Model Collapse').",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineErrorParser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def _one_line_error(command: str, exc: Exception) -> None:
    """Print ``exc`` as one line on stderr. An ``OSError`` (a file the user named cannot be read or
    written) shows its reason and the path; a ``ValueError`` its own text."""
    if isinstance(exc, OSError) and exc.strerror:
        paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
        text = f"{exc.strerror}: {paths}" if paths else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    message = " ".join(text.split())  # one line, whatever the exception text holds
    print(f"beyond-collapse {command}: error: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # the reader went away (`... | head`): nothing more to say, no traceback
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so the exit flush does not fail again
        return 141  # 128 + SIGPIPE, what a shell reports for a killed writer
    except (ValueError, OSError) as exc:
        _one_line_error(args.command, exc)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: units are written atomically, so every finished one is kept
        kept = (f"; finished units are kept in {args.runs_dir}, run the same command again to resume"
                if getattr(args, "runs_dir", None) else "")
        print(f"\nbeyond-collapse {args.command}: interrupted{kept}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
