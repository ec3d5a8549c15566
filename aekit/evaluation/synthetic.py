"""Made-up anomalies for testing detectors.

MNIST holds no anomalies of its own, so the bundled detector and the samples
are checked against images that a person would call "not a digit": a digit
with its pixels shuffled (same ink, no shape), a photo-negative digit, and
uniform noise (:func:`non_digits`). Issue 24's small table whose anomalies are
ordinary values in an unusual combination: :func:`combination_table`.
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


def combination_table(seed=0, n_train=500, n_normal=200, n_anomalies=20):
    """Issue 24's five-column case: ``(X_train, X_test, y_test)``, float64.

    5 columns driven by 2 Gaussian factors through a random linear map, plus Gaussian
    noise of 0.05: ``X_train`` (n_train, 5) of normal rows; ``X_test`` (n_normal +
    n_anomalies, 5): normal rows, then anomalies whose columns are each permuted among
    the anomalies (every value ordinary, the combination not); ``y_test`` 1 = anomaly.
    A 2-component PCA scores an AUROC of about 1.0 on it.
    """
    rng = np.random.RandomState(seed)
    mixing = rng.normal(size=(2, 5))

    def rows(n):
        return rng.normal(size=(n, 2)) @ mixing + 0.05 * rng.normal(size=(n, 5))

    train, normal, odd = rows(n_train), rows(n_normal), rows(n_anomalies)
    for j in range(odd.shape[1]):
        odd[:, j] = rng.permutation(odd[:, j])
    return train, np.vstack([normal, odd]), np.r_[np.zeros(n_normal), np.ones(n_anomalies)]
