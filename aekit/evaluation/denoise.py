"""Protocol D (docs/protocols.md): denoising PSNR on the MNIST test set, model vs baselines.

Each noise (gaussian 0.5, masking 0.25, salt-and-pepper 0.1) corrupts the
test images with a fixed seed, through :class:`aekit.noise.Noise`, the noise
training uses. Methods: the noisy input itself, a 3x3 median filter,
projection onto scikit-learn's PCA (k = 64, fitted on the clean training
images) and the model's reconstruction. Metric: PSNR per image (peak 1.0),
10 log10(1 / MSE), averaged over the images.

    >>> from aekit.evaluation.denoise import protocol_d
    >>> result = protocol_d(model, X_train, X_test)      # doctest: +SKIP
    >>> print(result.table())                             # doctest: +SKIP
"""

import time
from dataclasses import dataclass, field

import numpy as np

NOISES = ("gaussian:0.5", "masking:0.25", "saltpepper:0.1")
METHODS = ("noisy", "median3x3", "pca", "model")
LABELS = {"noisy": "noisy input", "median3x3": "median 3x3", "pca": "PCA-{k}", "model": "model"}
REFERENCES = ("references (docs/protocols.md D, gaussian 0.5): noisy 9.4, median 3x3 ~14.2, "
              "PCA-64 15.2, a convolutional DAE ~20.2 dB")
SEED = 0
PCA_COMPONENTS = 64


def psnr(clean, restored):
    """PSNR per image (rows), peak 1.0, in dB. A perfect image counts as 100 dB."""
    clean = np.asarray(clean, dtype=np.float64)
    diff = clean - np.asarray(restored, dtype=np.float64).reshape(clean.shape)
    mse = np.mean(diff.reshape(len(clean), -1) ** 2, axis=1)
    return 10 * np.log10(1.0 / np.maximum(mse, 1e-10))


def corrupt(X, spec, seed=SEED):
    """``X`` (n, 784) in [0, 1] with the noise ``spec``; the same seed, the same noise."""
    import torch

    from ..nn.noise import parse_noise

    gen = torch.Generator().manual_seed(int(seed))
    x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    return parse_noise(spec).apply(x, gen).numpy()


def median3x3(X, side=28):
    """A 3x3 median filter on each image (edges mirrored)."""
    from scipy import ndimage

    imgs = np.asarray(X, dtype=np.float32).reshape(-1, side, side)
    return ndimage.median_filter(imgs, size=(1, 3, 3), mode="reflect").reshape(len(imgs), -1)


def fit_pca(X_train, k=PCA_COMPONENTS, seed=SEED):
    from sklearn.decomposition import PCA

    return PCA(n_components=min(k, *X_train.shape), random_state=seed).fit(X_train)


def pca_project(pca, X):
    """Project onto the PCA subspace and back, clipped to the pixel range."""
    return np.clip(pca.inverse_transform(pca.transform(X)), 0, 1)


@dataclass
class DenoiseResult:
    psnr: dict  # noise spec -> method -> mean PSNR (dB)
    n_test: int
    seed: int
    pca_components: int
    seconds: dict = field(default_factory=dict)
    samples: dict = field(default_factory=dict, repr=False)  # noise -> method -> (n, 784)
    clean: np.ndarray = field(default=None, repr=False)

    def table(self):
        methods = [m for m in METHODS if any(m in r for r in self.psnr.values())]
        heads = [LABELS[m].format(k=self.pca_components) for m in methods]
        lines = [f"Protocol D: PSNR (dB), mean over {self.n_test} MNIST test images, "
                 f"noise seed {self.seed}",
                 f"{'noise':<16}" + "".join(f"{h:>13}" for h in heads)]
        for spec, row in self.psnr.items():
            lines.append(f"{spec:<16}" + "".join(f"{row[m]:>13.2f}" for m in methods))
        return "\n".join(lines)

    def to_dict(self):
        return {"protocol": "D", "metric": "PSNR dB (mean per image, peak 1.0)",
                "n_test": self.n_test, "noise_seed": self.seed,
                "pca_components": self.pca_components, "psnr": self.psnr,
                "seconds": self.seconds}


def protocol_d(model, X_train, X_test, noises=NOISES, seed=SEED, pca_components=PCA_COMPONENTS,
               keep=10, log=None):
    """Run protocol D. ``model`` is a fitted estimator (or None: baselines only).

    ``X_train`` (clean) fits the PCA baseline; ``keep`` test images of each
    method are kept in ``samples`` for the picture.
    """
    ae = model
    t = time.perf_counter()
    pca = fit_pca(X_train, pca_components, seed)
    seconds = {"pca_fit": round(time.perf_counter() - t, 2)}
    result = DenoiseResult({}, len(X_test), seed, pca.n_components_, seconds,
                           clean=np.asarray(X_test[:keep]))
    for spec in noises:
        noisy = corrupt(X_test, spec, seed)
        outputs = {"noisy": noisy, "median3x3": median3x3(noisy), "pca": pca_project(pca, noisy)}
        if ae is not None:
            t = time.perf_counter()
            outputs["model"] = ae.reconstruct(noisy)
            seconds[f"model_{spec}"] = round(time.perf_counter() - t, 2)
        result.psnr[spec] = {m: float(np.mean(psnr(X_test, out))) for m, out in outputs.items()}
        result.samples[spec] = {m: np.asarray(out[:keep]) for m, out in outputs.items()}
        if log:
            log(f"{spec}: " + ", ".join(f"{m} {v:.2f} dB" for m, v in result.psnr[spec].items()))
    return result


def picture(result, path):
    """One PNG: the clean row, then per noise its noisy row and each method's output."""
    from .. import plots

    rows, labels = [result.clean], ["clean"]
    for spec, outs in result.samples.items():
        for m, imgs in outs.items():
            rows.append(imgs)
            labels.append(f"{spec} {LABELS[m].format(k=result.pca_components)}")
    return plots.image_rows(rows, labels, path,
                            title=f"Protocol D: clean | noisy | median 3x3 | PCA-"
                                  f"{result.pca_components} | model")
