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
# were never used to choose it (`python scripts/bench_unfamiliar.py --calibrate --n 300`,
# BENCHMARKS.md). It was measured on the bundled mnist-denoiser's outputs and holds for
# that model only: a smaller model's cleaned digits are blurrier, and a blurry digit is
# an unlikely one.
DIGIT_VAE = "mnist-vae"
DIGIT_VAE_DRAWS = 64  # the importance-weighted bound's draws: one draw's bound wobbles by
# tens of nats from frame to frame; 64 hold it to a few
DIGIT_NELBO_LIMIT = 153.3

# Four more checks of the bundled digit model's work, each of a property every digit has
# whatever its noise: a denoiser can turn a bar into a 1 or a ring into a 0, but it
# cannot turn a soft blob into a pen stroke without leaving traces.
# - DIGIT_INK_LIMIT: a cleaned digit has a clear stroke: the 99th percentile of its
#   cleaned frame reaches this level (of 1). Noise, photos and text come out faint.
# - DIGIT_STROKE_LIMIT: a digit is drawn with a pen: the mean width of its cleaned
#   strokes (ink area over skeleton length, 28x28-frame pixels; Zhang & Suen's
#   skeleton, scikit-image) stays under this. Filled shapes are wider.
# - DIGIT_STRUCTURE_LIMIT: what the denoiser took away is noise, not shape. The
#   difference between the input frame and its cleaned version, less its least-squares
#   fit on (1, cleaned frame) (the average effect of masking and salt-and-pepper noise
#   is affine in the clean pixel, that of clipped Gaussian noise nearly so), averaged
#   over 3x3 windows, has about the energy of independent noise (1/9 of the
#   difference's own; a little less, as the frame's border is padded with zeros) plus
#   that of any shape removed: the excess, in squared intensity, stays under this.
# - DIGIT_ASPECT_LIMIT: digits are written upright: the horizontal spread of a cleaned
#   digit's ink (the standard deviation of its pixels' column, each weighted by its
#   intensity) stays under this many times its vertical spread (that of their row). A
#   dash, an underline, a ruled line or a lying bar is wider than it is tall; a 1 is
#   not.
# Each limit lets through 99.8% of the cleaned frames of noisy and rescanned MNIST
# *training* digits (1,000 per noise at protocol D's levels, seed 1: `python
# scripts/bench_unfamiliar.py --calibrate --n 1000`); with the two checks above, the
# six flag 1.3% of them. Confirmed on test digits and non-digits in BENCHMARKS.md; no
# non-digit was used to choose them. Like DIGIT_NELBO_LIMIT they hold for the bundled
# mnist-denoiser's outputs only.
DIGIT_INK_LIMIT = 0.799
DIGIT_STROKE_LIMIT = 7.68
DIGIT_STRUCTURE_LIMIT = 0.00198
DIGIT_ASPECT_LIMIT = 1.569


@dataclass
class Familiarity:
    """How like digits a batch of cleaned frames are, by up to six checks (see the
    module's constants), each an array with one value per frame, or None where the check
    was not made:

    - ``reconstruction``: the frame's score fed back to the model divided by the
      training images' :data:`UNFAMILIAR_PERCENTILE`-th percentile (None when the model
      stores no training quantiles); flagged over 1;
    - ``nelbo``: its negative ELBO (nats) under :data:`DIGIT_VAE`; flagged over
      :data:`DIGIT_NELBO_LIMIT`;
    - ``ink``: the 99th percentile of the cleaned frame (of 1); flagged under
      :data:`DIGIT_INK_LIMIT`;
    - ``stroke_width``: the mean width of its strokes (pixels); flagged over
      :data:`DIGIT_STROKE_LIMIT`;
    - ``structure``: the spatially structured energy of what the denoiser removed;
      flagged over :data:`DIGIT_STRUCTURE_LIMIT` (NaN, never flagged, for a frame with
      missing pixels);
    - ``aspect``: the horizontal over the vertical spread of its ink; flagged over
      :data:`DIGIT_ASPECT_LIMIT`.

    The last five are the bundled digit model's checks (``digit_prior``). A frame that
    any check flags is unfamiliar."""

    reconstruction: np.ndarray
    nelbo: np.ndarray = None
    ink: np.ndarray = None
    stroke_width: np.ndarray = None
    structure: np.ndarray = None
    aspect: np.ndarray = None

    def checks(self):
        """For each check made: ``(name, values, flags, why)``, ``why(value)`` saying for a
        person why a frame was flagged; ``name`` is the field's."""
        checks = (
            ("reconstruction", self.reconstruction, lambda v: v > 1.0, lambda v: (
                f"its cleaned version is reconstructed {v:.1f}x worse than "
                f"{UNFAMILIAR_PERCENTILE:g}% of the training images")),
            ("nelbo", self.nelbo, lambda v: v > DIGIT_NELBO_LIMIT, lambda v: (
                f"its cleaned version is an unlikely digit shape: the bundled digit VAE's "
                f"surprise at it is {v:.0f} nats, beyond the {DIGIT_NELBO_LIMIT:g} that 99.5% "
                "of noisy digits stay under")),
            ("ink", self.ink, lambda v: v < DIGIT_INK_LIMIT, lambda v: (
                f"it cleans into no clear stroke: its ink reaches {v:.2f}, where 99.8% of "
                f"noisy digits' reaches {DIGIT_INK_LIMIT:g}")),
            ("stroke_width", self.stroke_width, lambda v: v > DIGIT_STROKE_LIMIT, lambda v: (
                "its ink is a filled shape, not pen strokes: "
                + (f"{v:.1f} px wide on average" if v <= SIDE else "wider than the frame")
                + f" in the 28x28 frame, where 99.8% of noisy digits' strokes are under "
                f"{DIGIT_STROKE_LIMIT:g} px")),
            ("structure", self.structure, lambda v: v > DIGIT_STRUCTURE_LIMIT, lambda v: (
                f"the denoiser removed a shape from it, not just noise (the removed part's "
                f"structure {v:.4f}, beyond the {DIGIT_STRUCTURE_LIMIT:g} that 99.8% of noisy "
                "digits stay under)")),
            ("aspect", self.aspect, lambda v: v > DIGIT_ASPECT_LIMIT, lambda v: (
                "its ink lies flat, like a dash or a bar rather than an upright digit: it "
                + (f"spreads {v:.1f}x wider than tall" if v <= SIDE else "lies along a row")
                + f", where 99.8% of noisy digits' ink spreads under {DIGIT_ASPECT_LIMIT:g}x")))
        return [(name, v, flag(v), why) for name, v, flag, why in checks if v is not None]

    def unfamiliar(self):
        """Per frame, whether any check flags it (bool array; None if no check was made)."""
        flags = [f for _, _, f, _ in self.checks()]
        return np.logical_or.reduce(flags) if flags else None

    def reason(self, j):
        """Why frame ``j`` is flagged, for a person (empty when it is not)."""
        return "; ".join(why(v[j]) for _, v, f, why in self.checks() if f[j])


