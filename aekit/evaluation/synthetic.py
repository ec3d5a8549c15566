"""Rows that are not handwritten digits, for testing an all-digits detector.

MNIST holds no anomalies of its own, so the bundled detector and the samples
are checked against images that a person would call "not a digit": a digit
with its pixels shuffled (same ink, no shape), a photo-negative digit, and
uniform noise.
"""

import numpy as np

KINDS = ("shuffled", "inverted", "noise")


def non_digits(X, n, seed=0):
    """(n, 784) float32 images in [0, 1] of the KINDS above, and their kind names."""
    rng = np.random.RandomState(seed)
    kinds = np.array([KINDS[i % len(KINDS)] for i in range(n)])
    rng.shuffle(kinds)
    base = X[rng.choice(len(X), n, replace=len(X) < n)].astype(np.float32)
    out = np.empty_like(base)
    for i, kind in enumerate(kinds):
        if kind == "shuffled":
            out[i] = rng.permutation(base[i])
        elif kind == "inverted":
            out[i] = 1.0 - base[i]
        else:
            out[i] = rng.rand(base.shape[1])
    return out, kinds
