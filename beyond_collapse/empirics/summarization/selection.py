"""Selection of synthesized summaries (Sec. 5.3): oracle, weak supervision, self-selection, random.

- ``oracle``: keep the highest ROUGE-1 against the reference summary;
- ``weak``: keep the lowest perplexity of the summary under another model (the weak verifier);
- ``self``: keep the lowest perplexity under the generator itself;
- ``random``: keep a uniformly random subset of the same size.

The paper's rates are 12.5% (as many kept examples as real pairs trained the generator), 25% and 50%.
"""

from __future__ import annotations

import numpy as np

from beyond_collapse._validation import as_float_array, check_choice, check_probability

STRATEGIES = ("oracle", "weak", "self", "random")
RATES = (0.125, 0.25, 0.5)


def n_selected(n: int, rate: float) -> int:
    """Number kept at ``rate`` out of ``n``: ``round(rate * n)``, at least 1."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    check_probability("rate", rate, open_low=True)
    return max(1, int(round(float(rate) * int(n))))


def select(strategy: str, rate: float, *, rouge: np.ndarray | None = None, ppl_self: np.ndarray | None = None,
           ppl_weak: np.ndarray | None = None, n: int | None = None, seed: int | None = None) -> np.ndarray:
    """Indices (sorted ascending) of the examples ``strategy`` keeps at ``rate`` (Sec. 5.3).

    ``rouge`` is needed for ``oracle``, ``ppl_weak`` for ``weak``, ``ppl_self`` for ``self``; ``random``
    needs ``n`` (or any score array for its length) and ``seed``. Ties are broken by index (stable
    sort), so the selection is deterministic.
    """
    check_choice("strategy", strategy, STRATEGIES)
    if strategy == "random":
        if n is None:
            given = [a for a in (rouge, ppl_self, ppl_weak) if a is not None]
            if not given:
                raise ValueError("random selection needs n or a score array to know the pool size")
            n = len(given[0])
        if seed is None:
            raise ValueError("random selection needs an explicit seed")
        k = n_selected(n, rate)
        return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))
    name, scores, sign = {"oracle": ("rouge", rouge, -1.0), "weak": ("ppl_weak", ppl_weak, 1.0),
                          "self": ("ppl_self", ppl_self, 1.0)}[strategy]
    if scores is None:
        raise ValueError(f"{strategy} selection needs {name}")
    x = as_float_array(name, scores)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {x.shape}")
    k = n_selected(x.size, rate)
    order = np.argsort(sign * x, kind="stable")  # ascending perplexity or descending ROUGE
    return np.sort(order[:k])
