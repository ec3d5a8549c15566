"""The variational autoencoder's network, its bounds and its training objective (no estimator).

The model (Kingma & Welling, "Auto-encoding variational Bayes", ICLR 2014)::

    q(z|x) = N(mu(x), diag(exp(logvar(x))))   the encoder: one Gaussian stochastic layer
    p(z)   = N(0, I)
    p(x|z) = Bernoulli(sigmoid(logits(z)))     likelihood "bernoulli": data in [0, 1]
           = N(mean(z), diag(var(z)))          likelihood "gaussian": standardised data,
                                               var = min_var + exp(raw) (learned)

The backbone is aekit's (:func:`aekit.nn.network.mlp`: Linear, optional batch norm, ReLU,
optional dropout; Glorot-uniform weights, zero biases). The encoder's last hidden layer
feeds one linear layer to ``[mu, logvar]``; the decoder's last layer is linear, to the
Bernoulli logits or to ``[mean, raw log-variance]``.

Bounds per row, in nats (log-likelihood bounds: higher is better):

- the ELBO, ``E_q[log p(x|z)] - KL(q(z|x) || p(z))``, the expectation taken with the
  draws given, the KL term in closed form (:meth:`VAENet.elbo`);
- the log-weights ``log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)`` with
  ``z_i = mu + sigma * eps_i`` (each one a single-sample ELBO estimate), and the
  importance-weighted bound ``log (1/k) sum_i w_i`` (Burda, Grosse & Salakhutdinov,
  "Importance weighted autoencoders", ICLR 2016), which is at least the mean of the
  ``log w_i`` (Jensen) and tends to ``log p(x)`` as k grows.

Deterministic scoring: each row draws its noise from its own numpy generator, seeded by a
hash of the row's float32 bytes and a seed (:func:`row_generators`), so a row's score
depends on neither the other rows nor the call (a table of draws shared by all rows would
make a data set's mean score carry that table's luck: several nats at k = 1).
"""

import hashlib
import math
import numbers
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .config import MAX_PARAMETERS
from .network import mlp

LOG_2PI = math.log(2 * math.pi)
LIKELIHOODS = ("bernoulli", "gaussian")
KIND = "vae"  # the ``kind`` of a VAE network's entry in a model file
MAX_LAYERS = 64
DRAWS_PER_PASS = 8192  # decoder rows per pass when scoring (rows x draws)
LOGVAR_LIMIT = 30.0  # the posterior's log-variance is clamped to +-this (float32 exp)


@dataclass
class VAEConfig:
    """Everything needed to rebuild a :class:`VAENet` (not to train it).

    ``code_size``: the latent dimension; ``hidden``: the encoder's hidden layers (the
    decoder mirrors them unless ``decoder_hidden``); ``min_var``: the Gaussian decoder's
    variance floor, in standardised units.
    """

    n_features: int
    code_size: int
    hidden: tuple
    likelihood: str
    dropout: float = 0.0
    batch_norm: bool = False
    decoder_hidden: tuple = None
    min_var: float = 0.01
    # what aekit.nn.training.Trainer asks of a network's config: not a masked model
    objective = KIND

    def __post_init__(self):
        self.hidden = tuple(int(h) for h in self.hidden)
        if self.decoder_hidden is None:
            self.decoder_hidden = tuple(reversed(self.hidden))
        self.decoder_hidden = tuple(int(h) for h in self.decoder_hidden)
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}")
        if not self.hidden or not self.decoder_hidden:
            raise ValueError("a VAE needs at least one hidden layer in its encoder and decoder")
        if not (0 <= self.dropout < 1 and 0 < self.min_var < math.inf):
            raise ValueError("dropout must be in [0, 1) and min_var positive")

    def layers_text(self):
        """The layer sizes for people, e.g. ``784-512-256-[32]-256-512-784``."""
        out = self.n_features * (1 if self.likelihood == "bernoulli" else 2)
        return "-".join(map(str, [self.n_features, *self.hidden, f"[{self.code_size}]",
                                  *self.decoder_hidden, out]))

    def to_dict(self):
        d = asdict(self)
        d["hidden"], d["decoder_hidden"] = list(self.hidden), list(self.decoder_hidden)
        return {"kind": KIND, **d}

    @classmethod
    def from_dict(cls, d):
        """The config of a model file's entry, its fields checked for types and sizes
        before anything is built (ValueError naming the field otherwise)."""
        if not isinstance(d, dict) or d.get("kind") != KIND:
            raise ValueError("not a VAE network's config")
        layers = [d.get("hidden"), d.get("decoder_hidden")]
        if not all(isinstance(v, list) and 1 <= len(v) <= MAX_LAYERS for v in layers):
            raise ValueError(f"hidden layer sizes must be lists of 1 to {MAX_LAYERS} integers")
        for v in [d.get("n_features"), d.get("code_size"), *layers[0], *layers[1]]:
            if not (isinstance(v, numbers.Integral) and not isinstance(v, bool)
                    and 1 <= v <= MAX_PARAMETERS):
                raise ValueError("layer sizes must be positive integers")
        for key in ("dropout", "min_var"):
            v = d.get(key)
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)):
                raise ValueError(f"{key} must be a finite number")
        if not isinstance(d.get("batch_norm"), bool):
            raise ValueError("batch_norm must be true or false")
        known = [k for k in cls.__dataclass_fields__ if k in d]
        return cls(**{k: d[k] for k in known})


