"""Sec. 5.1-5.2 / App. B: a transformer predicting eigenvalues of symmetric matrices, with verifier-selected synthetic data.

The tokenizer (``encode_p1000``, ``decode_p1000``) and the verifier need numpy only; the model,
decoding, training and experiments modules import torch (the ``[empirics]`` extra).
"""

from beyond_collapse.empirics.eigen.tokenizer import decode_p1000, encode_p1000

__all__ = ["encode_p1000", "decode_p1000"]
