"""beyond-collapse: when does training on verifier-selected synthetic data reach the optimum?

Closed forms of Feng, Dohmatob, Yang, Charton & Kempe (2024), "Beyond Model Collapse: Scaling Up
with Synthesized Data Requires Reinforcement", each verified against an independent computation.
Importing this package never imports torch.
"""

__version__ = "0.1.0"

from beyond_collapse.theory import *  # noqa: E402,F401,F403  (the public API, see theory.__all__)
from beyond_collapse.theory import __all__ as _theory_all  # noqa: E402

__all__ = ["__version__", *_theory_all]
