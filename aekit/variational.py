"""VariationalAutoencoder: a generative model on aekit's MLP backbone (issue 26).

The network, its bounds and its training objective are :mod:`aekit.nn.vae`; the
training loop (optimisers, schedules, early stopping, checkpoints, resume) is the one
every aekit estimator uses (:mod:`aekit.nn.fitting`); what "auto" becomes is decided in
:func:`aekit.design.plan_vae_fit`.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .design import plan_vae_fit, planned_for
from .params import VAEParams, check_params
from .preprocessing import InputSchema, checked_input, checked_rows
from .state import HoldsNetwork, SavesState, set_schema

SCORE_SEED = 0  # the key of every row's scoring noise (aekit.nn.vae.row_generators)


class VariationalAutoencoder(VAEParams, HoldsNetwork, SavesState, TransformerMixin,
                             BaseEstimator):
    """A variational autoencoder (Kingma & Welling, "Auto-encoding variational Bayes",
    ICLR 2014): a Gaussian code ``z`` of ``code_size`` dimensions, the encoder's posterior
    ``q(z|x)`` sampled with the reparameterisation trick, a standard normal prior, and a
    decoder ``p(x|z)``; a scikit-learn transformer that can also sample new rows and give
    each row a log-likelihood bound.

    ``likelihood="auto"``: a Bernoulli decoder for data within [0, 1] (pixels / 255;
    binary data), a Gaussian decoder with a learned variance per feature for anything
    else, on the model's own standardisation of the columns (a DataFrame's text columns
    one-hot encoded, as :class:`aekit.Autoencoder` does). Gaps (NaN) are refused.

    Parameters (keyword-only; :class:`aekit.params.VAEParams`)
    -----------------------------------------------------------
    code_size : int, default=32
        Dimensions of the code z (the output of ``transform``).
    hidden : tuple of int, default=(512, 256)
        Encoder hidden layers; the decoder mirrors them.
    likelihood : {"auto", "bernoulli", "gaussian"}, default="auto"
    beta : float > 0, default=1.0
        Weight of the KL term after the warm-up (1: the ELBO; > 1: a beta-VAE).
    warmup : float >= 0, default=10
        Epochs over which the KL weight rises linearly from 0 to ``beta`` (KL warm-up:
        Bowman et al. 2016; Sonderby et al. 2016), against early posterior collapse.
    iw_samples : int >= 1, default=1
        1 trains on the ELBO; k > 1 on the k-sample importance-weighted bound (IWAE,
        Burda et al. 2016): a tighter bound, at about twice the time for k = 5.
    binarize : bool, default=False
        Draw each training batch afresh as 0/1 values, 1 with probability equal to the
        value (dynamic binarisation, protocol G's MNIST training; data in [0, 1] and a
        Bernoulli decoder). Scoring reads the rows as given.
    categorical, dropout, batch_norm, optimizer, lr, momentum, weight_decay, batch_size,
    epochs, validation_fraction, patience, lr_patience, device, random_state, verbose
        As for :class:`aekit.Autoencoder`; defaults no dropout, no batch norm, Adam,
        1e-3, batch 100, 50 epochs.
    lr_schedule : {"cosine", "plateau", "onecycle"}, default="cosine"
        "cosine" anneals the rate to 1% of ``lr`` by the last epoch and runs every
        epoch (the weights of the best validation epoch are kept).

    Attributes
    ----------
    schema_ : InputSchema
    net_ : aekit.nn.vae.VAENet
        The trained network (its ``config`` holds the resolved likelihood).
    likelihood_ : {"bernoulli", "gaussian"}
    device_, n_features_in_, feature_names_in_, history_, n_epochs_, training_summary_
        As for :class:`aekit.Autoencoder`; ``history_["val_loss"]`` is minus the
        validation ELBO per row (nats).

    Scores are in nats per row and bound the log-likelihood from below (higher is more
    likely): for a Gaussian decoder, of the rows in X's own units (the standardisation's
    log-Jacobian is included); for a Bernoulli decoder, of 0/1 rows (for values between
    0 and 1 the Bernoulli form is a cross-entropy, not a normalised density).

    Raises (fit)
    ------------
    ValueError
        A parameter breaks its rule (naming it), a Bernoulli decoder or ``binarize`` for
        data outside [0, 1], or ``X`` is not numeric, finite and two-dimensional.
    aekit.errors.TrainingError
        The loss became NaN or infinite.

    Examples
    --------
    >>> import numpy as np
    >>> from aekit import VariationalAutoencoder
    >>> X = np.random.RandomState(0).rand(200, 20)
    >>> vae = VariationalAutoencoder(code_size=2, hidden=(16,), epochs=3, random_state=0)
    >>> vae.fit(X).transform(X).shape
    (200, 2)
    >>> vae.sample(5, random_state=0).shape
    (5, 20)
    >>> vae.score_samples(X[:3], k=10).shape
    (3,)
    """

    # -- fitting ----------------------------------------------------------------
    def plan(self, X):
        """The :class:`~aekit.design.Plan` a fit on ``X`` follows (nothing is fitted)."""
        X, names = checked_rows(X)
        _refuse_gaps(X)
        return plan_vae_fit(check_params(self.get_params(deep=False), type(self)), X, names)

    def fit(self, X, y=None, *, callback=None, resume=None, plan=None):
        """Fit the VAE to ``X`` (n_samples, n_features); ``y`` is ignored.

        ``callback(trainer, report)`` runs after every epoch (e.g.
        :class:`aekit.checkpoint.Checkpointer`); ``resume``
        (:class:`aekit.nn.fitting.Resume`) continues an interrupted fit to the model an
        uninterrupted one gives; ``plan``: what :meth:`plan` gave for these rows.
        Returns self. Raises as the class says.
        """
        from .device import resolve_device
        from .nn.fitting import fit_network
        from .nn.vae import VAEObjective

        p = check_params(self.get_params(deep=False), type(self))
        X = checked_input(self, X, reset=True)
        _refuse_gaps(X)
        if plan is None:
            plan = plan_vae_fit(p, X, getattr(self, "feature_names_in_", None))
        planned_for(plan, X)
        device = resolve_device(self.device)
        set_schema(self, plan.schema)
        self.likelihood_ = plan.network.likelihood
        objective = VAEObjective(float(p["beta"]), float(p["warmup"]), int(p["iw_samples"]),
                                 bool(p["binarize"]), plan.network.code_size)
        _warn_short_warmup(float(p["warmup"]), plan.training.epochs)
        result = fit_network(
            self.schema_.transform(X), plan.network, plan.training, device=device,
            validation_fraction=self.validation_fraction, verbose=self.verbose,
            callback=callback, resume=resume, network=_new_network, objective=objective)
        self.net_, self.device_ = result.net, device
        self.history_, self.training_summary_ = result.history, result.summary
        self.n_epochs_ = result.summary["epochs"]
        return self

    # -- inference ----------------------------------------------------------------
    def network_input(self, X):
        """``X`` checked, in the model's column order, scaled as the network reads it."""
        return self.schema_.transform(self._checked(X))

    def _checked(self, X):
        check_is_fitted(self, "net_")
        X = checked_input(self, self.schema_.select(X), reset=False)
        _refuse_gaps(X)
        return X

    def _row_bounds(self, X, k, weights):
        """:func:`aekit.nn.vae.row_bounds` of X's rows, each row's draws keyed by its
        float32 rows (``schema_.float32_rows``): the same for float32 and float64 copies
        of the rows, whose scaled values may differ in their last bits."""
        from .nn.vae import row_bounds

        X = self._checked(X)
        Xs = self.schema_.transform(X)
        d = Xs.shape[1]
        both = np.hstack([Xs, self.schema_.float32_rows(X).astype(Xs.dtype)])  # (exact)
        return self.engine().run(lambda net, t: row_bounds(net, t[:, :d], k, SCORE_SEED,
                                                           weights, t[:, d:]),
                                 both, k if weights else 0)

    def transform(self, X):
        """The posterior means E_q[z|x] of ``X``: (n_samples, code_size), X's dtype."""
        k = self.net_.config.code_size if hasattr(self, "net_") else 0
        return self.engine().run(lambda net, t: net.encode(t)[0], self.network_input(X), k)

    def inverse_transform(self, X):
        """The decoder's means of codes ``X`` (n_samples, code_size): (n_samples,
        n_encoded) in X's units (pixel probabilities for a Bernoulli decoder), one column
        per feature the network reads (``schema_.encoded_names()``: a text column's
        categories one-hot; :meth:`sample` gives rows in the input's own columns)."""
        from sklearn.utils import check_array

        check_is_fitted(self, "net_")
        Z = check_array(X, dtype=[np.float64, np.float32])
        k = self.net_.config.code_size
        if Z.shape[1] != k:
            raise ValueError(f"codes have {Z.shape[1]} columns but this model's codes have {k}")
        n = self.net_.config.n_features
        means = self.engine().run(lambda net, t: net.decoder_mean(t), Z, n)
        return self.schema_.inverse_transform(means, Z.dtype)

    def sample(self, n_samples=1, random_state=None, mean=None):
        """``n_samples`` new rows: codes drawn from the prior N(0, I), decoded.

        Parameters
        ----------
        n_samples : int >= 1
        random_state : int, RandomState or None
            The same seed gives the same rows.
        mean : bool or None
            True: the decoder's means (a Bernoulli decoder's pixel probabilities, the
            usual picture of a sample); False: draws from p(x|z) (0/1 values, or the
            Gaussian's draws); None: means for a Bernoulli decoder, draws for a Gaussian.

        Returns
        -------
        ndarray of shape (n_samples, n_features), float32, in X's units; a DataFrame of
        the input columns (text columns as their most likely category) for a model
        fitted on a DataFrame with text columns.

        Raises
        ------
        ValueError
            ``n_samples`` is not a positive integer.
        """
        from sklearn.utils import check_random_state

        check_is_fitted(self, "net_")
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
                or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
        rng = check_random_state(random_state)
        c = self.net_.config
        Z = rng.standard_normal((int(n_samples), c.code_size)).astype(np.float32)
        means = self.engine().run(lambda net, t: net.decode(t), Z, c.n_features)
        draw = (c.likelihood == "gaussian") if mean is None else not mean
        R = _sampled(means, c, rng, draw)
        R = self.schema_.inverse_transform(R, np.float32)
        return self.schema_.decode(R) if self.schema_.categorical else R

    def score_samples(self, X, k=1):
        """Each row's log-likelihood bound, shape (n_samples,), float64, nats (higher is
        more likely): the ELBO for ``k = 1`` (its KL term in closed form, one draw), else
        the importance-weighted bound with ``k`` draws (Burda et al. 2016), which rises
        towards log p(x) with k. Deterministic: each row's draws come from a generator
        keyed by the row's values (:func:`aekit.nn.vae.row_generators`, of the row rounded
        to float32), so a row's score depends neither on the other rows, nor on the call,
        nor on the input's dtype. Time ~ n_samples x k.

        Raises
        ------
        ValueError
            ``k`` is not a positive integer, or ``X`` as :meth:`transform`.
        """
        out = self._row_bounds(X, _draws(k), weights=False)
        return out.reshape(-1).astype(np.float64) + self.log_jacobian()

    def log_weights(self, X, k):
        """The k log importance weights of each row, shape (n_samples, k), nats: ``log
        p(x, z_i) - log q(z_i|x)``, each a single-sample ELBO estimate, with the draws
        :meth:`score_samples` uses (its bound is their log-mean-exp)."""
        out = self._row_bounds(X, _draws(k), weights=True)
        return out.astype(np.float64) + self.log_jacobian()

    def log_jacobian(self):
        """What the standardisation adds to a log-density in X's units (nats per row):
        minus the sum of the log scales (0 for data within [0, 1])."""
        check_is_fitted(self, "net_")
        if self.schema_.scaling == "unit":
            return 0.0
        return -float(np.sum(np.log(self.schema_.scale.astype(np.float64))))

    def score(self, X, y=None):
        """The mean ELBO of the rows of ``X`` (nats per row; higher is better), so that
        ``GridSearchCV`` selects on likelihood."""
        return float(np.mean(self.score_samples(X)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags

    # -- state and files --------------------------------------------------------------
    def get_state(self, net=None, summary=None, history=None):
        """The fitted model as ``(document, tensors)`` (see :meth:`aekit.Autoencoder.get_state`;
        ``net``, ``summary`` and ``history`` stand in while a fit is under way)."""
        return self.network_state(net, summary, history)

    @classmethod
    def from_state(cls, document, tensors, device="auto"):
        """The fitted estimator a :meth:`get_state` pair describes.

        Raises
        ------
        ValueError
            Any part of the document or the tensors is malformed (the message names it).
        """
        est = cls.restored(document, tensors, device)
        if type(est.net_).__name__ != "VAENet":
            raise ValueError(f"a {cls.__name__} file holds one VAE network")
        if (est.net_.config.likelihood == "bernoulli") != (est.schema_.scaling == "unit"):
            raise ValueError("the VAE's likelihood does not match its input scaling")
        est.likelihood_ = est.net_.config.likelihood
        return est


def _new_network(config, rows):
    """A new VAE network for ``config`` whose output starts at the factorised model of
    the training ``rows`` (:meth:`aekit.nn.vae.VAENet.init_output_bias`)."""
    from .nn.vae import VAENet

    return VAENet(config).init_output_bias(rows)


def _refuse_gaps(X):
    """A ValueError where rows ``X`` (checked: a float array, or a DataFrame with text
    columns, whose missing cells of either kind are gaps) hold a gap."""
    gaps = X.isna().to_numpy() if hasattr(X, "iloc") else np.isnan(X)
    if gaps.any():
        raise ValueError("Input X contains NaN: a VariationalAutoencoder needs complete "
                         "rows (fill the gaps first, e.g. with aekit impute)")


def _draws(k):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return int(k)


def _sampled(out, config, rng, draw):
    """The decoder's outputs ``out`` (logits, or Gaussian mean and raw log-variance) as
    rows: their means, or (``draw``) draws from p(x|z) with ``rng``."""
    d = config.n_features
    if config.likelihood == "bernoulli":
        p = 1.0 / (1.0 + np.exp(-out.astype(np.float64)))
        return (rng.random_sample(p.shape) < p).astype(np.float32) if draw \
            else p.astype(np.float32)
    mean, raw = out[:, :d].astype(np.float64), out[:, d:].astype(np.float64)
    if not draw:
        return mean.astype(np.float32)
    var = config.min_var + np.exp(np.minimum(raw, 80.0))
    return (mean + np.sqrt(var) * rng.standard_normal(mean.shape)).astype(np.float32)


def _warn_short_warmup(warmup, epochs):
    """Warn when the KL warm-up outlasts the training: its weight then ends below beta,
    and the model is never trained on the ELBO (or the beta-VAE bound) it reports."""
    if warmup > epochs:
        from .errors import AekitWarning, warn

        warn(AekitWarning(
            f"{{warmup:{warmup:g}}} epochs of KL warm-up outlast the {epochs} epochs of training: "
            f"the KL weight ends at {epochs / warmup:.2f} x beta, so the model is not trained on "
            "the ELBO it reports; give a warm-up of at most the epochs", params=("warmup",)))
