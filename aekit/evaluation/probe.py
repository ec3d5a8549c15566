"""Protocol F (docs/protocols.md): how linearly useful are the codes?

Fit the encoder on the training images (labels unused), encode train and test
to k dimensions, fit ``StandardScaler + LogisticRegression(max_iter=2000)`` on
the training codes and report the test accuracy. The baseline is scikit-learn's
PCA with the same k. Also here: the 2-D maps of codes that ``aekit encode
--plot`` and ``aekit evaluate probe`` draw.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from .reconstruction import sse_per_image

SIZES = (2, 32)
METHODS = ("autoencoder", "pca")
MAX_POINTS = 10_000  # a scatter of more points is a solid blot


@dataclass
class ProbeResult:
    method: str  # "autoencoder" or "pca"
    k: int
    accuracy: float  # test accuracy of the linear probe, in [0, 1]
    fit_seconds: float  # fitting the encoder (not the probe)
    details: dict = field(default_factory=dict)  # epochs, stopped early...
    test_codes: np.ndarray = field(default=None, repr=False)


def linear_probe(Z_train, y_train, Z_test, y_test):
    """Test accuracy of ``StandardScaler + LogisticRegression(max_iter=2000)``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    probe.fit(Z_train, y_train)
    return float(probe.score(Z_test, y_test))


def make_encoder(method, k, random_state=0, **params):
    """An unfitted encoder: ``Autoencoder(code_size=k, **params)`` or ``PCA(k)``."""
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=k, random_state=random_state)
    if method == "autoencoder":
        from ..autoencoder import Autoencoder

        return Autoencoder(code_size=k, random_state=random_state, **params)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def probe_one(method, k, X, y, X_test, y_test, random_state=0, **params):
    """Protocol F for one encoder and one code size."""
    enc = make_encoder(method, k, random_state, **params)
    start = time.perf_counter()
    enc.fit(X)
    seconds = time.perf_counter() - start
    Z, Z_test = enc.transform(X), enc.transform(X_test)
    details = {}
    if method == "autoencoder":
        s = enc.training_summary_
        # protocol R's metric: how well the codes also reconstruct clean images
        details = {"epochs": s["epochs"], "stopped_early": s["stopped_early"],
                   "device": s["device"],
                   "test_sse": sse_per_image(X_test, enc.reconstruct(X_test))}
    else:
        details = {"explained_variance": float(enc.explained_variance_ratio_.sum())}
    acc = linear_probe(Z, y, Z_test, y_test)
    return ProbeResult(method, int(k), acc, round(seconds, 2), details, Z_test)


def run_probe(X, y, X_test, y_test, sizes=SIZES, methods=METHODS, random_state=0,
              params=None, on_result=None):
    """Protocol F for every (method, k); ``on_result(result)`` after each one."""
    results = []
    for k in sizes:
        for method in methods:
            extra = (params or {}) if method == "autoencoder" else {}
            r = probe_one(method, k, X, y, X_test, y_test, random_state, **extra)
            results.append(r)
            if on_result is not None:
                on_result(r)
    return results


# -- 2-D maps ----------------------------------------------------------------
def latent_2d(Z, random_state=0):
    """Two coordinates per row: the codes themselves when there are at most
    two dimensions, else their first two principal components."""
    Z = np.asarray(Z, dtype=np.float64)
    if Z.shape[1] == 1:
        return np.column_stack([Z[:, 0], np.zeros(len(Z))]), ("code_0", "")
    if Z.shape[1] == 2:
        return Z, ("code_0", "code_1")
    from sklearn.decomposition import PCA

    if not np.ptp(Z, axis=0).any():  # every row's codes alike: no direction to project on
        return np.zeros((len(Z), 2)), ("PC 1", "PC 2")
    return PCA(n_components=2, random_state=random_state).fit_transform(Z), ("PC 1", "PC 2")


def _subsample(n, limit, random_state=0):
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.RandomState(random_state).choice(n, limit, replace=False))


def _sortable(labels):
    """Labels read from a CSV arrive as strings: sort "10" after "9" when numeric."""
    if labels.dtype != object:
        return labels
    import pandas as pd

    numbers = pd.to_numeric(pd.Series(labels), errors="coerce").to_numpy()
    if np.isnan(numbers).any():
        return labels.astype(str)
    return numbers.astype(np.int64) if np.all(numbers == np.round(numbers)) else numbers


def plot_latent_maps(panels, path, labels=None, title=None, max_points=MAX_POINTS):
    """One scatter per ``(name, codes)`` in ``panels``, side by side, in one PNG.

    Points are coloured by ``labels`` (any values: digits, strings) when given;
    at most ``max_points`` rows are drawn (the same rows in every panel).
    """
    from .. import plots

    n = len(panels[0][1])
    rows = _subsample(n, max_points)
    fig, axes = plots.figure(1, len(panels), figsize=(4.6 * len(panels), 4.4),
                             squeeze=False)
    groups = None
    if labels is not None:
        labels = _sortable(np.asarray(labels)[rows])
        groups = [(c, labels == c) for c in np.unique(labels)]
    size = 2 if len(rows) > 5000 else 5
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if groups is not None and len(groups) <= 10 else "tab20"]
    for ax, (name, Z) in zip(axes[0], panels):
        xy, (xlabel, ylabel) = latent_2d(np.asarray(Z)[rows])
        if groups is None:
            ax.scatter(xy[:, 0], xy[:, 1], s=size, alpha=0.5, color="tab:blue", linewidths=0)
        else:
            for i, (c, mask) in enumerate(groups):
                ax.scatter(xy[mask, 0], xy[mask, 1], s=size, alpha=0.6, color=cmap(i % cmap.N),
                           linewidths=0, label=str(c))
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.2)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    if groups is not None and len(groups) <= 20:
        handles, names = axes[0][-1].get_legend_handles_labels()
        fig.legend(handles, names, loc="center left", bbox_to_anchor=(1.0, 0.5),
                   markerscale=4, frameon=False, fontsize=8, title="label")
    return plots.save_figure(fig, path)