def row_generators(X, seed=0):
    """One numpy Generator per row of ``X`` (n, d), seeded by a BLAKE2b hash of the row's
    float32 bytes keyed by ``seed``: each row gets its own fixed draws, whatever the other
    rows, its position or the call (equal rows get equal draws; -0.0 reads as 0.0)."""
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float32) + np.float32(0.0))
    key = int(seed).to_bytes(8, "little", signed=True)
    return [np.random.default_rng(int.from_bytes(
        hashlib.blake2b(r.tobytes(), digest_size=8, key=key).digest(), "little")) for r in X]


def row_noise(gens, k, latent):
    """The next (k, n, latent) standard-normal draws of the rows' generators (float64;
    drawing 50 then 50 gives the numbers that drawing 100 gives)."""
    return torch.from_numpy(np.stack([g.standard_normal((k, latent)) for g in gens], axis=1))


class VAENet(nn.Module):
    """x -> encoder -> (mu, logvar) -> z -> decoder -> Bernoulli logits or Gaussian
    (mean, raw log-variance). Shapes: x (n, n_features), z (..., code_size)."""

    def __init__(self, config: VAEConfig):
        super().__init__()
        c = self.config = config
        width = c.n_features * (1 if c.likelihood == "bernoulli" else 2)
        self.encoder = nn.Sequential(
            *mlp([c.n_features, *c.hidden], c.dropout, c.batch_norm, last_activation=True),
            nn.Linear(c.hidden[-1], 2 * c.code_size))
        self.decoder = nn.Sequential(
            *mlp([c.code_size, *c.decoder_hidden], c.dropout, c.batch_norm,
                 last_activation=True),
            nn.Linear(c.decoder_hidden[-1], width))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    @torch.no_grad()
    def init_output_bias(self, X):
        """Start at the factorised model of the rows ``X`` (n, n_features), the baseline
        with no network: the output bias is each feature's logit of its mean (Bernoulli,
        clipped to [0.001, 0.999]) or its mean and log-variance (Gaussian). Returns self."""
        X = torch.as_tensor(X, dtype=torch.float32)
        bias, d = self.decoder[-1].bias, self.config.n_features
        if self.config.likelihood == "bernoulli":
            p = X.mean(0).clamp(1e-3, 1 - 1e-3)
            bias.copy_(torch.log(p) - torch.log1p(-p))
        else:
            bias[:d] = X.mean(0)
            var = X.var(0, unbiased=False) if len(X) > 1 else torch.ones(d)
            bias[d:] = torch.log((var - self.config.min_var).clamp_min(1e-3))
        return self

    def encode(self, x):
        """x (n, n_features) -> mu, logvar, each (n, code_size)."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar.clamp(-LOGVAR_LIMIT, LOGVAR_LIMIT)

    def forward(self, x):
        return self.encode(x)

    def decode(self, z):
        """z (..., code_size) -> the decoder's output (..., n_features or 2 n_features)."""
        out = self.decoder(z.reshape(-1, z.shape[-1]))
        return out.reshape(*z.shape[:-1], out.shape[-1])

    def gaussian_params(self, out):
        """A Gaussian decoder's output -> mean, log-variance (variance min_var + exp(raw))."""
        mean, raw = out.chunk(2, dim=-1)
        return mean, torch.logaddexp(raw, torch.full_like(raw, math.log(self.config.min_var)))

    def decoder_mean(self, z):
        """The decoder's mean (..., n_features): pixel probabilities, or Gaussian means."""
        out = self.decode(z)
        if self.config.likelihood == "bernoulli":
            return torch.sigmoid(out)
        return self.gaussian_params(out)[0]

    def log_px(self, x, out):
        """log p(x|z) summed over the features; x (n, d) against out (..., n, d or 2d)."""
        if self.config.likelihood == "bernoulli":
            return (x * out - F.softplus(out)).sum(-1)  # exact for x in [0, 1]
        mean, logvar = self.gaussian_params(out)
        return -0.5 * (LOG_2PI + logvar + (x - mean) ** 2 * torch.exp(-logvar)).sum(-1)

    @staticmethod
    def kl(mu, logvar):
        """KL(N(mu, exp(logvar)) || N(0, I)) per row, in closed form."""
        return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)

    def elbo(self, x, eps):
        """The ELBO per row (n,): the mean over the draws ``eps`` (k, n, code_size) or
        (n, code_size) of log p(x|z), less the closed-form KL."""
        mu, logvar = self.encode(x)
        eps = eps.unsqueeze(0) if eps.dim() == 2 else eps
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.log_px(x, self.decode(z)).mean(0) - self.kl(mu, logvar)

    def log_weights(self, x, mu, logvar, eps, beta=1.0):
        """log w (k, n) for the draws ``eps`` (k, n, code_size): log p(x|z) + beta (log p(z)
        - log q(z|x)); beta = 1 is the true log-weight (less during a KL warm-up)."""
        z = mu + torch.exp(0.5 * logvar) * eps
        log_pz = -0.5 * (z.pow(2) + LOG_2PI).sum(-1)
        log_qz = -0.5 * (eps.pow(2) + LOG_2PI + logvar).sum(-1)
        return self.log_px(x, self.decode(z)) + beta * (log_pz - log_qz)


