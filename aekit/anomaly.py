"""Reconstruction-error anomaly detection, as a scikit-learn outlier detector."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils.validation import check_is_fitted

from .autoencoder import Autoencoder, draw_seed, train_config, training_scores
from .design import auto_sizes, auto_trim, fit_schema, network_config
from .params import DetectorParams, check_params
from .preprocessing import InputSchema, checked_input
from .scoring import (ScoreRule, contributions, network_output, quantiles_of, resolve_score,
                      robust_threshold, row_scores, threshold_for_share)
from .state import (SavesState, estimator_with_params, networks_document, networks_from,
                    params_document, set_schema, set_summary, summary_document)

class AnomalyDetector(DetectorParams, SavesState, OutlierMixin, BaseEstimator):
    """Flags rows that a model fitted on (mostly) normal data reconstructs badly.

    ``anomaly_score`` is the reconstruction error (:mod:`aekit.scoring`), measured
    in the scaled space the model learned (data in [0, 1] such as pixels / 255 as
    it is; other data standardised per feature); ``score_samples`` is its negative
    (higher = more normal, scikit-learn's convention) and ``explain`` its share per
    feature. The training data is assumed to be mostly normal: the threshold flags
    the share ``contamination`` of the training rows (novelty detection when the
    training data is clean, outlier detection when it holds the anomalies too).

    Two objectives (``objective``, :mod:`aekit.design`): images and other wide rows
    in [0, 1] are reconstructed through a narrow code; any other table gets a
    masked network, which predicts each feature from the others, and a row's score
    is then its mean surprise (negative log-likelihood) over 32 fixed masks. A
    masked network is fitted twice (``trim``): the second fit leaves out the tenth
    of the training rows the first scored highest, the likeliest anomalies.

    The defaults need no tuning: fitted on the training images of one MNIST digit
    they separate that digit's test images from the nine others with a mean AUROC
    of about 98% (protocol A, ``aekit evaluate oneclass``), against 94.1% for PCA;
    on the 22 ADBench tables of protocol T (``aekit evaluate tables``) the masked
    network's mean AUROC is about 80%, against 77% for IsolationForest
    (BENCHMARKS.md).

    Parameters (keyword-only)
    -------------------------
    method : {"autoencoder", "pca"}, default="autoencoder"
        ``"pca"`` is the baseline: scikit-learn's PCA keeping ``n_components``
        (by default 90% of the variance), with the identical interface.
    contamination : float in (0, 0.5] or "auto", default=0.01
        Share of the training rows that the threshold flags. ``"auto"``, for when the
        share is not known: rows whose log score lies more than 3 robust standard
        deviations above the training rows' median log score
        (:func:`aekit.scoring.robust_threshold`).
    threshold : float or None, default=None
        The anomaly score above which a row is an anomaly; overrides ``contamination``.
    score_type : {"auto", "mse", "relative", "nll"}, default="auto"
        ``"mse"``: the mean squared error per feature. ``"relative"`` (aekit's
        own): that error divided by the row's mean intensity (inputs plus
        reconstruction), for non-negative data in [0, 1] only: heavy and light
        rows (digits with much or little ink) are then judged alike. ``"nll"``
        (masked models only, which score by nothing else): the mean surprise, in
        nats per feature. ``"auto"``: "nll" for a masked model, else "relative"
        for data in [0, 1] and "mse" for anything else.
    objective : {"auto", "reconstruction", "masked"}, default="auto"
        ``"auto"``: reconstruction for rows of 256+ values in [0, 1] (images),
        masked for every other table (:func:`aekit.design.auto_objective`). See
        :class:`aekit.Autoencoder`.
    n_components : int or float, default=0.9
        Components (or share of variance) kept by ``method="pca"``.
    hidden : tuple of int or "auto", default="auto"
        Encoder layer sizes; "auto" (:func:`aekit.design.auto_sizes`): 8 x the
        number of features wide (32..512), then half that; masked: one layer 4 x
        the features wide (32..256).
    code_size : int or "auto", default="auto"
        The bottleneck; "auto": half the number of features, 1..8, so that the
        network cannot simply copy its input (rows it copies look normal);
        masked: as wide as the hidden layer (it never sees what it predicts).
    batch_size : int or "auto", default="auto"
        "auto": an eighth of the training rows, 16..128, so that small tables
        still get enough optimisation steps.
    epochs : int, default=30
    trim : float in [0, 0.5) or "auto", default="auto"
        Fit twice, the second time without the ``floor(trim * n_samples)``
        training rows the first fit scores highest, so that anomalies in the
        training data are not learned as normal (Yoon et al., "Self-supervise,
        refine, repeat", TMLR 2022; see :class:`aekit.Autoencoder`). ``"auto"``
        (:func:`aekit.design.auto_trim`): 0.1 for a masked model, 0 (one fit)
        for reconstruction. The threshold is still taken over all training rows.
    noise : str or None, default=None
        Input corruption during training (see :class:`aekit.Autoencoder`).
    dropout, batch_norm, optimizer, lr, momentum, weight_decay, validation_fraction,
    patience, lr_patience, device, random_state, verbose
        As for :class:`aekit.Autoencoder`.

    Attributes
    ----------
    schema_ : InputSchema
        Feature names and order, scaling and pixel rule learned in ``fit``.
    networks_ : list of AutoencoderNet
        The trained network(s) (``method="autoencoder"``; empty for "pca").
    pca_ : sklearn.decomposition.PCA or None
        The fitted basis (``method="pca"``).
    objective_ : {"reconstruction", "masked"}
        The objective "auto" resolved to for this data.
    score_type_ : {"mse", "relative", "nll"}
    score_quantiles_ : ndarray of shape (1001,)
        The training rows' scores at percentiles 0, 0.1, ..., 100.
    threshold_ : float
        Rows scoring above it are anomalies.
    offset_ : float
        ``-threshold_``: ``decision_function`` is ``score_samples - offset_``.
    n_features_in_, feature_names_in_, history_, n_epochs_, training_summary_, device_
        As for :class:`aekit.Autoencoder`.

    References
    ----------
    Hinton & Salakhutdinov, Science 2006 (the autoencoder); Sakurada & Yairi,
    "Anomaly detection using autoencoders with nonlinear dimensionality
    reduction", MLSDA 2014 (reconstruction error as the anomaly score); Ruff et
    al., "Deep one-class classification", ICML 2018 (protocol A); Germain et
    al., "MADE", ICML 2015 and He et al., "Masked autoencoders are scalable
    vision learners", CVPR 2022 (predicting hidden inputs from the rest); Bishop,
    "Mixture density networks", 1994 (the per-feature mixture); Han et al.,
    "ADBench", NeurIPS 2022 (protocol T).

    Examples
    --------
    >>> import numpy as np
    >>> from aekit import AnomalyDetector
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 10))
    >>> det = AnomalyDetector(epochs=5, random_state=0).fit(X)
    >>> det.predict(np.vstack([X[:3], 10 + X[:1]]))
    array([ 1,  1,  1, -1])
    """

    # -- fitting ------------------------------------------------------------
    def fit(self, X, y=None):
        """Fit on (mostly) normal rows ``X`` (n_samples, n_features); ``y`` is ignored.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            A parameter breaks its rule, or ``X`` is not numeric, finite and 2-D.
        aekit.errors.TrainingError
            The loss became NaN or infinite.
        """
        p = check_params(self.get_params(deep=False), type(self))
        X = checked_input(self, X, reset=True)
        schema, self.objective_ = fit_schema(
            X, getattr(self, "feature_names_in_", None),
            "reconstruction" if self.method == "pca" else self.objective)
        set_schema(self, schema)
        Xs = self.schema_.transform(X)
        self.score_type_ = resolve_score(self.score_type, self.schema_.scaling, self.objective_)
        self.pca_, self.networks_ = None, []
        if self.method == "pca":
            self._fit_pca(Xs)
        else:
            self._fit_networks(Xs, p)
        train_scores = self._scores(Xs)
        self.score_quantiles_ = quantiles_of(train_scores)
        if self.threshold is not None:
            self.threshold_ = float(self.threshold)
        elif self.contamination == "auto":
            self.threshold_ = robust_threshold(train_scores)
        else:
            self.threshold_ = threshold_for_share(train_scores, self.contamination)
        self.offset_ = -self.threshold_
        return self

    def _fit_networks(self, Xs, p):
        from .device import resolve_device
        from .nn.fitting import fit_network

        p.update(auto_sizes(p, *Xs.shape, self.objective_))
        p["trim"] = auto_trim(p["trim"], self.objective_)
        check_params(p, Autoencoder)  # the network's sizes, once "auto" is resolved
        self.device_ = resolve_device(self.device)
        config = network_config(p, Xs.shape[1], self.objective_, self.schema_.scaling)
        if self.batch_norm and len(Xs) < 2:
            raise ValueError("batch_norm needs more than 1 sample to train")
        result = fit_network(
            Xs, config, train_config(p, draw_seed(self.random_state)), noise=p["noise"],
            clip=self.schema_.scaling == "unit", device=self.device_,
            validation_fraction=self.validation_fraction, verbose=self.verbose,
            trim=p["trim"],
            score_rows=lambda net, A: training_scores(net, A, self.score_type_, self.device_))
        self.networks_ = [result.net]
        self.history_, self.training_summary_ = result.history, result.summary
        self.n_epochs_ = result.summary["epochs"]

    def _fit_pca(self, Xs):
        from sklearn.decomposition import PCA

        n, limit = self.n_components, min(Xs.shape)
        if isinstance(n, numbers.Integral):
            n = max(1, min(int(n), limit))
        elif limit <= 1:
            n = 1
        self.pca_ = PCA(n_components=n, random_state=self.random_state).fit(Xs)
        self.device_ = "cpu"
        self.history_, self.training_summary_, self.n_epochs_ = {}, {}, 0

    # -- scoring ------------------------------------------------------------
    def _scaled(self, X):
        check_is_fitted(self, "offset_")
        return self.schema_.transform(checked_input(self, self.schema_.select(X), reset=False))

    def _scores(self, Xs):
        if self.pca_ is not None:
            return row_scores(Xs, self._pca_reconstruct(Xs), self.score_type_)
        return training_scores(self.networks_[0], Xs, self.score_type_, self.device_)

    def _pca_reconstruct(self, Xs):
        Xs = np.asarray(Xs, dtype=np.float64)
        return self.pca_.inverse_transform(self.pca_.transform(Xs))

    def _reconstruct_scaled(self, Xs, output="reconstruction"):
        """The network's reconstructions of scaled rows (or its surprise per feature)."""
        if self.pca_ is not None:
            return self._pca_reconstruct(Xs)
        from .nn.fitting import reconstruct, run_in_batches, surprise

        fn = surprise if output == "surprise" else reconstruct
        return run_in_batches(self.networks_[0], fn, Xs, self.device_, Xs.shape[1])

    def anomaly_score(self, X):
        """The reconstruction error of each row, shape (n_samples,): higher is more
        anomalous."""
        return self._scores(self._scaled(X))

    def score_samples(self, X):
        """Minus :meth:`anomaly_score`, shape (n_samples,): higher means more normal."""
        return -self.anomaly_score(X)

    def decision_function(self, X):
        """``score_samples(X) - offset_``, shape (n_samples,): negative for anomalies."""
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for inliers, -1 for anomalies, shape (n_samples,)."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    def explain(self, X):
        """Per-feature contributions to the anomaly score, shape (n_samples, n_encoded):
        one column per feature the network reads (``schema_.encoded_names()``: the
        input columns, a text column's categories one-hot).

        The squared reconstruction error of each feature (for ``score_type_ ==
        "relative"`` divided by the row's mean intensity; for "nll", a masked
        model's surprise at the feature given the others, in nats): the features
        with the largest values are the ones that make a row anomalous, and each
        row's mean is its ``anomaly_score``.
        """
        Xs = self._scaled(X)
        out = self._reconstruct_scaled(Xs, network_output(self.score_type_))
        return contributions(Xs, out, self.score_type_)

    def reconstruct(self, X):
        """The model's reconstruction of ``X``, shape (n_samples, n_features), in X's units
        (a DataFrame of the input columns for a model with text columns)."""
        check_is_fitted(self, "offset_")
        X = checked_input(self, self.schema_.select(X), reset=False)
        Xs = self.schema_.transform(X)
        divisor = self.schema_.pixel_divisor(self.schema_.encode(X))
        R = self.schema_.inverse_transform(self._reconstruct_scaled(Xs), Xs.dtype, divisor)
        return self.schema_.decode(R) if self.schema_.categorical else R

    def threshold_for(self, contamination=None, threshold=None):
        """``(threshold, how it was chosen)`` for another contamination or a given threshold
        (see :meth:`aekit.scoring.ScoreRule.threshold_for`); by default ``threshold_``."""
        check_is_fitted(self, "offset_")
        return self.score_rule().threshold_for(contamination, threshold)

    def score_rule(self):
        """The :class:`~aekit.scoring.ScoreRule` of the fitted detector."""
        return ScoreRule(self.score_type_, self.score_quantiles_, self.threshold_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # gaps take the training medians
        return tags

    # -- from and to an autoencoder -------------------------------------------------
    @classmethod
    def from_autoencoder(cls, autoencoder, contamination=None, threshold=None):
        """A detector scoring rows by a fitted :class:`~aekit.Autoencoder`'s reconstruction
        error (its ``score_type_``). Its threshold: ``threshold`` when given, else the
        (1 - ``contamination``) quantile of the autoencoder's training scores
        (default contamination: 0.01).

        Raises
        ------
        ValueError
            No threshold is given and the autoencoder stores no training quantiles.
        """
        check_is_fitted(autoencoder, "net_")
        c = cls().contamination if contamination is None else contamination
        objective = autoencoder.net_.config.objective
        det = cls(contamination=c, threshold=threshold, noise=autoencoder.noise,
                  device=autoencoder.device, objective=objective)
        set_schema(det, autoencoder.schema_)
        det.objective_ = objective
        det.networks_, det.pca_, det.device_ = [autoencoder.net_], None, autoencoder.device_
        det.score_type_ = autoencoder.score_type_
        det.score_quantiles_ = autoencoder.score_quantiles_
        det.threshold_, _ = ScoreRule(det.score_type_, det.score_quantiles_).threshold_for(
            c, threshold)
        det.offset_ = -det.threshold_
        det.history_ = autoencoder.history_
        det.training_summary_, det.n_epochs_ = autoencoder.training_summary_, autoencoder.n_epochs_
        return det

    def as_autoencoder(self):
        """The detector's network as a fitted :class:`~aekit.Autoencoder` (for its codes).

        Raises
        ------
        ValueError
            ``method="pca"``: there is no network.
        """
        check_is_fitted(self, "offset_")
        if len(self.networks_) != 1:
            raise ValueError("this detector holds no autoencoder network (method "
                             f"{self.method!r}); it has no codes")
        net = self.networks_[0]
        ae = Autoencoder(code_size=net.config.code_size, hidden=net.config.hidden,
                         dropout=net.config.dropout, batch_norm=net.config.batch_norm,
                         noise=self.noise, device=self.device,
                         objective=net.config.objective)
        set_schema(ae, self.schema_)
        ae.net_, ae.device_ = net, self.device_
        ae.score_type_, ae.score_quantiles_ = self.score_type_, self.score_quantiles_
        ae.history_, ae.training_summary_ = self.history_, self.training_summary_
        ae.n_epochs_ = self.n_epochs_
        return ae

    # -- state and files ----------------------------------------------------------
    def get_state(self):
        """The fitted detector as ``(document, tensors)`` (see
        :meth:`aekit.Autoencoder.get_state`)."""
        check_is_fitted(self, "offset_")
        configs, tensors = networks_document(self.networks_)
        doc = {
            "estimator": type(self).__name__,
            "params": params_document(self),
            "schema": self.schema_.to_json(),
            "networks": configs,
            "scoring": self.score_rule().to_json(),
            "summary": summary_document(self.training_summary_, self.history_),
        }
        if self.pca_ is not None:
            doc["pca"] = {"n_components": int(self.pca_.n_components_)}
            tensors.update({"pca.components": self.pca_.components_, "pca.mean": self.pca_.mean_,
                            "pca.explained_variance": self.pca_.explained_variance_})
        return doc, tensors

    @classmethod
    def from_state(cls, document, tensors, device="auto"):
        """The fitted detector a :meth:`get_state` pair describes (ValueError if malformed)."""
        from .device import resolve_device

        det = estimator_with_params(cls, document["params"])
        schema = InputSchema.from_json(document["schema"])
        set_schema(det, schema)
        det.device_ = resolve_device(device)
        det.networks_ = networks_from(document, tensors, schema.n_encoded, det.device_)
        det.pca_ = _pca_from(tensors, schema.n_encoded) if document.get("pca") is not None \
            else None
        if (det.pca_ is None) == (not det.networks_):
            raise ValueError("a detector holds either one network or a PCA basis")
        rule = ScoreRule.from_json(document.get("scoring"))
        if rule.threshold is None:
            raise ValueError("the detector's threshold is missing")
        det.objective_ = det.networks_[0].config.objective if det.networks_ \
            else "reconstruction"
        resolve_score(rule.score_type, schema.scaling, det.objective_)
        det.score_type_, det.score_quantiles_ = rule.score_type, rule.quantiles
        det.threshold_, det.offset_ = rule.threshold, -rule.threshold
        set_summary(det, document)
        return det


def _pca_from(tensors, n_features):
    from sklearn.decomposition import PCA

    try:
        comps = np.asarray(tensors["pca.components"], dtype=np.float64)
        mean = np.asarray(tensors["pca.mean"], dtype=np.float64)
        var = np.asarray(tensors["pca.explained_variance"], dtype=np.float64)
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
