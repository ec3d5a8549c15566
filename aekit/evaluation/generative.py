"""Protocol G: a generative model of MNIST, measured by its test negative log-likelihood.

MNIST's 10,000 test images binarised once (seed 0: each pixel 1 with probability equal
to its intensity) are scored by the model's importance-weighted bound (Burda et al.,
"Importance weighted autoencoders", ICLR 2016) with k draws per image; minus its mean is
the NLL estimate in nats per image (an upper bound on the true NLL, tighter as k grows;
the protocol's k is 5,000). Beside it: the model's ELBO, a factorised Bernoulli fitted to
the training pixels (the baseline with no network), and the number of active latent
units (Burda et al.'s criterion: Cov_x(E_q[z_j | x]) > 0.01), which shows posterior
collapse.
"""

import time
from dataclasses import dataclass, field

import numpy as np

PROTOCOL_K = 5000
TEST_SEED = 0
ACTIVE = 0.01  # an active unit's covariance of the posterior mean over the test images
REFERENCES = {  # Burda et al. 2016, Table 1, dynamically binarised MNIST (NLL, nats)
    "VAE, 1 stochastic layer": 86.76, "IWAE (k=50), 1 stochastic layer": 84.78,
    "VAE, 2 stochastic layers": 85.33, "IWAE (k=50), 2 stochastic layers": 82.90}


def binarised(X, seed=TEST_SEED):
    """Images ``X`` (n, 784) in [0, 1] as 0/1 float32: each pixel 1 with probability equal
    to its intensity, drawn by ``numpy.random.default_rng(seed)``."""
    X = np.asarray(X, dtype=np.float32)
    return (np.random.default_rng(seed).random(X.shape) < X).astype(np.float32)


@dataclass
class FactorisedBernoulli:
    """Independent pixels: ``p_j`` the smoothed mean of pixel j over the training images
    ((sum + 1) / (n + 2), so that no pixel is certain)."""

    p: np.ndarray

    def log_likelihood(self, X):
        """log p(x) per row (n,), nats, of 0/1 rows ``X``."""
        X = np.asarray(X, dtype=np.float64)
        return X @ np.log(self.p) + (1 - X) @ np.log1p(-self.p)


def factorised_bernoulli(X_train):
    """The :class:`FactorisedBernoulli` of training images (intensities as expected values)."""
    X = np.asarray(X_train, dtype=np.float64)
    return FactorisedBernoulli((X.sum(axis=0) + 1.0) / (len(X) + 2.0))


def active_units(vae, X):
    """Latent units whose posterior mean varies over the rows ``X``: the count of
    Cov_x(E_q[z_j|x]) > 0.01 (Burda et al. 2016, section 5.2), and the variances."""
    variances = np.var(vae.transform(X).astype(np.float64), axis=0)
    return int(np.sum(variances > ACTIVE)), variances


@dataclass
class GenerativeResult:
    """Protocol G's figures (nats per image) and how they were measured."""

    k: int
    n_test: int
    nll: float
    elbo: float
    baseline: float
    active: int
    latent: int
    seconds: float
    references: dict = field(default_factory=lambda: dict(REFERENCES))

    @property
    def protocol(self):
        """Whether these are protocol G's figures (k = 5,000 on all 10,000 test images)."""
        return self.k >= PROTOCOL_K and self.n_test >= 10000

    def to_json(self):
        return {"protocol": "G" if self.protocol else "quick estimate (not protocol G)",
                "k": self.k, "n_test": self.n_test, "test_nll_nats": round(self.nll, 3),
                "test_elbo_nats": round(self.elbo, 3),
                "factorised_bernoulli_nll_nats": round(self.baseline, 3),
                "active_units": self.active, "latent": self.latent,
                "seconds": round(self.seconds, 1), "references": self.references}


def check_protocol_model(vae):
    """Refuse a model protocol G cannot measure (before any data is read).

    Raises
    ------
    ValueError
        The model is not a VAE of 784 features with a Bernoulli decoder.
    """
    if not hasattr(vae, "score_samples") or getattr(vae, "likelihood_", None) != "bernoulli" \
            or vae.n_features_in_ != 784:
        raise ValueError("protocol G needs a VariationalAutoencoder of MNIST's 784 pixels "
                         "with a Bernoulli decoder")


def evaluate_generative(vae, X_train, X_test, k=PROTOCOL_K, progress=None, chunk=100):
    """Protocol G on a fitted :class:`~aekit.VariationalAutoencoder` of 784 pixels:
    ``X_train`` (for the baseline) and ``X_test`` (binarised here, seed 0) in [0, 1].
    ``progress(n)`` is called with the images done after each chunk.

    Raises
    ------
    ValueError
        The model is not a VAE of 784 features with a Bernoulli decoder.
    """
    check_protocol_model(vae)
    start = time.perf_counter()
    Xb = binarised(X_test)
    bounds = []
    for s in range(0, len(Xb), chunk):
        bounds.append(vae.score_samples(Xb[s:s + chunk], k=k))
        if progress is not None:
            progress(min(s + chunk, len(Xb)))
    elbo = float(np.mean(vae.score_samples(Xb)))
    baseline = -float(np.mean(factorised_bernoulli(X_train).log_likelihood(Xb)))
    active, _ = active_units(vae, Xb)
    return GenerativeResult(int(k), int(len(Xb)), -float(np.mean(np.concatenate(bounds))),
                            elbo, baseline, active, vae.net_.config.code_size,
                            time.perf_counter() - start)
