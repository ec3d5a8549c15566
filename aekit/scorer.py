"""A model file opened for scoring rows: the engine `aekit detect` scores with.

:class:`Scorer` reads any aekit model file (or bundled model) and chooses how to run
it: on a CPU, dense networks and PCA bases run in numpy (:mod:`aekit.inference`),
sparing the imports of torch and scikit-learn; anything else (a convolutional
network, a GPU) loads as an estimator and runs its torch engine. Either way the rows
are scaled by the file's input schema (in float64, then float32 for the engine), scored
by :func:`aekit.scores.score_rows`, and flagged by the file's
:class:`~aekit.thresholds.ScoreRule`: the same definitions the estimators use, so the
library and `aekit detect` give the same scores and flag the same rows.
"""

import numpy as np

from .scores import explain_rows, score_rows

PIXEL_NAMES = [f"pixel_r{i // 28}_c{i % 28}" for i in range(784)]
# model files of other jobs, as messages name them
NOT_SCORERS = {"VariationalAutoencoder": "a variational autoencoder (a generative model)",
               "ImageDenoiser": "a photo denoiser"}


def numpy_can_run(device):
    """Whether a numpy engine may stand in for torch on ``device`` (no GPU wanted or found)."""
    from .device import gpu_possible

    return device == "cpu" or (device in (None, "auto") and not gpu_possible())


def score_rule_of(doc):
    """The :class:`~aekit.thresholds.ScoreRule` of a model file's document; a model `aekit
    train` trained as a detector in a file of format 1 or 2 (stored as an autoencoder)
    gets the default contamination's threshold, as :func:`aekit.load` gives it."""
    from .state import trained_as_detector
    from .thresholds import ScoreRule

    rule = ScoreRule.from_json(doc.get("scoring") or {"score_type": "mse"})
    if rule.threshold is None and rule.quantiles is not None and trained_as_detector(doc):
        rule = rule.with_threshold()
    return rule


class Scorer:
    """A model opened for scoring rows (see the module's notes).

    Attributes: ``path``, ``schema`` (:class:`~aekit.preprocessing.InputSchema`),
    ``rule`` (:class:`~aekit.thresholds.ScoreRule`), ``engine`` (what
    :func:`aekit.scores.score_rows` runs), ``uses_torch``, ``digits`` (the MNIST classes
    an `aekit train --digits` model learnt, else None).

    Raises
    ------
    ModelFileError
        The file is missing or not a valid aekit model, or a model of another job (a
        variational autoencoder, a photo denoiser).
    """

    def __init__(self, model, device="auto"):
        from .inference import numpy_engine
        from .model_file import read_model_file
        from .preprocessing import InputSchema
        from .pretrained import resolve

        self.path = resolve(model)
        doc, tensors = read_model_file(self.path)
        if doc["estimator"] in NOT_SCORERS:
            from .errors import ModelFileError

            raise ModelFileError(f"{model} is {NOT_SCORERS[doc['estimator']]}: it scores no "
                                 "rows as anomalies; give a detector or an autoencoder")
        self.engine = numpy_engine(doc, tensors) if numpy_can_run(device) else None
        self.uses_torch = self.engine is None
        if self.uses_torch:
            self.engine = _estimator_engine(doc, tensors, self.path, device)
        try:
            self.schema = InputSchema.from_json(doc["schema"])
            self.rule = score_rule_of(doc)
            _check_rule(doc, self.rule, self.schema)
        except ValueError as e:
            from .errors import ModelFileError
            from .state import unfinished_fit_error

            unfinished = unfinished_fit_error(doc, self.path)
            raise (unfinished or ModelFileError(f"{self.path}: {e}")) from None
        data = doc.get("data") or {}
        self.digits = data.get("digits") if data.get("source") == "mnist" else None

    def scaled(self, X):
        """Rows X (n, n_features, in the model's column order; a DataFrame for a model with
        text columns) as the engine reads them: scaled in float64, then float32."""
        return self.schema.transform(X, np.float32)

    def anomaly_score(self, X):
        """Scores (float64, shape (n,)) of rows X (n, n_features) in the model's column order."""
        return score_rows(self.engine, self.scaled(X), self.rule.score_type)

    def explain(self, X):
        """Per-feature contributions (n, n_encoded); their row means are the scores."""
        return explain_rows(self.engine, self.scaled(X), self.rule.score_type)

    def feature_names(self, table_names=None):
        """Names for the features in explanations, in the model's order (text columns'
        one-hot features as ``name=category``)."""
        if self.schema.feature_names is not None or self.schema.categorical:
            return list(self.schema.encoded_names())
        if table_names is not None:
            return [str(n) for n in table_names]
        if self.schema.pixels and self.schema.n_features == len(PIXEL_NAMES):
            return PIXEL_NAMES
        return [str(i) for i in range(self.schema.n_features)]


def _check_rule(doc, rule, schema):
    """Refuse (ValueError) a detector without its threshold, and a score its model cannot
    give (as loading the estimator refuses them)."""
    from .scores import resolve_score

    if doc["estimator"] == "AnomalyDetector" and rule.threshold is None:
        raise ValueError("the detector's threshold is missing")
    nets = doc.get("networks") or []
    objective = nets[0].get("objective", "reconstruction") if nets else "reconstruction"
    resolve_score(rule.score_type, schema.scaling, objective)


def _estimator_engine(doc, tensors, path, device):
    """The engine of the estimator a file loads as (its model's, for a detector)."""
    from .anomaly import AnomalyDetector
    from .loading import estimator_from

    est = estimator_from(doc, tensors, path, device)
    model = est.model_ if isinstance(est, AnomalyDetector) else est
    return model.engine()
