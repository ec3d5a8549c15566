"""scikit-learn estimators around the network: Autoencoder and DenoisingAutoencoder."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .design import plan_fit, planned_for
from .params import AutoencoderParams, DenoisingParams, check_params
from .preprocessing import InputSchema, checked_input, checked_rows
from .scores import explain_rows, resolve_score, score_rows
from .state import HoldsNetwork, SavesState, set_schema
from .thresholds import ScoreRule, quantile_rows, quantiles_of


class Autoencoder(AutoencoderParams, HoldsNetwork, SavesState, TransformerMixin, BaseEstimator):
    """A dense (or convolutional) autoencoder: an encoder to a ``code_size`` code and a
    mirrored decoder, as a scikit-learn transformer.

    Inputs of any range work: data already in [0, 1] (e.g. pixels / 255) is
    modelled with a sigmoid output and binary cross-entropy; anything else is
    standardised per feature and modelled with a linear output and squared error.
    The scaling is learned in ``fit`` (:class:`~aekit.preprocessing.InputSchema`)
    and applied in every method, as are the column names of a DataFrame (its
    columns are put in the training order by name).

    Parameters (keyword-only)
    -------------------------
    code_size : int or "auto", default=32
        Size of the code (the bottleneck), i.e. of ``transform``'s output. "auto"
        follows the data (:func:`aekit.design.auto_sizes`).
    hidden : tuple of int or "auto", default=(512, 256)
        Hidden layer sizes of the encoder; the decoder mirrors them ("auto": from the
        number of features).
    dropout : float in [0, 1), default=0.0
        Dropout probability after each hidden layer.
    batch_norm : bool, default=False
        Batch normalisation (Ioffe & Szegedy 2015) after each hidden linear layer.
    arch : {"dense", "conv"}, default="dense"
        ``"dense"``: an MLP of ``hidden`` layers. ``"conv"``: for square images
        (e.g. 784 = 28 x 28 pixels per row): stride-2 convolutions with
        ``channels`` filters, a linear code, transposed convolutions back;
        ``hidden`` is then unused. Convolutions share their filters across
        the image, which makes them better denoisers for the same training time.
    channels : tuple of int, default=(32, 64)
        Filters of each convolution of the encoder (``arch="conv"`` only); each
        halves the image side, which must be divisible by ``2 ** len(channels)``.
    noise : str or None, default="dropout:0.8"
        Corruption of the inputs during training (``"gaussian:SIGMA"``,
        ``"masking:P"``, ``"dropout:P"``, ``"saltpepper:P"``, ``"block:S"``, or
        several joined by ``+``); the targets stay clean (Vincent et al. 2008). By
        default 80% of each row's inputs are hidden (set to 0) and the rest
        scaled by 5, as dropout does, so that clean inputs stay on the scale the
        network learned. To fill in the hidden inputs, the code must capture what
        the features have in common rather than copy them, which makes better
        features (MNIST linear probe, k = 32: 94.3% vs 91.5% with ``None``;
        BENCHMARKS.md, protocol F). ``None`` trains a plain autoencoder, whose
        reconstructions are closer (MNIST, k = 32: SSE per test image 3.1 vs
        9.7). The level was chosen on MNIST's 784 pixels; with a few columns,
        where 80% hidden leaves little to go on, try ``None`` or a lower ``P``.
    objective : {"reconstruction", "masked", "auto"}, default="reconstruction"
        ``"reconstruction"``: rebuild each row through the code. ``"masked"``
        (for tables): the network reads a row with some features hidden, plus
        which ones, and predicts a mixture distribution for each hidden one
        (:mod:`aekit.nn.masking`); it needs ``noise=None`` and ``arch="dense"``,
        and ``reconstruct`` then returns each feature's prediction from the
        others. ``"auto"``: as :func:`aekit.design.auto_objective` (reconstruction
        for rows of 256+ values in [0, 1] and for denoisers, masked otherwise).
    score_type : {"auto", "mse", "relative", "nll"}, default="auto"
        The anomaly score the model's errors are read as (:mod:`aekit.scores`;
        ``anomaly_score``, the training quantiles): "nll" for a masked model, else
        "relative" for data in [0, 1] and "mse" for anything else.
    optimizer : {"adam", "sgd", "rmsprop"}, default="adam"
    lr : float > 0, default=1e-3
        Learning rate (the peak rate with ``lr_schedule="onecycle"``).
    momentum : float in [0, 1), default=0.9
        Momentum of SGD and RMSprop.
    weight_decay : float >= 0, default=0.0
        L2 penalty on the weights.
    batch_size : int or "auto", default=128
    epochs : int or "auto", default=50
        Maximum number of passes over the training data (a masked model's epoch is
        several passes on fewer than 1,024 training rows:
        :func:`aekit.design.epoch_repeats`); "auto" (:func:`aekit.design.auto_epochs`):
        30, fewer for a masked model on many rows or on fewer than 1,024 rows.
    validation_fraction : float in [0, 1), default=0.1
        Share of the rows held out to monitor early stopping; 0 monitors the
        training loss instead.
    patience : int, default=8
        Epochs without improvement before training stops early.
    lr_patience : int, default=3
        Epochs without improvement before the learning rate is halved.
    lr_schedule : {"plateau", "onecycle"}, default="plateau"
        ``"plateau"`` halves the rate when the monitored loss stalls
        (``lr_patience``); ``"onecycle"`` (Smith & Topin 2017) warms up to ``lr``
        and anneals it to nearly zero by the last of ``epochs``, which it always
        runs (no early stopping; the best epoch's weights are kept); best when
        the epoch budget is fixed, and ``lr`` can then be set ~3x higher.
    trim : float in [0, 0.5) or "auto", default=0.0
        Fit twice: the second fit leaves out the ``floor(trim * n_samples)``
        training rows with the first fit's highest anomaly scores, so that
        anomalies among the training rows are not learned as normal (Yoon et
        al., "Self-supervise, refine, repeat", TMLR 2022). 0: one fit. A masked
        model leaves out at most that share of the rows holding each value of a
        two-valued feature (a category, a flag: :func:`aekit.nn.fitting.rows_left_out`).
        ``history_`` is the second fit's; ``training_summary_["trim"]`` says how
        many rows were left out. "auto": :func:`aekit.design.auto_trim`.
    categorical : list of str or int, or None, default=None
        Columns read as categories, one-hot encoded as text and true/false columns are,
        whatever they hold: numeric codes such as HTTP statuses (200, 404, 500) or
        product codes, which would otherwise be read as numbers. Names of a DataFrame's
        columns, or 0-based column numbers (an array's). A column's categories are its
        values in the training rows, a number spelled one way however a cell holds it
        (404, 404.0 and "404" are the category ``404``); a value never seen in training
        sets the column's unseen slot (``status=(unseen)``), as an unseen text does
        (:mod:`aekit.preprocessing.columns`). The encoding is saved in the
        model file (``schema_.encoding``). Checked in ``fit``: a name ``X`` does not hold,
        names for an array without column names, a number out of range or a column
        given twice raise :class:`~aekit.errors.ParameterError` (a ValueError); a column
        of more than 1,000 distinct values :class:`~aekit.errors.DataError`.
    device : str, default="auto"
        ``"auto"`` (a GPU when there is one), ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
    random_state : int, RandomState or None, default=None
        Seed for initialisation, shuffling, dropout and noise: the same seed on
        the same machine gives the same model.
    verbose : int, default=0
        1 shows a progress bar on stderr.

    Attributes
    ----------
    schema_ : InputSchema
        Feature names and order, scaling and pixel rule learned in ``fit``.
    net_ : AutoencoderNet
        The trained network (:mod:`aekit.nn.network`), on ``device_``; its ``config``
        holds the sizes "auto" chose.
    objective_ : {"reconstruction", "masked"}
        The objective "auto" resolved to for this data.
    device_ : str
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``fit`` was given column names.
    history_ : dict
        Per epoch: ``train_loss``, ``val_loss``, ``lr``.
    n_epochs_ : int
        Epochs run (early stopping may end before ``epochs``).
    training_summary_ : dict
        Epochs, early stop, best loss, rows (``n_train``: those the final fit
        trained on), seconds, device, seed (and "trim": share, rows left out, the
        first fit's epochs).
    score_type_ : {"mse", "relative", "nll"}
        The anomaly score this model's errors are read as (:mod:`aekit.scores`):
        "nll" for a masked model, else "relative" for data in [0, 1] and "mse"
        for anything else.
    score_quantiles_ : ndarray of shape (1001,) or None
        The training rows' scores at percentiles 0, 0.1, ..., 100 (of a seeded sample
        of 20,000 rows when there are more: :func:`aekit.thresholds.quantile_rows`), so that a
        contamination chosen later (`aekit detect`) becomes a threshold; None unless
        ``fit`` was asked for them (``score_quantiles=True``: an
        :class:`~aekit.AnomalyDetector` and `aekit train` ask).

    References
    ----------
    Hinton & Salakhutdinov, "Reducing the dimensionality of data with neural
    networks", Science 2006. Vincent et al., "Extracting and composing robust
    features with denoising autoencoders", ICML 2008. Glorot & Bengio,
    "Understanding the difficulty of training deep feedforward neural networks",
    AISTATS 2010 (the initialisation).

    Examples
    --------
    >>> import numpy as np
    >>> from aekit import Autoencoder
    >>> X = np.random.RandomState(0).rand(200, 20)
    >>> ae = Autoencoder(code_size=4, hidden=(16,), epochs=3, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (200, 4)
    >>> ae.reconstruct(X).shape
    (200, 20)
    """

    # -- fitting ----------------------------------------------------------
    def plan(self, X):
        """The :class:`~aekit.design.Plan` a fit on ``X`` follows: the schema, and what
        every "auto" parameter becomes for these rows (:func:`aekit.design.plan_fit`).
        Nothing is fitted; pass it to :meth:`fit` to fit by it.

        Raises
        ------
        ValueError
            As :meth:`fit`.
        """
        X, names = checked_rows(X)
        return plan_fit(check_params(self.get_params(deep=False), type(self)), X, names)

    def fit(self, X, y=None, *, callback=None, resume=None, plan=None, score_quantiles=False):
        """Fit the autoencoder to ``X``; ``y`` is ignored.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric (gaps allowed), or a DataFrame with text columns.
        callback : callable or None
            ``callback(trainer, report)`` after every epoch (see
            :func:`aekit.nn.fitting.fit_network`): progress, checkpoints
            (:class:`aekit.checkpoint.Checkpointer`).
        resume : aekit.nn.fitting.Resume or None
            Continue an interrupted fit (:func:`aekit.checkpoint.read_checkpoint`);
            the result is the model an uninterrupted fit gives.
        plan : aekit.design.Plan or None
            What :meth:`plan` gave for these rows (None: planned here).
        score_quantiles : bool, default False
            Also score the training rows once more with the fitted network and keep
            their quantile grid (``score_quantiles_``), so that the saved model can
            flag rows at a contamination (`aekit detect -c`) and tell unfamiliar
            inputs (`aekit denoise`). It costs one inference pass over ``X`` (about a
            third of an epoch), or over 20,000 of its rows when it has more, except for
            a masked network measured on those rows in its fit (its mask spreads, its
            early network), whose scores they are; a model fitted to encode or
            reconstruct does not need it.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            A parameter breaks its rule (naming it), parameters that cannot go together
            (:class:`~aekit.errors.ParameterError`), or ``X`` is not numeric, finite and
            two-dimensional.
        aekit.errors.TrainingError
            The loss became NaN or infinite.
        """
        from .device import resolve_device
        from .nn.fitting import fit_network

        p = check_params(self.get_params(deep=False), type(self))
        X = checked_input(self, X, reset=True)
        if plan is None:
            plan = plan_fit(p, X, getattr(self, "feature_names_in_", None))
        planned_for(plan, X)
        device = resolve_device(self.device)
        set_schema(self, plan.schema)  # before training: checkpoints hold it
        self.objective_, self.score_type_ = plan.objective, plan.score_type
        Xs = self.schema_.transform(X)
        result = fit_network(
            Xs, plan.network, plan.training, noise=plan.noise,
            clip=self.schema_.scaling == "unit", device=device,
            validation_fraction=self.validation_fraction, verbose=self.verbose,
            callback=callback, resume=resume, trim=plan.trim, trim_by_value=plan.trim_by_value,
            score_type=plan.score_type, first_fit_epochs=plan.first_fit_epochs,
            **plan.early_network)
        self.net_, self.device_ = result.net, device
        self.history_, self.training_summary_ = result.history, result.summary
        self.n_epochs_ = result.summary["epochs"]
        if result.kept is not None and self.schema_.categorical:
            _warn_of_categories_left_out(self.schema_, X, result.kept, plan.trim)
        self.score_quantiles_ = self._training_quantiles(Xs, result) if score_quantiles \
            else None
        return self

    def _training_quantiles(self, Xs, result):
        """The quantile grid of the training rows' scores (scaled ``Xs``): from the rows
        the fit measured its network on and the scores it found there, when they are this
        model's (:class:`aekit.nn.fitting.FitResult`), else from a pass over those rows."""
        if result.surprise is not None and self.score_type_ == "nll":
            return quantiles_of(result.surprise)
        rows = Xs[quantile_rows(len(Xs), result.summary["seed"])]
        return quantiles_of(score_rows(self.engine(), rows, self.score_type_))

    # -- inference ----------------------------------------------------------
    def _network_input(self, X):
        """X checked, in the model's column order and scaled as the network reads it."""
        check_is_fitted(self, "net_")
        return self.schema_.transform(checked_input(self, self.schema_.select(X), reset=False))

    def _with_divisor(self, X):
        """``(Xs, divisor)``: X as the network reads it, and the pixel divisor its rows
        had (to give reconstructions back in X's units)."""
        check_is_fitted(self, "net_")
        X = checked_input(self, self.schema_.select(X), reset=False)
        dtype = np.float64 if getattr(X, "dtype", None) == np.float64 else np.float32
        return self.schema_.transform(X), self.schema_.pixel_divisor(self.schema_.encode(X, dtype))

    def transform(self, X):
        """Encode ``X`` (n_samples, n_features) to codes of shape (n_samples, code size),
        in X's dtype (float32 or float64)."""
        return self.engine().encode(self._network_input(X))

    def inverse_transform(self, X):
        """Decode codes (n_samples, code size) back to the input space: (n_samples,
        n_encoded) in input units, one column per feature the network reads
        (``schema_.encoded_names()``): the input's columns, and a text column's categories
        one-hot, the decoder's value for each (:meth:`reconstruct` gives rows in the
        input's own columns, text as text)."""
        from sklearn.utils import check_array

        check_is_fitted(self, "net_")
        Z = check_array(X, dtype=[np.float64, np.float32])
        k = self.net_.config.code_size
        if Z.shape[1] != k:
            raise ValueError(f"codes have {Z.shape[1]} columns but this model's codes have {k}")
        return self.schema_.inverse_transform(self.engine().decode(Z), Z.dtype)

    def reconstruct(self, X):
        """Encode then decode ``X``: the model's reconstruction, shape (n_samples,
        n_features), in X's units and dtype (0..255 pixels stay 0..255); a DataFrame of
        the input columns for a model with text columns (each one's most likely
        category)."""
        Xs, divisor = self._with_divisor(X)
        R = self.schema_.inverse_transform(self.engine().reconstruct(Xs), Xs.dtype, divisor)
        return self.schema_.decode(R) if self.schema_.categorical else R

    def reconstruction_errors(self, X):
        """Squared error per feature, shape (n_samples, n_features), in the scaled space."""
        Xs = self._network_input(X)
        return (self.engine().reconstruct(Xs) - Xs) ** 2

    def anomaly_score(self, X):
        """Each row's anomaly score, shape (n_samples,), float64: its reconstruction error
        as ``score_type_`` reads it (:mod:`aekit.scores`), in the scaled space the model
        learned; higher is more anomalous."""
        return score_rows(self.engine(), self._network_input(X), self.score_type_)

    def explain(self, X):
        """Per-feature contributions to :meth:`anomaly_score`, shape (n_samples,
        n_encoded): each row's mean is its score (see :func:`aekit.scores.contributions`)."""
        return explain_rows(self.engine(), self._network_input(X), self.score_type_)

    def score_rule(self):
        """The :class:`~aekit.thresholds.ScoreRule` of the fitted model: its score type and
        training quantiles (an autoencoder has no threshold of its own)."""
        check_is_fitted(self, "net_")
        return ScoreRule(self.score_type_, getattr(self, "score_quantiles_", None))

    def score(self, X, y=None):
        """Minus the mean squared reconstruction error per cell, in the scaled space the
        model was fitted in (standard deviations for standardised columns, the [0, 1]
        range for data in [0, 1]), as its training sees the data: higher is better, and no
        column weighs more for being measured in larger units (``GridSearchCV`` selects on
        it)."""
        return -float(np.mean(self.reconstruction_errors(X), dtype=np.float64))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.input_tags.allow_nan = True  # gaps take the training medians
        return tags

    # -- state and files ----------------------------------------------------------
    def get_state(self, net=None, summary=None, history=None):
        """The fitted model as ``(document, tensors)``: a JSON-able dict (parameters,
        input schema, network config, scoring, training summary) and numpy arrays.

        ``net``, ``summary`` and ``history`` stand in for ``net_``,
        ``training_summary_`` and ``history_`` while a fit is under way
        (checkpoints). :mod:`aekit.model_file` writes the pair;
        :meth:`from_state` reads it back.
        """
        rule = None
        if hasattr(self, "score_type_"):
            rule = ScoreRule(self.score_type_, getattr(self, "score_quantiles_", None))
        return self.network_state(net, summary, history, rule.to_json() if rule else None)

    @classmethod
    def from_state(cls, document, tensors, device="auto"):
        """The fitted estimator a :meth:`get_state` pair describes (the parameters it
        does not know, e.g. a detector's, are left out).

        Raises
        ------
        ValueError
            Any part of the document or the tensors is malformed (the message names it).
        """
        est = cls.restored(document, tensors, device)
        est.objective_ = est.net_.config.objective
        rule = ScoreRule.from_json(document.get("scoring") or {"score_type": "mse"})
        resolve_score(rule.score_type, est.schema_.scaling, est.objective_)
        est.score_type_, est.score_quantiles_ = rule.score_type, rule.quantiles
        return est

class DenoisingAutoencoder(DenoisingParams, Autoencoder):
    """An autoencoder trained to undo a corruption of its inputs (Vincent et al. 2008).

    Same parameters and attributes as :class:`Autoencoder`; ``noise`` defaults to
    ``"gaussian:0.3"`` (applied during training only, never at inference) and
    may not be None. The network defaults are larger than :class:`Autoencoder`'s
    (784-1024-512-128 with batch norm on MNIST): a denoiser must keep the detail
    of the image rather than compress it, and on protocol D's gaussian noise this
    gains about 1 dB over 512-256-32 in the same 20 epochs.

    Examples
    --------
    >>> import numpy as np
    >>> from aekit import DenoisingAutoencoder
    >>> X = np.random.RandomState(0).rand(200, 20)
    >>> dae = DenoisingAutoencoder(code_size=8, noise="masking:0.2", epochs=3).fit(X)
    >>> dae.reconstruct(X).shape
    (200, 20)
    """


def _warn_of_categories_left_out(schema, X, kept, trim):
    """Warn when the second fit of a trimmed fit left out (nearly) every row of a category,
    which the model then takes for anomalies: a real segment of the data (say 10% of
    customers on one plan) looks as odd to a first fit as anomalies do, and trim removes
    it whole."""
    from .errors import AekitWarning, literal, warn

    names = schema.feature_names or [str(i) for i in range(schema.n_features)]
    groups = schema.encoding.categories_left_out(X, kept, names)
    if groups:
        shown = "; ".join(f"{left:,} of the {n:,} rows with {name}"
                          for name, left, n in groups[:3])
        warn(AekitWarning(
            f"trim {trim:g} left {literal(shown)}{', ...' if len(groups) > 3 else ''} out of "
            "the second fit (the first fit found them the most surprising): the model takes "
            "such rows for anomalies; if they are normal, give {trim:0}", params=("trim",)))
