"""Every checkable claim of the paper as an object with a check and a recorded status.

- :mod:`beyond_collapse.proofs_check.registry` -- ``CLAIMS`` (paper order), ``run_claims``,
  ``format_table``, ``get_claim``; run from the shell with ``beyond-collapse check [--json]
  [--claim ID]`` (exit status 1 when a status differs from the recorded one).
- ``checks_symbolic`` (printed equations vs ``theory.derivations``), ``checks_numeric`` (the
  limit system (42)-(43), Props. E.3-E.5, Thm. D.3; hypothesis and exact binomials),
  ``checks_finite`` (actual ridge-logistic fits on Condition D.1 data, Props. E.1-E.2),
  ``checks_simulation`` and ``checks_theory`` (supervised-pruning rates vs Monte Carlo / mpmath),
  ``checks_exact`` (class-dependent keep rates, finite-N success probabilities and Phi2 at rho = +-1
  against exact enumeration, the limit system and scipy / mpmath).
- :mod:`beyond_collapse.proofs_check.strategies` -- hypothesis strategies for users' own tests.

Importing this package imports nothing heavy; the registry loads sympy, scipy and hypothesis.
"""
