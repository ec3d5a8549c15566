"""What a fit builds from its parameters and its data: every "auto" resolved, in one place.

:func:`plan_fit` is the one resolver. Given an estimator's checked parameters and its
training rows, it fits the input schema and returns a :class:`Plan`: the objective, the
score, the sizes, the trim, and the network and training configs. Every entry point
calls it: :class:`aekit.Autoencoder` (and through it :class:`aekit.AnomalyDetector`
and :class:`aekit.DenoisingAutoencoder`) in ``fit``, `aekit train` before training
(to say what it chose), and `aekit train --help` reads :func:`auto_rule` for its
texts. The choices look at the data's shape and values alone, never at its name:

- **The objective** (:func:`auto_objective`). Wide rows in [0, 1] (at least
  :data:`WIDE_ROWS` features: images such as MNIST's 784 pixels, bitmaps) are
  modelled by reconstruction through a narrow code, which has to capture a row's
  overall shape; so are rows a denoiser (input noise) or a convolutional network
  reads. Every other table gets a masked network (:mod:`aekit.nn.masking`), which
  predicts each feature from the others: on tables of a few to a few hundred
  heterogeneous columns that is what tells anomalies apart, while on images each
  pixel is predictable from its neighbours whatever the digit. Measured both ways
  (BENCHMARKS.md): on the ADBench tables of protocol T the masked network beats
  reconstruction by about 10 points of mean AUROC (``scripts/bench_tables.py``), on
  one-class MNIST (protocol A) reconstruction wins (``scripts/bench_oneclass.py
  --objective masked``).
- **A generative model** (:func:`is_generative`): a training job asked for the objective
  "vae" fits a :class:`~aekit.VariationalAutoencoder` (:func:`generative_params`), whose
  plan is :func:`plan_vae_fit`'s: a Bernoulli decoder for data within [0, 1], a Gaussian
  one on the data's standardisation otherwise (:func:`auto_likelihood`).
- **The sizes** (:func:`auto_sizes`): the widths and the code follow the number of
  features (a masked network's width, the number of columns), the batch the number of
  rows.
- **Trimming** (:func:`auto_trim`): a masked model is fitted twice, the second time
  without the :data:`TRIM` share of training rows that the first fit scores highest.
  Tables are usually fitted with their anomalies in them (unsupervised), and a
  network that has learned them scores them as normal; leaving out the rows most
  likely to be anomalies (data refinement: Yoon et al., "Self-supervise, refine,
  repeat", TMLR 2022) raised protocol T's mean AUROC and made the mean rank the best
  at every seed measured (BENCHMARKS.md), at twice the training time or more.
  Reconstruction models (images) fit once: on protocol A, whose training sets are one
  clean class, trimming lowered the mean AUROC a little (98.12 vs 98.25,
  ``scripts/bench_oneclass.py --trim 0.1``).
- **The masks' spreads** (:data:`MASK_SPREAD`): a masked model's score weighs each
  scoring mask by its spread over the training rows (:mod:`aekit.nn.masking`), so that
  a mask whose hidden features the others predict near-exactly (a linear relation)
  counts as much as the noisier ones. Chosen together with the trim of 0.3 (0.1
  before): the pair gained on both halves of protocol T at seeds 0, 1 and 2 over
  trim 0.1 without spreads, and trim 0.3 alone lost the clean linear cases that the
  spreads restore (BENCHMARKS.md, "Per-mask spreads and trim 0.3").
- **Two-valued features** (:data:`TWO_VALUED`, :data:`TRIM_BY_VALUE`): a masked model
  scores a feature that takes two values alone in the training rows (a one-hot
  category, a flag) by the surprise of the value's side of their midpoint, a Bernoulli
  surprise (:func:`aekit.nn.masking.two_values`), not by the density at the value,
  which is unbounded where most rows share one value; and its trim leaves out at most
  its share of the rows holding each value of such a feature
  (:func:`aekit.nn.fitting.rows_left_out`). A rare category adds its own surprise to
  every row holding it, so the trim left out nearly all of a rare but normal
  category's rows, and the refit, never shown them, took them for anomalies. Both were
  chosen on one half of a set of tables with categories and flags and confirmed on
  the other (mean AUROC 90.3 -> 97.3 and 90.2 -> 99.4); on the 22 shared ADBench
  tables they cost 0.13 points on average over three seeds (BENCHMARKS.md,
  "Tables with categories: a Bernoulli surprise and a trim within each value").
- **The early network** (:data:`EARLY_EPOCHS`, :data:`EARLY_MASKS`,
  :data:`EARLY_WEIGHT`): a masked network keeps a copy of its first fit as it was after
  its first epoch, and a row scores the larger of the trained network's robust z-score
  among the training rows and half the early network's, in the trained network's units
  (:func:`aekit.nn.masking.early_map`). A network trained to the end predicts the
  training rows' anomalies as normal, and the trim cannot find them (the first fit
  ranks them near chance on the tables where this happens); after one epoch it has not
  learned them yet (the memorisation effect: Arpit et al., ICML 2017). The weight of
  one half was chosen on half A of protocol T, which it left level, and confirmed on
  half B, which gained about a point at each of seeds 0, 1 and 2 (BENCHMARKS.md, "An
  early network beside the trained one"). It costs no training (the copy is of the
  first fit) and about half the scoring work again (8 masks beside 16).
"""

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import AekitWarning, ParameterError, warn
from .params import OBJECTIVE_CHOICES, AutoencoderParams, check_params
from .scores import resolve_score

