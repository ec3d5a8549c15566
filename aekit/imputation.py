"""Filling missing values with an autoencoder: iterate its reconstruction on the gaps only.

Missing entries start at the model's idea of "nothing known" (0 in its scaled
space: the paper for [0, 1] pixels, as masking noise leaves it in training; the
training mean for standardised columns). Each round the autoencoder
reconstructs the rows; the missing entries take the reconstruction's values
while the known entries stay fixed; rows stop once their fills stop moving.

A plain autoencoder (like PCA) settles on fills that agree with the known
entries, so its last round is kept. A *denoising* autoencoder is trained to
pull inputs toward typical data; iterated to its fixed point, its fills drift
toward a prototype (measured on MNIST: worse than a single round). For it,
every round is scored by how well its reconstruction matches the row's
*known* entries and each row keeps its best-scoring round. The same loop runs
any reconstruction: the PCA baseline of ``aekit evaluate impute`` uses it with
scikit-learn's ``inverse_transform(transform(X))``.

    >>> from aekit.imputation import impute
    >>> X_filled = impute(model, X_with_nans)     # doctest: +SKIP
"""

import numpy as np

from .errors import DataError

MAX_ITER = 50
TOL = 1e-4


def iterative_fill(reconstruct, X, missing, start, max_iter=MAX_ITER, tol=TOL, scale=None,
                   keep="last"):
    """Fill ``X[missing]`` by iterating ``reconstruct`` (rows -> rows).

    ``start`` (one value per column, or an array of X's shape) is the first
    guess. ``keep="last"`` returns each row's last fill; ``keep="best"`` the
    fill of the round whose reconstruction was closest to the row's known
    entries (squared error, divided by ``scale`` per column). A row stops
    once its fills move less than ``tol`` (same units) in a round.
    Returns ``(filled copy of X, rounds run)``.
    """
    if keep not in ("last", "best"):
        raise ValueError(f"keep must be 'last' or 'best', got {keep!r}")
    X = np.array(X, dtype=np.float64, copy=True)
    missing = np.asarray(missing, dtype=bool)
    if missing.shape != X.shape:
        raise ValueError(f"missing mask {missing.shape} does not match X {X.shape}")
    start = np.broadcast_to(np.asarray(start, dtype=np.float64), X.shape)
    X[missing] = start[missing]
    scale = np.ones(X.shape[1]) if scale is None else np.asarray(scale, dtype=np.float64)
    best = X.copy()
    best_err = np.full(len(X), np.inf)
    n_known = np.maximum((~missing).sum(axis=1), 1)
    active = np.flatnonzero(missing.any(axis=1))
    rounds = 0
    while active.size and rounds < max_iter:
        rows, m = X[active], missing[active]
        R = np.asarray(reconstruct(rows.astype(np.float32)), dtype=np.float64)
        diff = (R - rows) / scale
        known_err = np.where(m, 0.0, diff**2).sum(axis=1) / n_known[active]
        moved = np.where(m, np.abs(diff), 0.0).max(axis=1)
        rows[m] = R[m]
        X[active] = rows
        better = known_err < best_err[active] if keep == "best" else np.ones(len(active), bool)
        best[active[better]] = rows[better]
        best_err[active[better]] = known_err[better]
        active = active[moved >= tol]
        rounds += 1
    return best, rounds


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

    ``start``: the first guess per column (default: 0 for a [0, 1] model, the
    training means for a standardised one). A denoising autoencoder keeps each
    row's best round, a plain one its last (see the module's notes). Known
    cells are returned unchanged. Returns a float64 array.
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
    standard = getattr(ae, "scaling_", "unit") == "standard"
    if start is None:
        start = ae.mean_.astype(np.float64) if standard else 0.0
    scale = ae.scale_ if standard else None
    keep = "best" if getattr(ae, "noise", None) else "last"
    filled, _ = iterative_fill(ae.reconstruct, X, missing, start, max_iter, tol, scale, keep)
    return filled