def _rows_bound(net, x, k, seed, weights, keys):
    """For rows ``x`` (n, d): the ELBO (k = 1), the k-sample bound (n,), or with
    ``weights`` the log-weights (n, k), each row's draws from its own generator (keyed
    by its row of ``keys``, or by ``x``'s)."""
    gens = row_generators((x if keys is None else keys).cpu().numpy(), seed)
    mu, logvar = net.encode(x)
    latent = mu.shape[-1]
    if k == 1 and not weights:
        return net.elbo(x, row_noise(gens, 1, latent).to(x.device, x.dtype))
    chunk = max(1, DRAWS_PER_PASS // len(x))
    parts, acc = [], None
    for s in range(0, k, chunk):
        eps = row_noise(gens, min(chunk, k - s), latent).to(x.device, x.dtype)
        lw = net.log_weights(x, mu, logvar, eps)
        if weights:
            parts.append(lw)
            continue
        part = torch.logsumexp(lw, dim=0)
        acc = part if acc is None else torch.logaddexp(acc, part)
    return torch.cat(parts).T if weights else acc - math.log(k)


def row_bounds(net, x, k=1, seed=0, weights=False, keys=None):
    """Each row's bound (see the module's notes): the ELBO for k = 1, else the k-sample
    importance-weighted bound; ``weights=True``: the k log-weights (n, k) instead. Each
    row's draws are keyed by its row of ``keys`` (n, m) when given, else by its row of
    ``x`` (:func:`row_generators`). Rows are scored in groups of at most
    ``DRAWS_PER_PASS // k`` (memory ~ rows x draws)."""
    rows = max(1, DRAWS_PER_PASS // k)
    out = [_rows_bound(net, x[s:s + rows], k, seed, weights,
                       None if keys is None else keys[s:s + rows])
           for s in range(0, len(x), rows)]
    return torch.cat(out) if out else x.new_zeros((0, k) if weights else (0,))


@dataclass
class VAEObjective:
    """What :class:`aekit.nn.training.Trainer` minimises for a VAE: minus the ELBO, with
    its KL term weighted by ``beta * min(1, epochs done / warmup)`` (KL warm-up: Bowman
    et al., CoNLL 2016; Sonderby et al., NeurIPS 2016), or for ``iw_samples`` k > 1 minus
    the k-sample importance-weighted bound (the IWAE objective, Burda et al. 2016), whose
    log-weights' prior-to-posterior term takes the same weight. ``binarize``: each batch
    is drawn afresh as 0/1 values, 1 with probability equal to each value (dynamic
    binarisation of MNIST); validation rows are binarised once. Validation is minus the
    ELBO (beta 1) with one fixed draw per row.
    """

    beta: float
    warmup: float
    iw_samples: int
    binarize: bool
    code_size: int

    def weight(self, progress):
        """The KL weight after ``progress`` epochs."""
        if self.warmup <= 0:
            return self.beta
        return self.beta * min(1.0, progress / self.warmup)

    def batch_loss(self, net, x, gen, progress, target=None):
        """Minus the bound, summed over the rows ``x`` (a scalar tensor; ``target`` is
        ``x`` itself: a VAE is trained without input noise)."""
        if self.binarize:
            x = torch.bernoulli(x, generator=gen)
        mu, logvar = net.encode(x)
        b = self.weight(progress)
        if self.iw_samples > 1:
            eps = torch.randn((self.iw_samples, *mu.shape), generator=gen, device=x.device)
            lw = net.log_weights(x, mu, logvar, eps, b)
            return -(torch.logsumexp(lw, 0) - math.log(self.iw_samples)).sum()
        eps = torch.randn(mu.shape, generator=gen, device=x.device)
        rec = net.log_px(x, net.decode(mu + torch.exp(0.5 * logvar) * eps))
        return (b * net.kl(mu, logvar) - rec).sum()

    def validation_inputs(self, X, gen):
        """``(rows, draws)``: the validation rows (binarised once) and one draw per row."""
        if self.binarize:
            X = torch.bernoulli(X, generator=gen)
        return X, torch.randn((len(X), self.code_size), generator=gen, device=X.device)

    def validation_loss(self, net, x, eps):
        """Minus the ELBO (beta 1), summed over the rows ``x``."""
        return -net.elbo(x, eps).sum()
