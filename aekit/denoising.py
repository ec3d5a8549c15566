"""Cleaning and repairing digit pictures with an autoencoder: the work behind `aekit
denoise` and `aekit noise`.

A picture of any size and polarity is brought into MNIST's 28x28 frame
(:mod:`aekit.images`), reconstructed by the model (or, with a mask, its missing
pixels filled by :func:`aekit.imputation.impute`), and mapped back to its own size
and tones.
"""

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


def repair(model, pictures, masks=None, frame="auto"):
    """Denoise (or, with masks, fill) greyscale pictures in [0, 1]; each result keeps its
    picture's size and tones.

    ``masks``: per picture a bool array (True = missing) or None; ``frame``: as
    :func:`aekit.images.to_frame` takes it. Returns ``(results, unfamiliarity)``: the
    pictures, and per picture how unlike the model's training images it was (see
    :func:`unfamiliarity`; None when the model cannot tell).
    """
    from .imputation import impute

    ae = denoiser_of(model)
    masks = masks if masks else [None] * len(pictures)
    framed = [to_frame(p, frame, m) for p, m in zip(pictures, masks)]
    X = np.stack([f.reshape(-1) for f, _ in framed]).astype(np.float32)
    if any(m is not None for m in masks):
        missing = np.stack([how.missing.reshape(-1) if how.missing is not None
                            else np.zeros(SIDE * SIDE, bool) for _, how in framed])
        # missing pixels start as paper, the value masking noise gives them in training
        R = impute(ae, np.where(missing, np.nan, X), start=0.0)
    else:
        R = ae.reconstruct(X)
    out = []
    for (_, how), r, pic, m in zip(framed, R, pictures, masks):
        res = from_frame(r.reshape(SIDE, SIDE), how)
        out.append(np.where(m, res, pic) if m is not None else res)
    return out, unfamiliarity(ae, R)


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
