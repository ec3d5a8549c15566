"""Filling missing values with an autoencoder: iterate its reconstruction on the gaps only.

Missing entries start at a guess (the model's training means, or given
values); each round the autoencoder reconstructs the rows and the missing
entries take the reconstruction's values while the known entries stay fixed.
The rounds stop when the filled values stop moving. The same loop works with
any reconstruction, which is how the PCA baseline of ``aekit evaluate impute``
runs (scikit-learn's PCA ``inverse_transform(transform(X))``).

    >>> from aekit.imputation import impute
    >>> X_filled = impute(model, X_with_nans)     # doctest: +SKIP
"""

import numpy as np

from .errors import DataError

MAX_ITER = 100
TOL = 1e-4


def iterative_fill(reconstruct, X, missing, start, max_iter=MAX_ITER, tol=TOL, scale=None):
    """Fill ``X[missing]`` by iterating ``reconstruct`` (rows -> rows).

    ``start`` (one value per column, or an array of X's shape) is the first
    guess. A row stops changing once the largest move of its filled entries,
    divided by ``scale`` (per column; 1 if None), drops below ``tol``.
    Returns ``(filled copy of X, rounds used)``.
    """
    X = np.array(X, dtype=np.float64, copy=True)
    missing = np.asarray(missing, dtype=bool)
    if missing.shape != X.shape:
        raise ValueError(f"missing mask {missing.shape} does not match X {X.shape}")
    start = np.broadcast_to(np.asarray(start, dtype=np.float64), X.shape)
    X[missing] = start[missing]
    scale = np.ones(X.shape[1]) if scale is None else np.asarray(scale, dtype=np.float64)
    active = np.flatnonzero(missing.any(axis=1))
    rounds = 0
    while active.size and rounds < max_iter:
        rows, m = X[active], missing[active]
        R = np.asarray(reconstruct(rows.astype(np.float32)), dtype=np.float64)
        moved = np.where(m, np.abs(R - rows) / scale, 0.0).max(axis=1)
        rows[m] = R[m]
        X[active] = rows
        active = active[moved >= tol]
        rounds += 1
    return X, rounds


def autoencoder_of(model):
    """The autoencoder inside ``model`` (an estimator with ``reconstruct``)."""
    if hasattr(model, "reconstruct") and hasattr(model, "net_"):
        return model
    inner = model._autoencoder() if hasattr(model, "_autoencoder") else None
    if inner is None or not hasattr(inner, "reconstruct"):
        raise DataError(f"this model ({type(model).__name__}) holds no autoencoder to "
                        "reconstruct with")
    return inner


def impute(model, X, start=None, max_iter=MAX_ITER, tol=TOL):
    """Fill the NaN cells of X (n_samples, n_features) with the autoencoder.

    ``start``: the first guess per column; by default the model's training
    means for a standardised model, and for a [0, 1] model the column means
    of the known cells in X (0 where a column has none). Known cells are
    returned unchanged. Returns a float64 array.
    """
    ae = autoencoder_of(model)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise DataError(f"expected a 2-D table, got shape {X.shape}")
    if X.shape[1] != ae.n_features_in_:
        raise DataError(f"the data has {X.shape[1]} columns but the model expects "
                        f"{ae.n_features_in_}")
    missing = np.isnan(X)
    if np.isinf(X).any():
        raise DataError("the data holds infinite values; only empty/NaN cells can be filled")
    if not missing.any():
        return X.copy()
    if start is None:
        start = default_start(ae, X, missing)
    scale = ae.scale_ if getattr(ae, "scaling_", "unit") == "standard" else None
    filled, _ = iterative_fill(ae.reconstruct, X, missing, start, max_iter, tol, scale)
    return filled


def default_start(ae, X, missing):
    if getattr(ae, "scaling_", "unit") == "standard":
        return ae.mean_.astype(np.float64)
    known = np.where(missing, 0.0, X)
    counts = (~missing).sum(axis=0)
    return np.divide(known.sum(axis=0), counts, out=np.zeros(X.shape[1]), where=counts > 0)
