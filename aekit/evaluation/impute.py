"""Missing-pixel imputation on the MNIST test set: model vs mean vs PCA, RMSE.

Two patterns of missing pixels, drawn with a fixed seed per test image:

- ``random25``: 25% of the pixels (196 of 784), chosen at random;
- ``block10``: a 10x10 block whose top-left corner is uniform in rows and
  columns 4..14, so that it covers part of the digit's 20x20 box.

Methods: each pixel's mean over the training images; scikit-learn's PCA
(fitted on the clean training images) and the autoencoder, both filled by the
same loop (:func:`aekit.imputation.iterative_fill`: iterate the reconstruction
on the missing pixels only). PCA runs the classic iterative PCA imputation
(start at the training means, iterate until the fills settle); the
autoencoder runs exactly as `aekit impute` runs it (see
:func:`aekit.imputation.impute`). Metric: RMSE over all missing pixels, in
[0, 1] pixel units.

PCA's number of components matters here (too many overfit a large hole), so
by default it is chosen per pattern from ``PCA_CANDIDATES`` on held-out
training images: the baseline is PCA at its best, not at a fixed k.
"""

import time
from dataclasses import dataclass, field

import numpy as np

PATTERNS = ("random25", "block10")
METHODS = ("mean", "pca", "model")
DESCRIPTIONS = {"random25": "25% random pixels", "block10": "10x10 block"}
SEED = 0
PCA_CANDIDATES = (8, 16, 32, 64)
N_VALIDATION = 2000
SIDE = 28


def missing_pattern(n, pattern, seed=SEED, side=SIDE):
    """Boolean (n, side*side) masks, True = missing."""
    rng = np.random.RandomState(seed)
    d = side * side
    if pattern == "random25":
        k = d // 4
        order = np.argsort(rng.rand(n, d), axis=1)
        mask = np.zeros((n, d), dtype=bool)
        np.put_along_axis(mask, order[:, :k], True, axis=1)
        return mask
    if pattern == "block10":
        top = rng.randint(4, 15, size=n)
        left = rng.randint(4, 15, size=n)
        mask = np.zeros((n, side, side), dtype=bool)
        for i in range(n):
            mask[i, top[i]:top[i] + 10, left[i]:left[i] + 10] = True
        return mask.reshape(n, d)
    raise ValueError(f"unknown pattern {pattern!r}: use one of {PATTERNS}")


def rmse_missing(X, filled, missing):
    return float(np.sqrt(np.mean((np.asarray(filled, np.float64)[missing] - X[missing]) ** 2)))


@dataclass
class ImputeResult:
    rmse: dict  # pattern -> method -> RMSE on the missing pixels
    n_test: int
    seed: int
    pca_components: dict  # pattern -> k used
    rounds: dict = field(default_factory=dict)  # pattern -> method -> iterations used
    seconds: dict = field(default_factory=dict)
    samples: dict = field(default_factory=dict, repr=False)
    clean: np.ndarray = field(default=None, repr=False)

    def table(self):
        methods = [m for m in METHODS if any(m in r for r in self.rmse.values())]
        heads = {"mean": "mean", "pca": "PCA", "model": "model"}
        lines = [f"Imputation: RMSE on the missing pixels (pixels in [0, 1]), {self.n_test} MNIST "
                 f"test images, mask seed {self.seed}",
                 f"{'missing':<20}" + "".join(f"{heads[m]:>10}" for m in methods) + "   PCA k"]
        for pattern, row in self.rmse.items():
            cells = "".join(f"{row[m]:>10.4f}" for m in methods)
            lines.append(f"{DESCRIPTIONS[pattern]:<20}{cells}   {self.pca_components[pattern]:>5}")
        return "\n".join(lines)

    def to_dict(self):
        return {"metric": "RMSE on missing pixels", "n_test": self.n_test, "mask_seed": self.seed,
                "pca_components": self.pca_components, "rmse": self.rmse, "rounds": self.rounds,
                "seconds": self.seconds}


