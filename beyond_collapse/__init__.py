"""beyond-collapse: when does training on verifier-selected synthetic data reach the optimum?

Closed forms of Feng, Dohmatob, Yang, Charton & Kempe (2024), "Beyond Model Collapse: Scaling Up
with Synthesized Data Requires Reinforcement", each verified against an independent computation.
Importing this package never imports torch.
"""

__version__ = "0.1.0"
