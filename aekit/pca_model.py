"""PCA as the linear autoencoder: the baseline beside every aekit result.

:class:`PCAModel` scales rows by the input schema as the networks do, projects them
onto the principal components that keep ``n_components`` (by default 90% of the
variance) and back (Pearson 1901; its reconstruction error as an anomaly score:
Shyu et al., ICDM Foundation and New Directions of Data Mining workshop, 2003). It
offers what :class:`aekit.AnomalyDetector` asks of the model it holds, as
:class:`aekit.Autoencoder` does: ``anomaly_score``, ``explain``, ``reconstruct``,
``score_rule``, its state for a model file, and the engine protocol
(:mod:`aekit.nn.engine`: it is its own engine, in numpy).
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .params import PCAParams, check_params
from .preprocessing import InputSchema, checked_input
from .scores import explain_rows, resolve_score, score_rows
from .state import set_schema
from .thresholds import ScoreRule, quantile_rows, quantiles_of

PCA_TENSORS = ("pca.components", "pca.mean", "pca.explained_variance")
# below this share of the variance left out, the kept components rebuild every row:
# its error is rounding (float32's, relative, is about 1e-7)
RESIDUAL_SHARE = 1e-6


class PCAModel(PCAParams, BaseEstimator):
    """The linear autoencoder (see the module's notes).

    Attributes: ``schema_``, ``pca_`` (scikit-learn's fitted PCA), ``objective_``
    ("reconstruction"), ``score_type_``, ``score_quantiles_``, ``device_`` ("cpu"),
    ``history_``, ``training_summary_``, ``n_epochs_`` (empty: nothing is trained by
    epochs), ``n_features_in_``, ``feature_names_in_``. Parameters: ``n_components``,
    ``score_type``, ``random_state`` and ``categorical`` (as
    :class:`aekit.AnomalyDetector`'s).
    """

    def fit(self, X, y=None, **fit_params):
        """Fit on rows ``X`` (n_samples, n_features); ``y`` and any ``callback`` /
        ``resume`` are ignored (nothing is trained by epochs). Returns self."""
        from sklearn.decomposition import PCA

        p = check_params(self.get_params(deep=False), type(self))
        X = checked_input(self, X, reset=True)
        set_schema(self, InputSchema.fit(X, getattr(self, "feature_names_in_", None),
                                         categorical=p["categorical"]))
        self.objective_ = "reconstruction"
        self.score_type_ = resolve_score(p["score_type"], self.schema_.scaling)
        Xs = self.schema_.transform(X)
        n, limit, d = p["n_components"], min(Xs.shape), Xs.shape[1]
        if isinstance(n, numbers.Integral):
            if n >= d > 1:
                raise ValueError(
                    f"n_components={n} keeps every component of the {d} features (as "
                    "encoded): each row would be reconstructed exactly and its "
                    f"error be rounding; give at most {d - 1}, or a share of the variance")
            n = max(1, min(int(n), limit))
        elif limit <= 1:
            n = 1
        with np.errstate(divide="ignore", invalid="ignore"):  # constant data: variance
            # shares of 0 / 0, which sklearn divides; every row is then reconstructed exactly
            self.pca_ = PCA(n_components=n, random_state=self.random_state).fit(Xs)
        kept = self.pca_.n_components_
        if kept > 1 and 1 - self.pca_.explained_variance_ratio_.sum() < RESIDUAL_SHARE:
            # the kept components span every dimension the rows do (all the features', or
            # fewer: a one-hot column's features sum to 1): every row is reconstructed
            # exactly, its error mere rounding
            if isinstance(n, numbers.Integral):
                raise ValueError(
                    f"n_components={n} keeps every dimension the training rows span (they "
                    f"hold {100 * self.pca_.explained_variance_ratio_.sum():.5g}% of the "
                    "variance): each row would be reconstructed exactly and its error be "
                    "rounding; give fewer, or a share of the variance")
            # a share that needs them all: leave the last one out
            self.pca_ = PCA(n_components=kept - 1, random_state=self.random_state).fit(Xs)
        self.device_, self.history_, self.training_summary_, self.n_epochs_ = "cpu", {}, {}, 0
        self.score_quantiles_ = quantiles_of(score_rows(self, Xs[quantile_rows(len(Xs))],
                                                        self.score_type_))
        return self

    # -- the engine protocol --------------------------------------------------------
    def output(self, Xs, kind="reconstruction"):
        """Reconstructions (n, n_features) of scaled rows ``Xs``, in their dtype."""
        R = self.pca_.inverse_transform(self.pca_.transform(np.asarray(Xs, dtype=np.float64)))
        return R.astype(Xs.dtype, copy=False)

    def engine(self):
        check_is_fitted(self, "pca_")
        return self

    # -- what a detector asks of its model ------------------------------------------
    def _network_input(self, X):
        check_is_fitted(self, "pca_")
        return self.schema_.transform(checked_input(self, self.schema_.select(X), reset=False))

    def anomaly_score(self, X):
        """Each row's reconstruction error (float64, shape (n_samples,))."""
        return score_rows(self, self._network_input(X), self.score_type_)

    def explain(self, X):
        """Per-feature contributions to :meth:`anomaly_score` (n_samples, n_encoded)."""
        return explain_rows(self, self._network_input(X), self.score_type_)

    def reconstruct(self, X):
        """The projection of ``X`` onto the components, in X's units (n_samples,
        n_features; a DataFrame of the input columns for a model with text columns)."""
        check_is_fitted(self, "pca_")
        X = checked_input(self, self.schema_.select(X), reset=False)
        Xs = self.schema_.transform(X)
        divisor = self.schema_.pixel_divisor(self.schema_.encode(X))
        R = self.schema_.inverse_transform(self.output(Xs), Xs.dtype, divisor)
        return self.schema_.decode(R) if self.schema_.categorical else R

    def score_rule(self):
        check_is_fitted(self, "pca_")
        return ScoreRule(self.score_type_, self.score_quantiles_)

    # -- state ----------------------------------------------------------------------
    def get_state(self):
        """``(document sections, tensors)``: the schema, scoring and the basis."""
        check_is_fitted(self, "pca_")
        doc = {"schema": self.schema_.to_json(), "networks": [],
               "scoring": self.score_rule().to_json(),
               "pca": {"n_components": int(self.pca_.n_components_)}, "summary": {}}
        tensors = dict(zip(PCA_TENSORS, (self.pca_.components_, self.pca_.mean_,
                                         self.pca_.explained_variance_)))
        return doc, tensors

    @classmethod
    def from_state(cls, document, tensors, device="cpu"):
        """The model a document with a ``pca`` section describes (ValueError if malformed)."""
        from .state import estimator_with_params, set_summary

        model = estimator_with_params(cls, document.get("params") or {})
        schema = InputSchema.from_json(document["schema"])
        set_schema(model, schema)
        model.pca_ = _pca_from(tensors, schema.n_encoded)
        rule = ScoreRule.from_json(document.get("scoring"))
        model.objective_ = "reconstruction"
        model.score_type_ = resolve_score(rule.score_type, schema.scaling)
        model.score_quantiles_ = rule.quantiles
        model.device_ = "cpu"
        set_summary(model, document)
        return model


def _pca_from(tensors, n_features):
    from sklearn.decomposition import PCA

    try:
        comps, mean, var = (np.asarray(tensors[k], dtype=np.float64) for k in PCA_TENSORS)
    except KeyError as e:
        raise ValueError(f"the PCA basis lacks {e}") from None
    k = comps.shape[0] if comps.ndim == 2 else 0
    ok = (comps.ndim == 2 and comps.shape[1] == n_features and 1 <= k <= n_features
          and mean.shape == (n_features,) and var.shape == (k,)
          and all(np.all(np.isfinite(a)) for a in (comps, mean, var)))
    if not ok:
        raise ValueError("the PCA basis does not match the number of features")
    pca = PCA(n_components=k)
    pca.components_, pca.mean_, pca.explained_variance_ = comps, mean, var
    pca.n_components_, pca.n_features_in_, pca.whiten = k, n_features, False
    return pca
