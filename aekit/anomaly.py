"""Anomaly detection by a fitted model's errors, as a scikit-learn outlier detector."""

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils.validation import check_is_fitted

from .autoencoder import Autoencoder
from .params import DetectorParams, check_params
from .pca_model import PCAModel
from .state import SavesState, estimator_with_params, params_document
from .thresholds import ScoreRule, flag_limit


class AnomalyDetector(DetectorParams, SavesState, OutlierMixin, BaseEstimator):
    """Flags rows that a model fitted on (mostly) normal data reconstructs badly.

    ``anomaly_score`` is the reconstruction error (:mod:`aekit.scores`), measured
    in the scaled space the model learned (data in [0, 1] such as pixels / 255 as
    it is; other data standardised per feature); ``score_samples`` is its negative
    (higher = more normal, scikit-learn's convention) and ``explain`` its share per
    feature. The training data is assumed to be mostly normal: the threshold flags
    the share ``contamination`` of the training rows (novelty detection when the
    training data is clean, outlier detection when it holds the anomalies too).

    Two objectives (``objective``, :mod:`aekit.design`): images and other wide rows
    in [0, 1] are reconstructed through a narrow code; any other table gets a
    masked network, which predicts each feature from the others, and a row's score
    is then its surprise (negative log-likelihood) under 16 fixed masks: each mask's
    mean surprise over the features it hides, divided by its spread over the
    training rows, averaged over the masks. A masked network is fitted twice
    (``trim``): the second fit leaves out the 30% of the training rows the first
    scored highest, the likeliest anomalies. It also keeps its first fit as it was after
    one epoch (its early network, which has not yet learned the training rows'
    anomalies as normal), and a row scores the larger of the two networks' robust
    z-scores among the training rows, the early one halved, in the trained network's
    units (:func:`aekit.nn.masking.with_early`; Arpit et al., ICML 2017).

    The defaults need no tuning: fitted on the training images of one MNIST digit
    they separate that digit's test images from the nine others with a mean AUROC
    of about 98% (protocol A, ``aekit evaluate oneclass``), against 94.1% for PCA;
    on the 22 ADBench tables of protocol T (``aekit evaluate tables``) the masked
    network's mean AUROC is about 81%, against 77% for IsolationForest
    (BENCHMARKS.md).

    Parameters (keyword-only)
    -------------------------
    method : {"autoencoder", "pca"}, default="autoencoder"
        ``"pca"`` is the baseline: scikit-learn's PCA keeping ``n_components``
        (by default 90% of the variance), with the identical interface.
    contamination : float in (0, 0.5] or "auto", default=0.01
        Share of the training rows that the threshold flags: the (1 - contamination)
        quantile of the training scores, read off their stored quantile grid as every
        threshold is (:mod:`aekit.thresholds`), so that `aekit detect -c` flags the same
        rows. ``"auto"``, for when the share is not known: rows whose log score lies
        more than 3 robust standard deviations above the training rows' median log
        score (:func:`aekit.thresholds.robust_threshold`).
    threshold : float or None, default=None
        The anomaly score above which a row is an anomaly; overrides ``contamination``.
    score_type : {"auto", "mse", "relative", "nll"}, default="auto"
        ``"mse"``: the mean squared error per feature. ``"relative"`` (aekit's
        own): that error divided by the row's mean intensity (inputs plus
        reconstruction), for non-negative data in [0, 1] only: heavy and light
        rows (digits with much or little ink) are then judged alike. ``"nll"``
        (masked models only, which score by nothing else): the mean surprise, each
        scoring mask's in units of its spread over the training rows (older model
        files: in nats per feature). ``"auto"``: "nll" for a masked model, else "relative"
        for data in [0, 1] and "mse" for anything else.
    objective : {"auto", "reconstruction", "masked"}, default="auto"
        ``"auto"``: reconstruction for rows of 256+ values in [0, 1] (images),
        masked for every other table (:func:`aekit.design.auto_objective`). See
        :class:`aekit.Autoencoder`.
    n_components : int or float, default=0.9
        Components (or share of variance) kept by ``method="pca"``. A share that needs
        every component keeps all but the last (of 2+ features): with all of them every
        row is reconstructed exactly and the errors are rounding. A count is at most the
        features (after one-hot encoding) less one: ``fit`` raises ValueError otherwise.
    hidden : tuple of int or "auto", default="auto"
        Encoder layer sizes; "auto" (:func:`aekit.design.auto_sizes`): 8 x the
        number of features wide (32..512), then half that; masked: one layer 128
        wide (64 on tables of over 32 columns).
    code_size : int or "auto", default="auto"
        The bottleneck; "auto": half the number of features, 1..8, so that the
        network cannot simply copy its input (rows it copies look normal);
        masked: as wide as the hidden layer (it never sees what it predicts).
    batch_size : int or "auto", default="auto"
        "auto": an eighth of the training rows, 16..128, so that small tables
        still get enough optimisation steps.
    epochs : int or "auto", default="auto"
        Maximum epochs; "auto" (:func:`aekit.design.auto_epochs`): 30, or for a
        masked model as many as make 150,000 rows' passes when that is fewer (over
        5,172 training rows; at least 3), so that large tables train in about the
        time of a 5,000-row one. A masked model's epoch holds at least 1,024 rows
        (:data:`aekit.design.EPOCH_ROWS`): a smaller table's rows are drawn again,
        with fresh masks (the trimmed refit's rows as many times), so that a few
        epochs still make enough steps; "auto" keeps about its 30 passes of the rows
        in fewer epochs (at least 3).
    trim : float in [0, 0.5) or "auto", default="auto"
        Fit twice, the second time without the ``floor(trim * n_samples)``
        training rows the first fit scores highest, so that anomalies in the
        training data are not learned as normal (Yoon et al., "Self-supervise,
        refine, repeat", TMLR 2022; see :class:`aekit.Autoencoder`). ``"auto"``
        (:func:`aekit.design.auto_trim`): 0.3 for a masked model, 0 (one fit)
        for reconstruction. A masked model leaves out at most that share of the rows
        holding each value of a two-valued feature (a category, a flag; so that
        fewer than ``floor(trim * n_samples)`` may be left out): a rare category is
        kept in the refit (:func:`aekit.nn.fitting.rows_left_out`). The threshold is
        still taken over all training rows.
    noise : str or None, default=None
        Input corruption during training (see :class:`aekit.Autoencoder`).
    categorical : list of str or int, or None, default=None
        Columns read as categories (one-hot) whatever they hold, e.g. numeric codes such
        as HTTP statuses: names or 0-based numbers (see :class:`aekit.Autoencoder`).
        ``explain`` gives each of their categories a feature (``status=404``).
    arch, channels, dropout, batch_norm, optimizer, lr, lr_schedule, momentum,
    weight_decay, validation_fraction, patience, lr_patience, device, random_state,
    verbose
        As for :class:`aekit.Autoencoder`.

    Attributes
    ----------
    model_ : Autoencoder or PCAModel
        The fitted model that scores the rows (``method="autoencoder"``: an
        :class:`aekit.Autoencoder` of the detector's network parameters, "auto" resolved
        by its plan; ``"pca"``: :class:`aekit.pca_model.PCAModel`). The detector adds
        the threshold; the attributes below that describe the fit are the model's.
    schema_ : InputSchema
        Feature names and order, scaling and pixel rule learned in ``fit``.
    networks_ : list of AutoencoderNet
        The trained network (``method="autoencoder"``; empty for "pca").
    pca_ : sklearn.decomposition.PCA or None
        The fitted basis (``method="pca"``).
    objective_ : {"reconstruction", "masked"}
        The objective "auto" resolved to for this data.
    score_type_ : {"mse", "relative", "nll"}
    score_quantiles_ : ndarray of shape (1001,)
        The training rows' scores at percentiles 0, 0.1, ..., 100 (of a seeded sample
        of 20,000 rows when there are more: :func:`aekit.thresholds.quantile_rows`).
    threshold_ : float
        Rows scoring above it are anomalies.
    offset_ : float
        Minus the score above which rows are flagged: ``-threshold_`` less 1e-5 of it
        (:func:`aekit.thresholds.flag_limit`: rows that score what the training rows at
        the threshold scored are not flagged for float32 rounding, as `aekit detect`
        flags them). ``decision_function`` is ``score_samples - offset_``.
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
    >>> det.predict(np.vstack([X[3:6], 10 + X[:1]]))
    array([ 1,  1,  1, -1])
    """

    # -- fitting ------------------------------------------------------------
    def plan(self, X):
        """The :class:`~aekit.design.Plan` a fit on ``X`` follows (``method="autoencoder"``;
        see :meth:`aekit.Autoencoder.plan`).

        Raises
        ------
        ValueError
            As :meth:`fit`, or ``method="pca"`` (nothing to plan).
        """
        if self.method != "autoencoder":
            raise ValueError(f"method={self.method!r} fits no network: nothing to plan")
        return self._new_model().plan(X)

    def fit(self, X, y=None, *, callback=None, resume=None, plan=None):
        """Fit on (mostly) normal rows ``X`` (n_samples, n_features); ``y`` is ignored.

        ``callback``, ``resume`` and ``plan``: as for :meth:`aekit.Autoencoder.fit`
        (``method="autoencoder"``).

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
        check_params(self.get_params(deep=False), type(self))
        self.model_ = self._new_model()  # set first: checkpoints written during the fit ask it
        self._as_detector("fit", X, callback=callback, resume=resume, plan=plan,
                          score_quantiles=True)
        self._use_threshold(self.model_.score_rule().threshold_for(self.contamination,
                                                                   self.threshold)[0])
        return self

    def _as_detector(self, method, *args, **kwargs):
        """The model's ``method`` called, scikit-learn's plain ValueErrors (the wrong number
        of features, one row) naming this class rather than the model inside it."""
        try:
            return getattr(self.model_, method)(*args, **kwargs)
        except ValueError as e:
            inner = type(self.model_).__name__
            if type(e) is not ValueError or inner not in str(e):
                raise
            raise ValueError(str(e).replace(inner, type(self).__name__)) from None

    def _use_threshold(self, threshold):
        """Set ``threshold_`` and ``offset_`` (minus its :func:`aekit.thresholds.flag_limit`)."""
        self.threshold_, self.offset_ = threshold, -flag_limit(threshold)

    def _new_model(self):
        """The unfitted model of the detector's parameters."""
        params = self.get_params(deep=False)
        cls = PCAModel if self.method == "pca" else Autoencoder
        known = cls().get_params(deep=False)
        return cls(**{k: v for k, v in params.items() if k in known})

    def __getattr__(self, name):
        # the attributes that describe the fit are the model's (see the class's notes)
        if name in MODEL_ATTRIBUTES and "model_" in self.__dict__:
            return getattr(self.__dict__["model_"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def networks_(self):
        check_is_fitted(self, "model_")
        return [self.model_.net_] if hasattr(self.model_, "net_") else []

    @property
    def pca_(self):
        check_is_fitted(self, "model_")
        return getattr(self.model_, "pca_", None)

    # -- scoring ------------------------------------------------------------
    def engine(self):
        """The scoring engine of the detector's model (:mod:`aekit.nn.engine`)."""
        check_is_fitted(self, "model_")
        return self.model_.engine()

    def anomaly_score(self, X):
        """The anomaly score of each row (its reconstruction error, or a masked model's
        mean surprise), shape (n_samples,): higher is more anomalous."""
        check_is_fitted(self, "offset_")
        return self._as_detector("anomaly_score", X)

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
        model's surprise at the feature given the others, each scoring mask's
        weighed by its spread, :func:`aekit.nn.masking.mask_weights`): the features
        with the largest values are the ones that make a row anomalous, and each
        row's mean is its ``anomaly_score``.
        """
        check_is_fitted(self, "offset_")
        return self._as_detector("explain", X)

    def reconstruct(self, X):
        """The model's reconstruction of ``X``, shape (n_samples, n_features), in X's units
        (a DataFrame of the input columns for a model with text columns)."""
        check_is_fitted(self, "offset_")
        return self._as_detector("reconstruct", X)

    def threshold_for(self, contamination=None, threshold=None):
        """``(threshold, how it was chosen)`` for another contamination or a given threshold
        (:meth:`aekit.thresholds.ScoreRule.threshold_for`); by default ``threshold_``."""
        return self.score_rule().threshold_for(contamination, threshold)

    def score_rule(self):
        """The :class:`~aekit.thresholds.ScoreRule` of the fitted detector."""
        check_is_fitted(self, "offset_")
        return ScoreRule(self.score_type_, self.score_quantiles_, self.threshold_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # gaps take the training medians
        return tags

    # -- from and to an autoencoder -------------------------------------------------
    @classmethod
    def from_autoencoder(cls, autoencoder, contamination=None, threshold=None):
        """A detector scoring rows by a fitted :class:`~aekit.Autoencoder` (its
        ``score_type_``), holding it as its ``model_``. Its threshold: ``threshold`` when
        given, else the (1 - ``contamination``) quantile of the autoencoder's training
        scores (default contamination: 0.01). Its parameters are the autoencoder's.

        Raises
        ------
        ValueError
            No threshold is given and the autoencoder stores no training quantiles.
        """
        check_is_fitted(autoencoder, "net_")
        c = cls().contamination if contamination is None else contamination
        own = cls().get_params(deep=False)
        det = cls(**{k: v for k, v in autoencoder.get_params(deep=False).items() if k in own})
        det.set_params(contamination=c, threshold=threshold)
        det.model_ = autoencoder
        det._use_threshold(autoencoder.score_rule().threshold_for(c, threshold)[0])
        return det

    def as_autoencoder(self):
        """The detector's network as a fitted :class:`~aekit.Autoencoder` (for its codes):
        its ``model_``.

        Raises
        ------
        ValueError
            ``method="pca"``: there is no network.
        """
        check_is_fitted(self, "offset_")
        if not isinstance(self.model_, Autoencoder):
            raise ValueError("this detector holds no autoencoder network (method "
                             f"{self.method!r}); it has no codes")
        return self.model_

    # -- state and files ----------------------------------------------------------
    def get_state(self, net=None, summary=None, history=None):
        """The fitted detector as ``(document, tensors)``: its model's sections (see
        :meth:`aekit.Autoencoder.get_state`), its own parameters and its threshold.
        ``net``, ``summary`` and ``history`` describe a fit under way (checkpoints:
        no threshold yet)."""
        partial = net is not None
        check_is_fitted(self, "model_" if partial else "offset_")
        if partial:
            doc, tensors = self.model_.get_state(net, summary, history)
        else:
            doc, tensors = self.model_.get_state()
        doc.update(estimator=type(self).__name__, params=params_document(self))
        if not partial:
            doc["scoring"] = self.score_rule().to_json()
        return doc, tensors

    @classmethod
    def from_state(cls, document, tensors, device="auto"):
        """The fitted detector a :meth:`get_state` pair describes (ValueError if malformed)."""
        det = estimator_with_params(cls, document["params"])
        has_pca, nets = document.get("pca") is not None, document.get("networks") or []
        if has_pca == bool(nets):
            raise ValueError("a detector holds either one network or a PCA basis")
        rule = ScoreRule.from_json(document.get("scoring"))
        if rule.threshold is None:
            raise ValueError("the detector's threshold is missing")
        model_cls = PCAModel if has_pca else Autoencoder
        det.model_ = model_cls.from_state(document, tensors, device)
        det._use_threshold(rule.threshold)
        return det


# the fitted attributes a detector reads from its model_
MODEL_ATTRIBUTES = ("schema_", "n_features_in_", "feature_names_in_", "objective_",
                    "score_type_", "score_quantiles_", "device_", "history_",
                    "training_summary_", "n_epochs_")
