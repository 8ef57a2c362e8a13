"""The paper's experiments (Sec. 5): needs the ``[empirics]`` extra (torch, transformers)."""