def familiarity(model, frames, digit_prior=False, inputs=None):
    """The :class:`Familiarity` of cleaned 28x28 ``frames`` (n, 784) in [0, 1] for
    ``model`` (a digit model); ``digit_prior``: also make the bundled digit model's
    checks (the digit VAE's, the ink's, the strokes', the ink's aspect and, given
    ``inputs``, what the denoiser removed; see the module's constants);
    ``inputs`` (n, 784; NaN where missing): the frames they were cleaned from, for the
    check of what the denoiser removed (with ``digit_prior``)."""
    X = np.asarray(frames, dtype=np.float32)
    if not digit_prior:
        return Familiarity(unfamiliarity(model, X))
    C = np.clip(X, 0, 1)
    return Familiarity(
        unfamiliarity(model, X), -_digit_vae().score_samples(C, k=DIGIT_VAE_DRAWS),
        ink=np.percentile(C, 99, axis=1), stroke_width=stroke_widths(C),
        structure=None if inputs is None else removed_structure(inputs, C),
        aspect=ink_aspects(C))


def stroke_widths(frames, level=0.5):
    """The mean stroke width (pixels) of each 28x28 frame's ink (pixels over ``level``):
    its area over the length of its skeleton (Zhang & Suen 1984, scikit-image's
    ``skeletonize``); 0 for a frame without ink. ``frames``: (n, 784)."""
    from skimage.morphology import skeletonize

    ink = np.asarray(frames).reshape(-1, SIDE, SIDE) > level
    return np.array([i.sum() / max(int(skeletonize(i).sum()), 1) for i in ink])


def ink_aspects(frames):
    """How many times wider than tall each 28x28 frame's ink spreads: the standard
    deviation of its pixels' column over that of their row, each pixel weighted by its
    intensity (clipped to [0, 1]; NaN counts as no ink); 0 for a frame without ink or of
    one pixel, inf for ink on one row. ``frames``: (n, 784)."""
    W = np.clip(np.nan_to_num(np.asarray(frames, np.float64)), 0, 1).reshape(-1, SIDE, SIDE)
    place = np.arange(SIDE, dtype=np.float64)

    def spread(profile):  # (n, SIDE) ink per column or per row -> its standard deviation
        mass = profile.sum(axis=1, keepdims=True)
        p = profile / np.where(mass > 0, mass, 1)
        mean = p @ place
        return np.sqrt(np.einsum("ij,ij->i", p, (place - mean[:, None]) ** 2))

    across, down = spread(W.sum(axis=1)), spread(W.sum(axis=2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(across > 0, across / down, 0.0)


def removed_structure(inputs, cleaned):
    """How much shape, rather than noise, a denoiser removed: per frame the energy (squared
    intensity) of the 3x3-window mean of ``inputs - cleaned``, after the difference's
    least-squares fit on (1, cleaned) is taken out, beyond the 1/9 of the difference's own
    energy that independent noise would leave (about 5% less is left on a 28x28 frame,
    whose border the windows pad with zeros; the limit was measured with it).
    ``inputs``, ``cleaned``: (n, 784); NaN for a frame with a missing (NaN) input pixel."""
    from scipy import ndimage

    out = np.full(len(cleaned), np.nan)
    for i, (x, r) in enumerate(zip(np.asarray(inputs, np.float64),
                                   np.asarray(cleaned, np.float64))):
        if np.isnan(x).any():
            continue
        design = np.stack([np.ones_like(r), r], axis=1)
        diff = x - r
        diff -= design @ np.linalg.lstsq(design, diff, rcond=None)[0]
        box = ndimage.uniform_filter(diff.reshape(SIDE, SIDE), 3, mode="constant")
        out[i] = np.mean(box ** 2) - np.mean(diff ** 2) / 9
    return out


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
    return out, familiarity(ae, R, digit_prior, inputs=X)


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