def protocol_impute(model, X_train, X_test, patterns=PATTERNS, seed=SEED,
                    pca_components=None, max_iter=50, keep=10, log=None):
    """Run the imputation comparison; ``model`` None gives the baselines only.

    ``pca_components``: a fixed k, or None to choose it per pattern on
    held-out training images.
    """
    from ..imputation import impute, iterative_fill

    ae = model
    X_train = np.asarray(X_train, dtype=np.float32)
    X_test = np.asarray(X_test, dtype=np.float64)
    means = X_train.astype(np.float64).mean(axis=0)
    result = ImputeResult({}, len(X_test), seed, {}, clean=X_test[:keep])
    pcas = {}
    for pattern in patterns:
        missing = missing_pattern(len(X_test), pattern, seed)
        t = time.perf_counter()
        k = pca_components or choose_pca_components(X_train, pattern, seed, max_iter)
        if k not in pcas:
            pcas[k] = _fit_pca(X_train, k, seed)
        pca = pcas[k]
        result.pca_components[pattern] = int(pca.n_components_)
        result.seconds[f"pca_choose_fit_{pattern}"] = round(time.perf_counter() - t, 2)
        filled = {"mean": np.where(missing, means, X_test)}
        rounds = {}
        t = time.perf_counter()
        filled["pca"], rounds["pca"] = iterative_fill(_pca_reconstruct(pca), X_test, missing,
                                                      means, max_iter)
        result.seconds[f"pca_{pattern}"] = round(time.perf_counter() - t, 2)
        if ae is not None:
            t = time.perf_counter()
            filled["model"] = impute(ae, np.where(missing, np.nan, X_test), max_iter=max_iter)
            result.seconds[f"model_{pattern}"] = round(time.perf_counter() - t, 2)
        result.rmse[pattern] = {m: rmse_missing(X_test, f, missing) for m, f in filled.items()}
        result.rounds[pattern] = rounds
        shown = np.where(missing[:keep], 0.5, X_test[:keep])  # holes shown mid-grey
        result.samples[pattern] = {"damaged": shown,
                                   **{m: f[:keep] for m, f in filled.items()}}
        if log:
            log(f"{DESCRIPTIONS[pattern]}: " + ", ".join(
                f"{m} {v:.4f}" for m, v in result.rmse[pattern].items())
                + f" (PCA k={result.pca_components[pattern]})")
    return result


def choose_pca_components(X_train, pattern, seed=SEED, max_iter=50, candidates=PCA_CANDIDATES):
    """The k with the lowest imputation RMSE on the last training images, PCA fitted on the rest."""
    from ..imputation import iterative_fill

    n_val = min(N_VALIDATION, len(X_train) // 5)
    fit, val = X_train[:-n_val], np.asarray(X_train[-n_val:], dtype=np.float64)
    missing = missing_pattern(len(val), pattern, seed + 1)
    means = fit.astype(np.float64).mean(axis=0)
    scores = {}
    for k in candidates:
        filled, _ = iterative_fill(_pca_reconstruct(_fit_pca(fit, k, seed)), val, missing, means,
                                   max_iter)
        scores[k] = rmse_missing(val, filled, missing)
    return min(scores, key=scores.get)


def _fit_pca(X, k, seed):
    from .denoise import fit_pca

    return fit_pca(X, k, seed)


def _pca_reconstruct(pca):
    return lambda rows: pca.inverse_transform(pca.transform(rows))


def picture(result, path):
    from .. import plots

    heads = {"damaged": "missing (grey)", "mean": "mean", "pca": "PCA", "model": "model"}
    rows, labels = [result.clean], ["clean"]
    for pattern, outs in result.samples.items():
        for m, imgs in outs.items():
            rows.append(imgs)
            head = heads[m] + (f"-{result.pca_components[pattern]}" if m == "pca" else "")
            labels.append(f"{DESCRIPTIONS[pattern]}: {head}")
    return plots.image_rows(rows, labels, path,
                            title="Imputation: clean | missing | mean | PCA | model")
