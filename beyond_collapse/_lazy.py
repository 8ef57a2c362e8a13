"""Lazy package exports (PEP 562): a package's public names are imported from their submodule on
first use, so that importing the package (and the command line, which imports every command
module to build its parser) does not load numba, scipy.stats or the numerics until a command needs
them (issue 19: ``beyond-collapse --help`` well under 1 s)."""

from __future__ import annotations

import importlib
import sys


def lazy_exports(package: str, exports: dict[str, str]):
    """``(__getattr__, __dir__)`` for ``package`` whose public ``name`` lives in module ``exports[name]``.

    The value is cached on the package after the first access, so later lookups are plain attribute
    reads. ``from package import *`` works through ``__all__`` (set it to ``list(exports)``).
    """

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
