"""Anomaly scores from reconstructions, in numpy alone (shared by every way of scoring)."""

import numpy as np


def resolve_score(score, scaling):
    """The score a detector uses on data of this scaling ("unit" or "standard")."""
    if score == "auto":
        return "relative" if scaling == "unit" else "mse"
    if score == "relative" and scaling != "unit":
        raise ValueError("score_type='relative' needs non-negative data in [0, 1] "
                         "(e.g. pixels / 255); use score_type='mse'")
    return score


def score_contributions(Xs, R, score):
    """Per-feature contributions to the anomaly score; their row means are the scores.

    ``Xs`` are rows in the model's scaled space and ``R`` their reconstructions.
    "mse": the squared errors themselves. "relative": the squared errors divided
    by the row's mean intensity (inputs plus reconstruction, plus one full
    feature's worth so that a blank row does not divide by zero): the share of
    the row's signal that the model fails to reproduce. Intensities such as
    pixels carry errors that grow with the amount of ink, so an absolute error
    ranks heavy normal rows above light anomalous ones; the relative error does not.
    """
    E = (np.asarray(R, dtype=np.float64) - Xs) ** 2
    if score == "mse":
        return E
    n = Xs.shape[1]
    # clipped like the reconstruction: a row outside [0, 1] must not shrink the divisor
    mass = (np.clip(Xs, 0.0, 1.0).sum(axis=1, dtype=np.float64)
            + np.clip(R, 0.0, 1.0).sum(axis=1, dtype=np.float64))
    return E * (n / (mass + 1.0))[:, None]