WIDE_ROWS = 256  # features of a row in [0, 1] from which "auto" reconstructs it
AUTO_CODE_SIZE = 8  # one-class MNIST: codes of 8 to 16 score alike, 32 worse (it
#                     reconstructs anything)
TRIM = 0.3  # "auto" trim of a masked model: the share of training rows left out of a refit
MASK_SPREAD = True  # a masked model's score weighs each scoring mask by its spread
TWO_VALUED = True  # a masked model scores two-valued features by a Bernoulli surprise
TRIM_BY_VALUE = True  # its trim leaves out at most its share of each such value's rows
MASKED_WIDTH = 128  # a masked network's "auto" width on tables of up to ...
NARROW_COLUMNS = 32  # ... this many columns (a categorical one counts once),
WIDE_MASKED_WIDTH = 64  # and on wider tables
MIXTURE = "laplace"  # a masked network's prediction of each feature: a mixture of ...
MIXTURE_COMPONENTS = 3  # ... distributions
MAX_BATCH = 128  # "auto" batch size: an eighth of the training rows, 16 to this many
FIRST_FIT_SHARE = 0.5  # a trimmed fit's first fit trains this share of the epochs
AUTO_EPOCHS = 30  # "auto" epochs ...
ROW_PASSES = 150_000  # ... or, for a masked model, as many as make this many rows' passes
MIN_EPOCHS = 3  # ... but no fewer
EPOCH_ROWS = 1024  # a masked model's epoch: this many rows or more (its refit's: as many draws)
EARLY_EPOCHS = 1  # a masked model's early network: its first fit after this many epochs,
EARLY_MASKS = 8  # scoring with this many masks (0: no early network),
EARLY_WEIGHT = 0.5  # its robust z-scores weighed by this before the larger is taken
AUTO_NAMES = ("objective", "hidden", "code_size", "batch_size", "epochs", "trim",
              "score_type")
GENERATIVE = "vae"  # the objective of a generative model: a VariationalAutoencoder
TRAIN_OBJECTIVES = (*OBJECTIVE_CHOICES, GENERATIVE)  # what a training job may be asked for
NOT_GENERATIVE = ("noise", "arch", "channels", "trim")  # parameters a VAE does not have
ONLY_GENERATIVE = ("likelihood", "beta", "warmup", "iw_samples", "binarize")  # a VAE's own


def is_generative(objective):
    """Whether a training job with this ``objective`` fits a generative model (a
    :class:`~aekit.VariationalAutoencoder`) rather than an autoencoder or detector."""
    return objective == GENERATIVE


