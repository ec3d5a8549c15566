"""Cleaning and repairing digit pictures with an autoencoder: the work behind `aekit
denoise` and `aekit noise`.

A picture of any size and polarity is brought into MNIST's 28x28 frame
(:mod:`aekit.images`), reconstructed by the model (or, with a mask, its missing
pixels filled by :func:`aekit.imputation.impute`), and mapped back to its own size
and tones.
"""

import functools
from dataclasses import dataclass

import numpy as np

from .images import SIDE, from_frame, to_frame


def denoiser_of(model):
    """The autoencoder of a loaded model that reads 28x28 pictures.

    Raises
    ------
    ValueError
        The model has no network, or reads another number of features.
    """
    from .loading import autoencoder_of

    ae = autoencoder_of(model)
    if ae.n_features_in_ != SIDE * SIDE:
        raise ValueError(f"this model works on {ae.n_features_in_} features, not on "
                         f"28x28 = {SIDE * SIDE}-pixel images")
    return ae


# An input is unlike the model's training images when its cleaned version, fed back to
# the model, is reconstructed worse than this share of the training images were: the
# cleaned version of a digit, even a heavily corrupted one, is a digit the model knows;
# that of a photo or a strip of several digits is not. BENCHMARKS.md gives the rates it
# flags (`python scripts/bench_unfamiliar.py`).
UNFAMILIAR_PERCENTILE = 95.0

# A second opinion that does not depend on the model: how likely the cleaned frame is as
# a digit under the bundled variational autoencoder of MNIST (mnist-vae), as minus its
# importance-weighted log-likelihood bound (Burda et al. 2016) in nats ("negative ELBO"
# below, for short). A denoiser turns a ring, a blob or a bar into something it can
# reconstruct well, but not into a likely digit. The limit: the cleaned frames of 99.5%
# of noisy and rescanned MNIST *training* digits (the mnist-denoiser's, protocol D's
# three noises) stay under it; confirmed on test digits, and the non-digits it catches
# were never used to choose it (`python scripts/bench_unfamiliar.py --calibrate`,
# BENCHMARKS.md). It was measured on the bundled mnist-denoiser's outputs and holds for
# that model only: a smaller model's cleaned digits are blurrier, and a blurry digit is
# an unlikely one.
DIGIT_VAE = "mnist-vae"
DIGIT_VAE_DRAWS = 64  # the importance-weighted bound's draws: one draw's bound wobbles by
# tens of nats from frame to frame; 64 hold it to a few
DIGIT_NELBO_LIMIT = 153.3


@dataclass
class Familiarity:
    """How like digits a batch of cleaned frames are, by two checks (see the module's
    constants): ``reconstruction``, per frame its score fed back to the model divided by
    the training images' :data:`UNFAMILIAR_PERCENTILE`-th percentile (None when the model
    stores no training quantiles); ``nelbo``, per frame its negative ELBO (nats) under
    :data:`DIGIT_VAE` (None unless asked for: the bundled digit model's check). A frame
    over either limit is unfamiliar."""

    reconstruction: np.ndarray
    nelbo: np.ndarray

    def unfamiliar(self):
        """Per frame, whether either check flags it (bool array)."""
        checks = [c > limit for c, limit in ((self.reconstruction, 1.0),
                                             (self.nelbo, DIGIT_NELBO_LIMIT)) if c is not None]
        return np.logical_or.reduce(checks) if checks else None

    def reason(self, j):
        """Why frame ``j`` is flagged, for a person (empty when it is not)."""
        why = []
        if self.reconstruction is not None and self.reconstruction[j] > 1.0:
            why.append(f"its cleaned version is reconstructed {self.reconstruction[j]:.1f}x "
                       f"worse than {UNFAMILIAR_PERCENTILE:g}% of the training images")
        if self.nelbo is not None and self.nelbo[j] > DIGIT_NELBO_LIMIT:
            why.append(f"as a digit it is unlikely: {self.nelbo[j]:.0f} nats under the "
                       f"bundled digit VAE, beyond the {DIGIT_NELBO_LIMIT:g} that 99.5% of "
                       "noisy digits stay under")
        return "; ".join(why)


