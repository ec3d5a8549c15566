"""How a model just trained did at what it was trained for: the line `aekit train` ends
with (protocol D's PSNR for a denoiser, protocol R's SSE for an MNIST autoencoder, the
prediction or reconstruction error on a table), beside PCA where it applies."""

import numpy as np


def denoising_psnr(est, X_train, X_test, seed=0):
    """PSNR (dB) on test images corrupted with the model's own training noise: the noisy
    input, PCA-64 projection and the model (protocol D's measures)."""
    from .denoise import corrupt, fit_pca, pca_project, psnr

    noisy = corrupt(X_test, est.noise, seed)
    pca = fit_pca(X_train)
    return {"noise": str(est.noise), "noisy": float(np.mean(psnr(X_test, noisy))),
            f"pca_{pca.n_components_}": float(np.mean(psnr(X_test, pca_project(pca, noisy)))),
            "model": float(np.mean(psnr(X_test, est.reconstruct(noisy)))),
            "n_test": int(len(X_test))}


def reconstruction_sse(est, X_train, X_test):
    """SSE per test image of the model and of PCA with as many components as the code (or
    as the training images allow, when fewer: ``pca_components``)."""
    from sklearn.decomposition import PCA

    from .reconstruction import sse_per_image

    k = min(est.net_.config.code_size, *X_train.shape)
    pca = PCA(n_components=k, random_state=0).fit(X_train)
    return {"test_sse_per_image": round(sse_per_image(X_test, est.reconstruct(X_test)), 4),
            "pca_test_sse_per_image": round(
                sse_per_image(X_test, pca.inverse_transform(pca.transform(X_test))), 4),
            "n_test": int(len(X_test)), "pca_components": int(k)}


def generative_elbo(est, X, X_test):
    """``(figures, line)`` of a VAE: the mean ELBO (nats per row) of MNIST's test images
    binarised once with seed 0 (protocol G's test set), beside a factorised Bernoulli of
    the training pixels; of the training table for a table."""
    if X_test is None:
        elbo = float(np.mean(est.score_samples(X)))
        return {"train_elbo_nats": round(elbo, 4)}, \
            f"mean ELBO of the training table: {elbo:.4g} nats per row (higher is better)"
    from .generative import binarised, factorised_bernoulli

    Xb = binarised(X_test, seed=0)
    elbo = float(np.mean(est.score_samples(Xb)))
    base = float(np.mean(factorised_bernoulli(X).log_likelihood(Xb)))
    return ({"test_elbo_nats": round(elbo, 3), "factorised_bernoulli_nats": round(base, 3),
             "n_test": int(len(Xb))},
            f"mean ELBO of {len(Xb)} MNIST test images binarised with seed 0: {elbo:.2f} nats "
            f"per image (factorised Bernoulli: {base:.2f}; `aekit evaluate generative` "
            "gives the tighter bound of protocol G)")


def evaluation_of(est, X, X_test):
    """``(figures, line)``: how the model did at what it was trained for (a detector: how
    its autoencoder did)."""
    if hasattr(est, "sample"):
        return generative_elbo(est, X, X_test)
    est = est.as_autoencoder() if hasattr(est, "as_autoencoder") else est
    if X_test is not None and est.noise and not str(est.noise).startswith("dropout"):
        e = denoising_psnr(est, X, X_test)
        pca = next(k for k in e if k.startswith("pca_"))
        return e, (f"denoising PSNR on {e['n_test']} MNIST test images with its training noise "
                   f"{e['noise']}: {e['model']:.2f} dB (noisy input {e['noisy']:.2f} dB, "
                   f"PCA-{pca[4:]} projection {e[pca]:.2f} dB)")
    if X_test is not None:
        e = reconstruction_sse(est, X, X_test)
        return e, (f"test reconstruction error (SSE per image, {e['n_test']} MNIST test images): "
                   f"{e['test_sse_per_image']:.2f}  (PCA with {e['pca_components']} "
                   "components: "
                   f"{e['pca_test_sse_per_image']:.2f})")
    # the unseen slots left out: 0 on every training row, they are no cell of the table
    errors = np.delete(est.reconstruction_errors(X), est.schema_.unseen_slots(), axis=1)
    mse = float(np.mean(errors))
    if est.objective_ == "masked":
        median = float(np.median(errors))
        return {"train_mse_scaled": round(mse, 6), "train_median_row_mse_scaled":
                round(median, 6)}, \
            (f"prediction error on the training table: {mse:.4g} a cell, {median:.4g} in the "
             "median row (each cell predicted from the others, in its column's variances: "
             "near 0 when the columns determine one another, 1 when they tell nothing "
             "about one another, as a column's mean would; the mean also counts the rows "
             "it finds surprising, anomalies among them, and the model scores rows by how "
             "surprising each cell is)")
    return {"train_mse_scaled": round(mse, 6)}, \
        ("reconstruction error on the training table (mean squared error per cell, in the "
         f"model's scaled units): {mse:.4g}")