def generative_params(params, source):
    """The :class:`~aekit.VariationalAutoencoder` parameters of a training job's
    ``params`` (the objective dropped): on MNIST (``source`` "mnist") the training images
    are binarised afresh every batch (protocol G).

    ``params`` are checked first (:func:`check_combination`).
    """
    out = {k: v for k, v in params.items() if k not in (*NOT_GENERATIVE, "objective")}
    if source == "mnist":
        out.setdefault("binarize", True)
    return out


def auto_rule(name):
    """What "auto" becomes for parameter ``name``, in words (for help texts)."""
    return {
        "objective": f"reconstruction for rows of {WIDE_ROWS}+ values in [0, 1] (images) and "
                     "for denoisers and convolutional networks, masked otherwise",
        "hidden": "from the table's width: 8 x the features (32..512), then half that; "
                  f"masked: one layer of {MASKED_WIDTH} ({WIDE_MASKED_WIDTH} on tables of over "
                  f"{NARROW_COLUMNS} columns)",
        "code_size": f"half the features (1..{AUTO_CODE_SIZE}); masked: the hidden width",
        "batch_size": f"an eighth of the training rows (16..{MAX_BATCH})",
        "epochs": f"{AUTO_EPOCHS}; masked: at most {ROW_PASSES:,} rows' passes in all (at "
                  f"least {MIN_EPOCHS} epochs), fewer than {AUTO_EPOCHS} on over "
                  f"{ROW_PASSES // (AUTO_EPOCHS - 1):,} training rows. A masked model's "
                  f"epoch holds {EPOCH_ROWS:,}+ rows: on fewer training rows each is drawn "
                  "several times an epoch, with fresh masks (also when epochs are given), "
                  f"and auto makes about {AUTO_EPOCHS} passes of the rows in fewer epochs",
        "trim": f"{TRIM:g} for masked models (tables; at most that share of the rows of "
                "each category or flag value), 0 for reconstruction",
        "score_type": "nll for a masked model, else relative for data in [0, 1] and mse "
                      "otherwise",
    }[name]


def auto_objective(objective, scaling, n_features, noise=None, arch="dense"):
    """``objective`` with "auto" resolved for data of this scaling ("unit": within [0, 1];
    "standard") and width (features as the network sees them), for a network with input
    ``noise`` (or None) of architecture ``arch``."""
    if objective != "auto":
        return objective
    if noise or arch != "dense":
        return "reconstruction"
    return "reconstruction" if scaling == "unit" and n_features >= WIDE_ROWS else "masked"


def auto_trim(trim, objective):
    """``trim`` with "auto" resolved: :data:`TRIM` for a masked objective, else 0."""
    if trim != "auto":
        return float(trim)
    return TRIM if objective == "masked" else 0.0


def auto_epochs(epochs, n_train, objective):
    """``epochs`` with "auto" resolved for ``n_train`` training rows: :data:`AUTO_EPOCHS`;
    for a masked objective on many rows, only as many as make :data:`ROW_PASSES` rows'
    passes (at least :data:`MIN_EPOCHS`). Measured on protocol T: on its tables of
    25,000+ training rows, 150,000 rows' passes score as 30 epochs did in half the
    time (BENCHMARKS.md, "Epochs from the rows"); reconstruction models (images) were
    not measured and keep 30. A masked model's epoch holds at least :data:`EPOCH_ROWS`
    rows (:func:`epoch_repeats`): on a smaller table "auto" keeps about the 30 passes of
    its rows in fewer, longer epochs (at least 3, so more passes below 70 rows), e.g. 10
    epochs of 1,350 rows for 450."""
    if epochs != "auto":
        return int(epochs)
    if objective != "masked":
        return AUTO_EPOCHS
    passes = min(AUTO_EPOCHS * n_train, ROW_PASSES)
    epoch_rows = max(1, n_train) * epoch_repeats(n_train, objective)
    return min(AUTO_EPOCHS, max(MIN_EPOCHS, math.ceil(passes / epoch_rows)))


