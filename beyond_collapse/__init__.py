"""beyond-collapse: when does training on verifier-selected synthetic data reach the optimum?

Closed forms of Feng, Dohmatob, Yang, Charton & Kempe (2024), "Beyond Model Collapse: Scaling Up
with Synthesized Data Requires Reinforcement", each verified against an independent computation.
Importing this package never imports torch.
"""

__version__ = "0.1.0"

from beyond_collapse._lazy import lazy_exports  # noqa: E402
from beyond_collapse.theory import _EXPORTS as _THEORY  # noqa: E402  (the public API: theory's names)

__all__ = ["__version__", *_THEORY]
# imported on first use, so that ``import beyond_collapse`` (and the command line) stays fast
__getattr__, __dir__ = lazy_exports(__name__, _THEORY)
