"""Scoring with a dense model file in numpy alone: no torch, no scikit-learn.

`aekit detect` on a CPU would spend longer importing torch and scikit-learn (~4.5 s
on a 2-core machine) than scoring 100,000 rows. :class:`NumpyDetector` scores a
dense model file's rows with :mod:`aekit.nn.numpy_network` and the same input
schema and score definitions as the estimators. It takes only what it can vouch
for: a model that is not dense (convolutional, PCA), or a file that fails any
check, gives None from :meth:`NumpyDetector.from_document`, and the caller loads it
with :func:`aekit.load`, which also words the error for a bad file. Tests hold its
results to the torch estimators'.
"""

import numpy as np

from .model_file import MAX_PARAMETERS, check_network_config, network_tensors
from .nn.numpy_network import NumpyNetwork, check_dense_tensors, dense_layout
from .params import AutoencoderParams, DenoisingParams, DetectorParams, check_params
from .preprocessing import InputSchema
from .scoring import ScoreRule, contributions, network_output, resolve_score, row_scores

PARAMS = {"Autoencoder": AutoencoderParams, "DenoisingAutoencoder": DenoisingParams,
          "AnomalyDetector": DetectorParams}


class NumpyDetector:
    """A dense model's scoring in numpy: ``anomaly_score`` and ``explain`` of rows given
    in the model's column order, as :class:`aekit.AnomalyDetector` computes them.

    Attributes: ``schema_`` (:class:`~aekit.preprocessing.InputSchema`),
    ``score_type_``, ``score_rule`` (:class:`~aekit.scoring.ScoreRule`).
    """

    def __init__(self, schema, networks, rule):
        self.schema_ = schema
        self.networks = networks
        self.score_rule = rule
        self.score_type_ = rule.score_type

    def _reconstruct_scaled(self, Xs):
        """What the score is computed from: the reconstructions, or a masked network's
        surprise per feature."""
        if network_output(self.score_type_) == "surprise":
            return self.networks[0].surprise(Xs)
        return self.networks[0].reconstruct(Xs)

    def anomaly_score(self, X):
        """Row scores (float64, shape (n,)) of rows X (n, n_features)."""
        Xs = self.schema_.transform(_float32(X))
        return row_scores(Xs, self._reconstruct_scaled(Xs), self.score_type_)

    def explain(self, X):
        """Per-feature contributions (n, n_encoded); their row means are the scores."""
        Xs = self.schema_.transform(_float32(X))
        return contributions(Xs, self._reconstruct_scaled(Xs), self.score_type_)

    @classmethod
    def from_document(cls, doc, tensors):
        """The numpy detector of a model file's ``(document, tensors)``, or None when it is
        not a dense network aekit can vouch for (load it with torch then)."""
        try:
            return cls._build(doc, tensors)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            return None

    @classmethod
    def _build(cls, doc, tensors):
        kind = doc["estimator"]
        params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in doc["params"].items()}
        check_params(params, PARAMS[kind])
        if kind == "AnomalyDetector" and params.get("method", "autoencoder") != "autoencoder":
            return None
        schema = InputSchema.from_json(doc["schema"])
        entries = doc.get("networks") or []
        if len(entries) != 1:
            return None
        config = check_network_config(entries[0])
        if config.arch != "dense" or config.n_features != schema.n_encoded:
            return None
        shapes, _ = dense_layout(config)
        if sum(int(np.prod(s)) for k, s in shapes.items() if "running" not in k) > MAX_PARAMETERS:
            return None
        net_tensors = network_tensors(tensors, 0)
        if not check_dense_tensors(config, net_tensors):
            return None
        rule = ScoreRule.from_json(doc.get("scoring") or {"score_type": "mse"})
        resolve_score(rule.score_type, schema.scaling, config.objective)
        if kind == "AnomalyDetector" and rule.threshold is None:
            return None
        return cls(schema, [NumpyNetwork(config, net_tensors)], rule)


def _float32(X):
    """Rows as the network computes them: arrays in float32 (a DataFrame with text columns
    is encoded by the schema)."""
    return X if hasattr(X, "iloc") else np.asarray(X, dtype=np.float32)