def epoch_repeats(n_train, objective):
    """How many times an epoch draws each of ``n_train`` training rows: for a masked
    objective, enough to make :data:`EPOCH_ROWS` rows (``ceil(EPOCH_ROWS / n_train)``),
    each time with fresh masks (repeated augmentation: Hoffer et al., "Augment your
    batch", CVPR 2020); otherwise 1. Computed once from the table's training rows: a
    trimmed refit (fewer rows, so epochs of fewer than :data:`EPOCH_ROWS`) draws each
    row as many times. An epoch of 450 rows in batches of 56 is 9 steps, too few for
    ``epochs=10`` to learn the map of each mask: on issue 24's five-column case
    (``scripts/bench_small_linear.py``) it scored 0.969 with epochs of the rows alone
    and 0.984 with epochs of 1,024+ rows. "auto" epochs keep the rows' passes of before
    (:func:`auto_epochs`): 30 epochs of 1,024+ rows scored higher there (0.996) and
    lost 10 points on a 178-row table (BENCHMARKS.md, "Epochs of at least 1,024
    rows")."""
    if objective != "masked":
        return 1
    return math.ceil(EPOCH_ROWS / max(1, n_train))


def auto_sizes(params, n_samples, n_features, objective="reconstruction", n_columns=None):
    """The "auto" sizes: the network, its code and the batch follow the data's shape:
    ``n_features`` the network's inputs, ``n_columns`` the table's columns (a
    categorical column one, however many one-hot features it becomes; default
    ``n_features``).

    Reconstruction: hidden layers 8 x the features wide (32..512), halving; a code of
    half the features (1..8), so that the network cannot simply copy its input (rows
    it copies look normal). On MNIST (784 features, ~5,400 training rows per digit)
    this is 784-512-256-8. Masked: one hidden layer on each side and a code, all
    :data:`MASKED_WIDTH` (128) wide on tables of up to :data:`NARROW_COLUMNS` (32)
    columns, :data:`WIDE_MASKED_WIDTH` (64) on wider ones: no bottleneck, since the
    network never sees the features it predicts. 128 units (32 before) serve narrow
    tables: a masked network learns a different map for every mask, and on issue 24's
    five-column case (``scripts/bench_small_linear.py``) 32 units scored 0.956 where
    128 score 0.984, with protocol T's halves level (BENCHMARKS.md, "A wider masked
    network for narrow tables"). On the tables of more than 32 columns, 64 units
    scored higher than 128 on both halves of protocol T at seeds 0, 1 and 2 (and 32
    lower on half B), with 0.42 times the multiply-adds a scored row costs at 50
    columns (BENCHMARKS.md, "64 units for wide tables"). Columns, not one-hot
    features: a table of 9 columns, one of them 40 countries, lost mean AP at 64 units
    (``scripts/bench_two_valued.py``, ``web_sessions``: 53.4 -> 17.6 at seed 0).
    Both: batches of an eighth of the training rows (16..128), so that small tables get
    enough optimisation steps.
    Returns the resolved values of the parameters that were "auto".
    """
    out = {}
    if objective == "masked":
        columns = n_features if n_columns is None else n_columns
        width = MASKED_WIDTH if columns <= NARROW_COLUMNS else WIDE_MASKED_WIDTH
        if params["hidden"] == "auto":
            out["hidden"] = (width,)
        if params["code_size"] == "auto":
            hidden = out.get("hidden", params["hidden"])
            out["code_size"] = int(hidden[-1]) if hidden else width
    else:
        if params["hidden"] == "auto":
            width = _clip(8 * n_features, 32, 512)
            out["hidden"] = (width, width // 2)
        if params["code_size"] == "auto":
            out["code_size"] = _clip(n_features // 2, 1, AUTO_CODE_SIZE)
    if params.get("batch_size") == "auto":
        out["batch_size"] = _clip(_training_rows(params, n_samples) // 8, 16, MAX_BATCH)
    return out


def _training_rows(params, n_samples):
    """The rows of ``n_samples`` a fit trains on: those its validation split leaves."""
    return int(n_samples * (1 - params["validation_fraction"]))


def _clip(value, low, high):
    return int(min(max(value, low), high))


def draw_seed(random_state):
    """The int seed of one fit, drawn from ``random_state`` (int, RandomState or None)."""
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(0, 2**31 - 1))


@dataclass
class Plan:
    """What a fit builds (see :func:`plan_fit`).

    ``schema``: the fitted :class:`~aekit.preprocessing.InputSchema`; ``objective`` and
    ``score_type``: resolved; ``params``: the estimator's parameters with every "auto"
    resolved; ``chosen``: those that were "auto" and what they became; ``network``
    (:class:`~aekit.nn.config.ModelConfig`) and ``training``
    (:class:`~aekit.nn.config.TrainConfig`, its seed drawn); ``noise``: the parsed
    input noise, or None; ``n_samples``: the rows it was planned for.
    """

    schema: object
    objective: str
    score_type: str
    params: dict
    network: object
    training: object
    noise: object = None
    n_samples: int = 0
    chosen: dict = field(default_factory=dict)

    @property
    def trim(self):
        return self.params["trim"]

    @property
    def trim_by_value(self):
        """Whether the trim leaves out at most its share of the rows holding each value of
        each two-valued feature (:data:`TRIM_BY_VALUE`; a masked network's, which knows
        its two-valued features: :func:`aekit.nn.fitting.rows_left_out`)."""
        return bool(TRIM_BY_VALUE and self.trim > 0
                    and getattr(self.network, "two_valued", False))

    @property
    def first_fit_epochs(self):
        """The epochs of a trimmed fit's first fit, which only ranks the rows for the trim
        (and gives the early network): :data:`FIRST_FIT_SHARE` of the fit's epochs,
        rounded up. Level with a full first fit on both halves of protocol T at seeds
        0-2, in about three quarters of the training (BENCHMARKS.md, "A first fit of
        half the epochs")."""
        return max(1, math.ceil(FIRST_FIT_SHARE * self.training.epochs))

    @property
    def early_network(self):
        """How a masked network's early network is taken and weighed (with the network
        config's ``early_masks``): :func:`aekit.nn.fitting.fit_network`'s
        ``early_epochs`` (:data:`EARLY_EPOCHS`) and ``early_weight``
        (:data:`EARLY_WEIGHT`)."""
        return {"early_epochs": EARLY_EPOCHS, "early_weight": EARLY_WEIGHT}

    def chosen_text(self, wording=None):
        """The choices "auto" made, e.g. ``objective masked, hidden 128, trim 0.3``, each
        parameter named by ``wording(name)`` (default: its name)."""
        wording = wording or (lambda name: name)
        return ", ".join(f"{wording(k)} {','.join(map(str, v)) if isinstance(v, tuple) else v}"
                         for k, v in self.chosen.items())


def plan_fit(params, X, feature_names=None):
    """The :class:`Plan` of a fit of ``params`` (an estimator's parameters, already checked
    by its class's rules: :func:`aekit.params.check_params`) on rows ``X`` (a checked array
    or a DataFrame; ``feature_names`` or None). The one place "auto" is resolved.

    Raises
    ------
    aekit.errors.ParameterError
        Parameters that cannot go together on this data (a masked objective with input
        noise or a convolutional network; batch norm on a single row...), or
        ``categorical`` naming a column the data does not hold.
    aekit.errors.DataError
        A cell that is not a number, a text column of too many categories, a value beyond
        float32's range (from the schema).
    """
    from .preprocessing import InputSchema

    schema = InputSchema.fit(X, feature_names, categorical=params.get("categorical"))
    n, width = int(X.shape[0]), schema.n_encoded
    objective = auto_objective(params["objective"], schema.scaling, width,
                               params.get("noise"), params.get("arch", "dense"))
    if objective == "masked" and schema.scaling == "unit":
        schema = schema.standardized(X)  # a masked network predicts in standard units
    chosen = {"objective": objective} if params["objective"] == "auto" else {}
    sizes = auto_sizes(params, n, width, objective, schema.n_features)
    trim = auto_trim(params["trim"], objective)
    n_train = _training_rows(params, n)
    epochs = auto_epochs(params["epochs"], n_train, objective)
    chosen.update(sizes)
    if params["epochs"] == "auto":
        chosen["epochs"] = epochs
    if params["trim"] == "auto" and trim:
        chosen["trim"] = trim
    resolved = {**params, **sizes, "epochs": epochs, "trim": trim, "objective": objective}
    check_params({k: resolved[k] for k in ("hidden", "code_size", "batch_size")},
                 AutoencoderParams)
    _check_data_fits(resolved, n, width)
    score_type = resolve_score(params.get("score_type", "auto"), schema.scaling, objective)
    return Plan(schema, objective, score_type, resolved,
                network_config(resolved, width, objective, schema.scaling,
                               schema.unseen_slots(), score_type),
                train_config(resolved, draw_seed(resolved.get("random_state")),
                             epoch_repeats(n_train, objective)),
                resolved.get("noise") or None, n, chosen)


def _check_data_fits(p, n_samples, width):
    if p.get("batch_norm") and n_samples < 2:
        raise ParameterError("{batch_norm} needs more than 1 sample to train",
                             params=("batch_norm",))
    copies = p.get("arch", "dense") == "dense" and not p.get("noise") \
        and p["objective"] == "reconstruction"
    if copies and p["code_size"] >= width:
        warn(AekitWarning(
            f"{{code_size}} {p['code_size']} is not smaller than the {width} input features: "
            "the network can learn to copy its input", params=("code_size",)))


def check_combination(params):
    """Refuse parameters that cannot go together whatever the data (checked before any
    data is read, and again when a network is configured).

    Raises
    ------
    aekit.errors.ParameterError
        A masked objective with input noise or a convolutional network; a VAE's own
        parameters without the "vae" objective, or parameters a VAE does not have with it.
    """
    if is_generative(params.get("objective")):  # parameters a VAE does not have
        extra = [k for k in NOT_GENERATIVE if params.get(k) not in (None, "dense")]
        wording = "{{{}}} does not apply to {{objective:" + GENERATIVE + "}}"
    else:  # a VAE's own parameters, for another model
        extra = [k for k in ONLY_GENERATIVE if params.get(k) is not None]
        wording = "{{{}}} applies to {{objective:" + GENERATIVE + "}}"
    if extra:
        raise ParameterError(wording.format(extra[0]), params=(extra[0], "objective"))
    if params.get("objective") == "masked" and (params.get("noise")
                                                or (params.get("arch") or "dense") != "dense"):
        raise ParameterError("{objective:masked} hides features itself and needs a dense "
                             "network without input noise: give {noise:None} and "
                             "{arch:dense}", params=("objective", "noise", "arch"))


def network_config(params, n_features, objective, scaling, unseen_slots=(), score="nll"):
    """The :class:`~aekit.nn.config.ModelConfig` of checked parameters (sizes resolved),
    for data of ``n_features`` network features and this scaling; a masked network holds
    the ``unseen_slots`` (:meth:`aekit.preprocessing.schema.InputSchema.unseen_slots`) at
    0 (its config's ``held_at_zero``), and, scoring by ``score`` "nll" over more than
    :data:`EARLY_EPOCHS` epochs, an early network under :data:`EARLY_MASKS` masks.

    Raises
    ------
    aekit.errors.ParameterError
        A masked objective with input noise or a convolutional network.
    """
    from .nn.config import ModelConfig

    masked = objective == "masked"
    arch = params.get("arch", "dense")
    check_combination({**params, "objective": objective})
    output = MIXTURE if masked else "sigmoid" if scaling == "unit" else "linear"
    return ModelConfig(
        n_features=n_features, code_size=params["code_size"], hidden=params["hidden"],
        dropout=params.get("dropout", 0.0), batch_norm=bool(params.get("batch_norm", False)),
        output=output, arch=arch, channels=params.get("channels", ()), objective=objective,
        components=MIXTURE_COMPONENTS if masked else 1, mask_spread=masked and MASK_SPREAD,
        two_valued=masked and TWO_VALUED,
        held_at_zero=tuple(unseen_slots) if masked else (),
        early_masks=EARLY_MASKS if masked and score == "nll"
        and int(params["epochs"]) > EARLY_EPOCHS else 0)


def train_config(params, seed, repeats=1):
    """The :class:`~aekit.nn.config.TrainConfig` of checked parameters, whose epochs draw
    each training row ``repeats`` times (:func:`epoch_repeats`)."""
    from .nn.config import TrainConfig

    return TrainConfig(
        optimizer=params["optimizer"], lr=float(params["lr"]), momentum=float(params["momentum"]),
        weight_decay=float(params["weight_decay"]), batch_size=int(params["batch_size"]),
        epochs=int(params["epochs"]), patience=int(params["patience"]),
        lr_patience=int(params["lr_patience"]),
        lr_schedule=params.get("lr_schedule", "plateau"), seed=seed, epoch_repeats=repeats)


def auto_likelihood(likelihood, scaling):
    """A VAE's ``likelihood`` with "auto" resolved for data of this scaling: "bernoulli"
    for data within [0, 1] ("unit"), else "gaussian" (on the data's standardisation)."""
    if likelihood != "auto":
        return likelihood
    return "bernoulli" if scaling == "unit" else "gaussian"


def plan_vae_fit(params, X, feature_names=None):
    """The :class:`Plan` of a :class:`~aekit.VariationalAutoencoder` fit of ``params``
    (checked by :class:`aekit.params.VAEParams`' rules) on rows ``X``: the likelihood
    resolved (:func:`auto_likelihood`), the schema standardised for a Gaussian decoder,
    the network (:class:`aekit.nn.vae.VAEConfig`) and training configs. Its
    ``objective`` is "vae" and its ``score_type`` "elbo".

    Raises
    ------
    aekit.errors.ParameterError
        A Bernoulli decoder or binarisation for data outside [0, 1]; batch norm on one row.
    aekit.errors.DataError
        As :func:`plan_fit`.
    """
    from .nn.vae import VAEConfig
    from .preprocessing import InputSchema

    schema = InputSchema.fit(X, feature_names, categorical=params.get("categorical"))
    likelihood = auto_likelihood(params["likelihood"], schema.scaling)
    if likelihood == "bernoulli" and schema.scaling != "unit":
        raise ParameterError("{likelihood:bernoulli} needs data within [0, 1]; give "
                             "{likelihood:gaussian} or {likelihood:auto}",
                             params=("likelihood",))
    if params.get("binarize") and likelihood != "bernoulli":
        raise ParameterError("{binarize} draws 0/1 values from data within [0, 1] for a "
                             "Bernoulli decoder", params=("binarize",))
    if likelihood == "gaussian" and schema.scaling == "unit":
        schema = schema.standardized(X)
    _check_data_fits({**params, "objective": "vae"}, int(X.shape[0]), schema.n_encoded)
    chosen = {"likelihood": likelihood} if params["likelihood"] == "auto" else {}
    config = VAEConfig(n_features=schema.n_encoded, code_size=int(params["code_size"]),
                       hidden=params["hidden"], likelihood=likelihood,
                       dropout=float(params["dropout"]), batch_norm=bool(params["batch_norm"]))
    resolved = {**params, "likelihood": likelihood}
    return Plan(schema, "vae", "elbo", resolved, config,
                train_config(resolved, draw_seed(resolved.get("random_state"))), None,
                int(X.shape[0]), chosen)


def planned_for(plan, X):
    """Refuse a plan made for other rows than ``X`` (a ValueError)."""
    if plan.n_samples != len(X) or plan.schema.n_features != np.shape(X)[1]:
        raise ValueError(f"the plan was made for {plan.n_samples} rows of "
                         f"{plan.schema.n_features} features, not {len(X)} of "
                         f"{np.shape(X)[1]}")