def familiarity(model, frames, digit_prior=False):
    """The :class:`Familiarity` of cleaned 28x28 ``frames`` (n, 784) in [0, 1] for
    ``model`` (a digit model); ``digit_prior``: also ask the digit VAE (for the bundled
    mnist-denoiser's frames, see :data:`DIGIT_NELBO_LIMIT`)."""
    X = np.asarray(frames, dtype=np.float32)
    nelbo = -_digit_vae().score_samples(np.clip(X, 0, 1), k=DIGIT_VAE_DRAWS) \
        if digit_prior else None
    return Familiarity(unfamiliarity(model, X), nelbo)


@functools.lru_cache(maxsize=1)
def _digit_vae():
    from .loading import load_pretrained

    return load_pretrained(DIGIT_VAE, device="cpu")


def unfamiliarity(model, frames):
    """How unlike the model's training images cleaned 28x28 ``frames`` (n, 784) in [0, 1]
    are: the anomaly score (:mod:`aekit.scores`) of each, fed back to the model, divided
    by the training images' :data:`UNFAMILIAR_PERCENTILE`-th percentile score (above 1:
    most likely not a digit the model knows), or None when the model stores no training
    quantiles."""
    from .loading import autoencoder_of
    from .scores import row_scores
    from .thresholds import QUANTILE_PERCENTS

    ae = autoencoder_of(model)
    q = getattr(ae, "score_quantiles_", None)
    if q is None:
        return None
    reference = float(np.interp(UNFAMILIAR_PERCENTILE, QUANTILE_PERCENTS, q))
    X = np.asarray(frames, dtype=np.float32)
    scores = row_scores(ae.schema_.transform(X), ae.schema_.transform(ae.reconstruct(X)),
                        ae.score_type_)
    return scores / max(reference, 1e-12)


def repair(model, pictures, masks=None, frame="auto", digit_prior=False):
    """Denoise (or, with masks, fill) greyscale pictures in [0, 1]; each result keeps its
    picture's size and tones.

    ``masks``: per picture a bool array (True = missing) or None; ``frame``: as
    :func:`aekit.images.to_frame` takes it; ``digit_prior``: as :func:`familiarity` takes
    it. Returns ``(results, familiarity)``: the pictures, and how unlike digits the
    model knows each was (a :class:`Familiarity`).
    """
    from .imputation import impute

    ae = denoiser_of(model)
    masks = masks if masks else [None] * len(pictures)
    framed = [to_frame(p, frame, m) for p, m in zip(pictures, masks)]
    X = np.stack([f.reshape(-1) for f, _ in framed]).astype(np.float32)
    clean = ae.reconstruct
    if any(m is not None for m in masks):
        missing = np.stack([how.missing.reshape(-1) if how.missing is not None
                            else np.zeros(SIDE * SIDE, bool) for _, how in framed])
        X = np.where(missing, np.nan, X)
        # missing pixels start as paper, the value masking noise gives them in training
        clean = functools.partial(impute, ae, start=0.0)
    # each frame on its own: batched products round differently (by ~1e-7), and what
    # a picture gives, its warning included, must not depend on the pictures beside it
    R = np.concatenate([clean(x[None]) for x in X])
    out = []
    for (_, how), r, pic, m in zip(framed, R, pictures, masks):
        res = from_frame(r.reshape(SIDE, SIDE), how)
        out.append(np.where(m, res, pic) if m is not None else res)
    return out, familiarity(ae, R, digit_prior)


def add_noise(gray, noise, seed=None):
    """``gray`` (a picture in [0, 1]) corrupted by ``noise`` (:mod:`aekit.nn.noise`), applied
    with the ink light (dark-on-light pictures are turned over for it and back), so that
    "masking" means missing ink on any paper."""
    import torch

    from .images import is_dark_on_light

    flip = is_dark_on_light(gray)
    x = torch.from_numpy(np.ascontiguousarray(1.0 - gray if flip else gray, dtype=np.float32))
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(seed)
    y = noise.apply(x, gen).numpy()
    return 1.0 - y if flip else y
