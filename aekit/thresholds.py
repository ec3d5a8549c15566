"""The threshold rule: which scores are anomalies. One rule for every way of flagging.

A fitted model keeps its training rows' anomaly scores at the percentiles
:data:`QUANTILE_PERCENTS` (0, 0.1, ..., 100), estimated from at most
:data:`QUANTILE_ROWS` of them (:func:`quantile_rows`). Every threshold is read off that grid by
:meth:`ScoreRule.threshold_for`: a detector's own threshold when it is fitted, its
``predict`` and ``decision_function``, `aekit detect` with or without ``-c``, the numpy
engine and Dask partitions alike, so that the same model and the same contamination
flag the same rows wherever they are scored. A contamination C is the (1 - C)
quantile, interpolated between the grid's percentiles; ``"auto"``, for when the share
of anomalies is not known, flags the scores far out on the training scores' own scale
(:func:`robust_threshold`).
"""

from dataclasses import dataclass

import numpy as np

from .errors import ParameterError
from .scores import SCORE_TYPES

QUANTILE_PERCENTS = np.linspace(0, 100, 1001)
DEFAULT_CONTAMINATION = 0.01
ROBUST_Z = 3.0  # how far out "auto" flags, in robust standard deviations of the log scores
# The training rows a quantile grid is estimated from, at most: a seeded sample of larger
# sets (as scikit-learn's QuantileTransformer estimates its 1,000 quantiles from a
# subsample of 10,000). Scoring every training row once more is a sizeable part of a
# masked detector's fit on a large table (BENCHMARKS.md: `python
# scripts/bench_quantile_rows.py`); from 20,000 rows the threshold at a contamination of
# 0.01 rests on the 200 scores above it, at 0.001 on 20.
QUANTILE_ROWS = 20_000


def quantiles_of(scores):
    """The scores at :data:`QUANTILE_PERCENTS` (1001 values, float64)."""
    return np.percentile(np.asarray(scores, dtype=np.float64), QUANTILE_PERCENTS)


def quantile_rows(n, seed=0):
    """Which of ``n`` training rows a fitted model is measured on: its quantile grid, and a
    masked network's mask spreads and early map (:func:`aekit.nn.fitting.fit_network`, which
    scores them once for all three). All of them up to :data:`QUANTILE_ROWS`, else that
    many drawn without replacement with the fit's ``seed`` (so that a refit gives the same
    grid), in their order. Returns a slice or a sorted index array."""
    if n <= QUANTILE_ROWS:
        return slice(None)
    return np.sort(np.random.RandomState(seed % 2**32).permutation(n)[:QUANTILE_ROWS])


ENGINE_AGREEMENT = 1e-5  # relative: the numpy and torch engines' scores of a row agree to this


def flag_limit(threshold):
    """The score above which rows are flagged at ``threshold``: ``threshold`` and
    :data:`ENGINE_AGREEMENT` of it, so that rows scoring what the training rows at the
    threshold scored (ties: a table of many identical rows, where the threshold is their
    shared score) are not flagged for the float32 rounding of the engine that scores
    them (a fit measures its quantiles with numpy, ``predict`` may score with torch)."""
    return threshold + ENGINE_AGREEMENT * abs(threshold)


def flagged(scores, threshold):
    """Which ``scores`` (any engine's, float32 or float64) lie above ``threshold`` (bool):
    above its :func:`flag_limit`."""
    return np.asarray(scores) > flag_limit(threshold)


def robust_threshold(quantiles):
    """The ``"auto"`` threshold of a quantile grid (:func:`quantiles_of`): scores whose
    logarithm lies more than :data:`ROBUST_Z` robust standard deviations (1.4826 x the
    median absolute deviation) above the median log score are flagged. Reconstruction
    errors are positive and skewed, which the logarithm evens out; the median and MAD
    are barely moved by the anomalies in a contaminated training set. The grid is
    equally spaced in probability, so its median and MAD are the scores'."""
    logs = np.log(np.maximum(np.asarray(quantiles, dtype=np.float64), 1e-300))
    center = float(np.median(logs))
    spread = 1.4826 * float(np.median(np.abs(logs - center)))
    return float(np.exp(center + ROBUST_Z * spread))


@dataclass
class ScoreRule:
    """How a fitted model's scores become flags.

    ``score_type``: one of :data:`aekit.scores.SCORE_TYPES`. ``quantiles``: the training
    scores at :data:`QUANTILE_PERCENTS`, or None (models of aekit 0.1). ``threshold``: a
    detector's own threshold, or None for a model that has none (an autoencoder).
    """

    score_type: str
    quantiles: np.ndarray = None
    threshold: float = None

    def threshold_for(self, contamination=None, threshold=None):
        """``(threshold, how it was chosen)``: ``threshold`` when given, else the model's
        own threshold when no ``contamination`` is given, else the (1 - ``contamination``)
        training quantile (``"auto"``: :func:`robust_threshold`; default
        :data:`DEFAULT_CONTAMINATION`).

        Raises
        ------
        aekit.errors.AekitError (a ValueError)
            A contamination is needed but the model stores no training quantiles.
        """
        if threshold is not None:
            return float(threshold), "given"
        if contamination is None and self.threshold is not None:
            return float(self.threshold), "the detector's own"
        c = DEFAULT_CONTAMINATION if contamination is None else contamination
        if self.quantiles is None:
            which = "a contamination" if contamination is not None else \
                f"the default contamination ({DEFAULT_CONTAMINATION:g})"
            raise ParameterError(f"the model stores no training score quantiles to turn {which} "
                                 "into a threshold (an autoencoder keeps them when fitted with "
                                 "score_quantiles=True, a detector always); give a {threshold}",
                                 params=("threshold",))
        if c == "auto":  # say what it flags: its rule, and the share of training rows above
            value = robust_threshold(self.quantiles)
            above = 100.0 - float(np.interp(value, self.quantiles, QUANTILE_PERCENTS))
            return value, (f"contamination auto: {ROBUST_Z:g} robust SDs above the training "
                           f"rows' median log score; about {above:.1f}% of those rows score "
                           "above it")
        value = float(np.interp(100.0 * (1.0 - c), QUANTILE_PERCENTS, self.quantiles))
        return value, f"contamination {c:g}"

    def with_threshold(self, contamination=None, threshold=None):
        """This rule with its own threshold set by :meth:`threshold_for`."""
        value, _ = self.threshold_for(contamination, threshold)
        return ScoreRule(self.score_type, self.quantiles, value)

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
