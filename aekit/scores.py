"""Anomaly scores from what a network gives: one home for every score type.

Every way of scoring (the estimators on any device, the numpy engine of `aekit
detect`, ``explain``, the rows a trimmed fit leaves out) computes scores here, in
numpy, from rows ``Xs`` in the model's scaled space and what the model gives for them,
a block of rows at a time: their reconstructions ``R``, or for a masked network
(:mod:`aekit.nn.masking`) its surprise at each feature ``S`` (:func:`network_output`).
How a score becomes a flag is :mod:`aekit.thresholds`' job.

Score types:

- ``"mse"``: the mean squared error per feature (the classic reconstruction-error
  score of autoencoder anomaly detection; Sakurada & Yairi, MLSDA 2014).
- ``"relative"`` (aekit's own): that error divided by the row's mean intensity
  (inputs plus reconstruction, clipped to [0, 1], plus one feature's worth so that
  a blank row does not divide by zero), for non-negative data in [0, 1] such as
  pixels. Pixel errors grow with the amount of ink, so an absolute error ranks
  heavy normal rows above light anomalous ones; the relative error does not.
  On one-class MNIST it lifts the mean AUROC by several points (BENCHMARKS.md).
- ``"nll"``: a masked network's mean surprise: each feature's negative
  log-likelihood under the distribution the network predicts for it from the other
  features, less that of the sharpest prediction it can make (so 0 at best), in
  nats; a feature that takes two values alone in the training rows (a one-hot
  category, a flag) holding one of them: the surprise of its side of their midpoint
  instead (:func:`aekit.nn.masking.two_values`; not in files written before it). Each
  fixed scoring mask's mean surprise over the features it hides is
  divided by its spread over the training rows, and the score is their mean over the
  masks (:func:`aekit.nn.masking.mask_weights`; model files written before the
  spreads average each feature's surprise over the masks that hide it, in nats per
  feature). Its parts (``explain``) are the features' weighed surprises, whose mean
  is the score. A network holding an early network (files written since 2026-12-07)
  gives, in a row where the early network's score mapped onto its scale is the larger,
  the early network's parts so mapped (:func:`aekit.nn.masking.with_early`). Used with
  masked networks only.

No aekit module is imported here: the network layer (:mod:`aekit.nn.fitting`) scores
rows with these definitions too.
"""

import numpy as np

from .errors import ParameterError

SCORE_TYPES = ("mse", "relative", "nll")
SCORE_WORDS = {"mse": "mean squared reconstruction error",  # what a score is, for people
               "relative": "reconstruction error relative to the row's ink",
               "nll": "mean surprise of the cells, each given the others"}
ROWS_AT_ONCE = 1024  # rows whose temporaries exist at once: memory stays flat
ENGINE_ROWS = 4096  # rows an engine is given at once by score_rows and explain_rows


def resolve_score(score, scaling, objective="reconstruction"):
    """The score a model uses on data of this scaling ("unit" or "standard"), given its
    network's objective ("reconstruction" or "masked").

    "auto" is "nll" for a masked network, else "relative" for data in [0, 1] and
    "mse" otherwise.

    Raises
    ------
    aekit.errors.ParameterError (a ValueError)
        "relative" on data that is not in [0, 1]; "nll" without a masked network.
    """
    if score == "auto":
        if objective == "masked":
            return "nll"
        return "relative" if scaling == "unit" else "mse"
    if score == "relative" and scaling != "unit":
        raise ParameterError("{score_type:relative} needs non-negative data in [0, 1] (e.g. "
                             "pixels / 255); use {score_type:mse}", params=("score_type",))
    if score == "nll" and objective != "masked":
        raise ParameterError("{score_type:nll} needs a masked network ({objective:masked})",
                             params=("score_type", "objective"))
    if score not in SCORE_TYPES:
        raise ValueError(f"score_type must be one of {('auto',) + SCORE_TYPES}, got {score!r}")
    return score


def network_output(score):
    """What a score is computed from: ``"surprise"`` (a masked network's surprise per
    feature) for "nll", else ``"reconstruction"``."""
    return "surprise" if score == "nll" else "reconstruction"


def row_weights(Xs, R, score):
    """What each row's summed squared error is multiplied by to give its score:
    1 / n_features for "mse", 1 / (mean intensity * n_features + 1) for "relative"."""
    if score == "mse":
        return np.full(len(Xs), 1.0 / Xs.shape[1])
    # clipped like the reconstruction: a row outside [0, 1] must not shrink the divisor
    mass = (np.clip(Xs, 0.0, 1.0).sum(axis=1, dtype=np.float64)
            + np.clip(R, 0.0, 1.0).sum(axis=1, dtype=np.float64))
    return 1.0 / (mass + 1.0)


def row_scores(Xs, R, score):
    """The anomaly score of each row (float64, shape (n,)): higher is more anomalous.

    ``Xs`` (n, n_features) are rows in the model's scaled space, ``R`` their
    reconstructions (for "nll": the network's surprise per feature, as
    :func:`network_output` says); float32 is fine (the sum is taken in float32, the
    weights in float64). Computed a block of rows at a time, so that the temporaries
    stay small.
    """
    if score == "nll":
        return np.asarray(R).mean(axis=1, dtype=np.float64)
    out = np.empty(len(Xs), dtype=np.float64)
    for s in range(0, len(Xs), ROWS_AT_ONCE):
        x, r = Xs[s:s + ROWS_AT_ONCE], R[s:s + ROWS_AT_ONCE]
        D = np.subtract(r, x, dtype=np.result_type(r, x))
        out[s:s + len(x)] = np.einsum("ij,ij->i", D, D) * row_weights(x, r, score)
    return out


def contributions(Xs, R, score):
    """Each feature's share of the score (float64, shape (n, n_features)): the squared
    errors, weighted as in :func:`row_scores` (for "nll", the surprises); each row's
    mean is its score."""
    if score == "nll":
        return np.asarray(R, dtype=np.float64)
    E = (np.asarray(R, dtype=np.float64) - Xs) ** 2
    return E * (row_weights(Xs, R, score) * Xs.shape[1])[:, None]


def score_rows(engine, Xs, score):
    """The anomaly scores (float64, shape (n,)) of scaled rows ``Xs`` by any engine: an
    object whose ``output(Xs, kind)`` gives what :func:`network_output` names (the torch
    engine :class:`aekit.nn.engine.TorchEngine`, the numpy one
    :class:`aekit.nn.numpy_network.NumpyNetwork`, PCA's :class:`aekit.pca_model.PCAModel`).
    The rows go through in blocks, so that the engine's outputs never exist whole."""
    kind = network_output(score)
    out = np.empty(len(Xs), dtype=np.float64)
    for s in range(0, len(Xs), ENGINE_ROWS):
        x = Xs[s:s + ENGINE_ROWS]
        out[s:s + len(x)] = row_scores(x, engine.output(x, kind), score)
    return out


def explain_rows(engine, Xs, score):
    """Each feature's share of the score of scaled rows ``Xs`` by an engine (float64,
    shape (n, n_features); see :func:`contributions`)."""
    kind = network_output(score)
    parts = [contributions(Xs[s:s + ENGINE_ROWS], engine.output(Xs[s:s + ENGINE_ROWS], kind),
                           score) for s in range(0, len(Xs), ENGINE_ROWS)]
    return np.concatenate(parts) if parts else np.zeros((0, Xs.shape[1]))
