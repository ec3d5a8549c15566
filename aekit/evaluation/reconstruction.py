"""Protocol R: SSE per MNIST test image at code size k, autoencoder beside PCA."""

import math
import time
from dataclasses import dataclass

import numpy as np


def sse_per_image(X, R):
    """Sum over pixels of squared error, averaged over images (docs/protocols.md, R)."""
    return float(np.mean(np.sum((np.asarray(X, np.float64) - R) ** 2, axis=1)))


@dataclass
class ReconstructionResult:
    code_size: int
    autoencoder_sse: float
    pca_sse: float
    epochs: int
    fit_seconds: float
    architecture: str

    def table(self):
        return (
            f"| method | k | SSE per test image |\n|---|---|---|\n"
            f"| PCA (scikit-learn) | {self.code_size} | {self.pca_sse:.2f} |\n"
            f"| autoencoder {self.architecture} | {self.code_size} | {self.autoencoder_sse:.2f} |\n"
            f"\nautoencoder: {self.epochs} epochs, "
            + (f"{self.fit_seconds:.0f} s" if math.isfinite(self.fit_seconds)
               else "loaded (not fitted here)")
        )


def reconstruction(estimator, data_dir=None, limit=None, model_path=None):
    """Fit ``estimator`` (or use the model at ``model_path``) and PCA on MNIST train."""
    from sklearn.decomposition import PCA

    from ..datasets import load_mnist

    X, _ = load_mnist("train", root=data_dir)
    Xt, _ = load_mnist("test", root=data_dir)
    if limit:
        X = X[:limit]
    start = time.perf_counter()
    if model_path is None:
        estimator.fit(X)
    secs = time.perf_counter() - start
    k = estimator.net_.config.code_size
    pca = PCA(n_components=k, random_state=0).fit(X)
    arch = estimator.net_.config.layers_text()
    return ReconstructionResult(
        code_size=k,
        autoencoder_sse=sse_per_image(Xt, estimator.reconstruct(Xt)),
        pca_sse=sse_per_image(Xt, pca.inverse_transform(pca.transform(Xt))),
        epochs=int(estimator.n_epochs_),
        fit_seconds=secs if model_path is None else float("nan"),
        architecture=arch,
    )
