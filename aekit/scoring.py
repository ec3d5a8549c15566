"""Anomaly scores from what a network gives, and how a threshold is chosen: one home for both.

Every way of scoring (the estimators on any device, the numpy scorer of
`aekit detect`, ``explain``) computes scores here, in numpy, from rows ``Xs`` in
the network's scaled space and what the network gives for them, batch by batch:
their reconstructions ``R``, or for a masked network (:mod:`aekit.nn.masking`) its
surprise at each feature ``S`` (:func:`network_output`).

Score types:

- ``"mse"``: the mean squared error per feature (the classic reconstruction-error
  score of autoencoder anomaly detection).
- ``"relative"`` (aekit's own): that error divided by the row's mean intensity
  (inputs plus reconstruction, clipped to [0, 1], plus one feature's worth so that
  a blank row does not divide by zero), for non-negative data in [0, 1] such as
  pixels. Pixel errors grow with the amount of ink, so an absolute error ranks
  heavy normal rows above light anomalous ones; the relative error does not.
  On one-class MNIST it lifts the mean AUROC by several points (BENCHMARKS.md).
- ``"nll"``: a masked network's mean surprise per feature, in nats: each feature's
  negative log-likelihood under the distribution the network predicts for it from
  the other features, less that of the sharpest prediction it can make (so 0 at
  best), averaged over the fixed masks that hide it. Its parts (``explain``) are
  the features' surprises. Used with masked networks only.

Thresholds: a fitted model keeps its training rows' scores at the percentiles
:data:`QUANTILE_PERCENTS` (0, 0.1, ..., 100), so that a contamination C chosen
later becomes a threshold (the (1 - C) quantile) without the training data. Without a
known contamination, ``"auto"`` flags the scores far out on the training scores' own
scale (:func:`robust_threshold`).
"""

from dataclasses import dataclass

import numpy as np

SCORE_TYPES = ("mse", "relative", "nll")
QUANTILE_PERCENTS = np.linspace(0, 100, 1001)
DEFAULT_CONTAMINATION = 0.01


def resolve_score(score, scaling, objective="reconstruction"):
    """The score a model uses on data of this scaling ("unit" or "standard"), given its
    network's objective ("reconstruction" or "masked").

    "auto" is "nll" for a masked network, else "relative" for data in [0, 1] and
    "mse" otherwise.

    Raises
    ------
    ValueError
        "relative" on data that is not in [0, 1]; "nll" without a masked network.
    """
    if score == "auto":
        if objective == "masked":
            return "nll"
        return "relative" if scaling == "unit" else "mse"
    if score == "relative" and scaling != "unit":
        raise ValueError("score_type='relative' needs non-negative data in [0, 1] "
                         "(e.g. pixels / 255); use score_type='mse'")
    if score == "nll" and objective != "masked":
        raise ValueError("score_type='nll' needs a masked network (objective='masked')")
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


ROWS_AT_ONCE = 1024  # rows whose temporaries exist at once: memory stays flat


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


ROBUST_Z = 3.0  # how far out "auto" flags, in robust standard deviations of the log scores


def robust_threshold(scores):
    """The ``"auto"`` threshold: scores whose logarithm lies more than :data:`ROBUST_Z`
    robust standard deviations (1.4826 x the median absolute deviation) above the
    median log score are flagged. Reconstruction errors are positive and skewed, which
    the logarithm evens out; the median and MAD are barely moved by the anomalies in a
    contaminated training set. ``scores`` may be the training scores or their
    quantiles (:data:`QUANTILE_PERCENTS`, equally spaced in probability)."""
    logs = np.log(np.maximum(np.asarray(scores, dtype=np.float64), 1e-300))
    center = float(np.median(logs))
    spread = 1.4826 * float(np.median(np.abs(logs - center)))
    return float(np.exp(center + ROBUST_Z * spread))


def quantiles_of(scores):
    """The scores at :data:`QUANTILE_PERCENTS` (1001 values)."""
    return np.percentile(np.asarray(scores, dtype=np.float64), QUANTILE_PERCENTS)


def threshold_for_share(scores, contamination):
    """The score above which a share ``contamination`` of ``scores`` lies."""
    return float(np.percentile(scores, 100.0 * (1.0 - contamination)))


@dataclass
class ScoreRule:
    """How a fitted model scores rows and chooses its threshold.

    ``score_type``: one of :data:`SCORE_TYPES`. ``quantiles``: the training scores at
    :data:`QUANTILE_PERCENTS`, or None. ``threshold``: a detector's own threshold,
    or None for a model that has none (an autoencoder).
    """

    score_type: str
    quantiles: np.ndarray = None
    threshold: float = None

    def threshold_for(self, contamination=None, threshold=None):
        """``(threshold, how it was chosen)``: ``threshold`` when given, else the
        (1 - ``contamination``) training quantile (``"auto"``: :func:`robust_threshold`
        of the training quantiles), else the model's own threshold, else the 1%
        contamination quantile.

        Raises
        ------
        ValueError
            A contamination is needed but the model stores no training quantiles.
        """
        if threshold is not None:
            return float(threshold), "given"
        if contamination is None and self.threshold is not None:
            return float(self.threshold), "the detector's own"
        c = DEFAULT_CONTAMINATION if contamination is None else contamination
        if self.quantiles is None:
            raise ValueError("the model stores no training score quantiles to turn a "
                             "contamination into a threshold; give a threshold")
        if c == "auto":
            return robust_threshold(self.quantiles), "contamination auto (robust)"
        value = float(np.interp(100.0 * (1.0 - c), QUANTILE_PERCENTS, self.quantiles))
        return value, f"contamination {c:g}"

    def to_json(self):
        doc = {"score_type": self.score_type}
        if self.quantiles is not None:
            doc["quantiles"] = [float(v) for v in self.quantiles]
        if self.threshold is not None:
            doc["threshold"] = float(self.threshold)
        return doc

    @classmethod
    def from_json(cls, doc):
        """The rule stored by :meth:`to_json`, checked (ValueError)."""
        if not isinstance(doc, dict) or doc.get("score_type") not in SCORE_TYPES:
            raise ValueError("the scoring section names no known score type")
        q = doc.get("quantiles")
        if q is not None:
            ok = isinstance(q, list) and len(q) == len(QUANTILE_PERCENTS) and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in q)
            q = np.asarray(q, dtype=np.float64) if ok else None
            if q is None or not np.all(np.isfinite(q)):
                raise ValueError(f"the score quantiles are not {len(QUANTILE_PERCENTS)} "
                                 "finite numbers")
        t = doc.get("threshold")
        if t is not None and not (isinstance(t, (int, float)) and not isinstance(t, bool)
                                  and np.isfinite(t)):
            raise ValueError("the threshold is not a finite number")
        return cls(doc["score_type"], q, None if t is None else float(t))
