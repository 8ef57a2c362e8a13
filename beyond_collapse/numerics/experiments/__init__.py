"""The simulations of Figs. 2, 3 and 5: one module per figure, each with ``PROFILES``, ``run`` and ``plot``."""
