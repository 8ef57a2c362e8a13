"""Issue 19: the command line builds its parser without numba, scipy.stats, the numerics or torch
(lazy package exports, beyond_collapse/_lazy.py), and the lazy exports resolve to the real objects."""

import subprocess
import sys

import pytest

HEAVY = ("numba", "scipy.stats", "scipy.special", "torch", "beyond_collapse.numerics.success",
         "beyond_collapse.theory.special")


def test_building_the_parser_imports_nothing_heavy():
    code = ("import sys; from beyond_collapse.cli import build_parser; build_parser(); "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"imported while building the parser: {out}"


@pytest.mark.parametrize("package", ["beyond_collapse", "beyond_collapse.theory", "beyond_collapse.numerics",
                                     "beyond_collapse.audit"])
def test_lazy_exports_resolve(package):
    import importlib

    mod = importlib.import_module(package)
    exports = mod._EXPORTS if hasattr(mod, "_EXPORTS") else importlib.import_module("beyond_collapse.theory")._EXPORTS
    for name, where in exports.items():
        assert getattr(mod, name) is getattr(importlib.import_module(where), name)
        assert name in dir(mod)
    with pytest.raises(AttributeError, match="no attribute"):
        getattr(mod, "no_such_name")
