"""Every estimator parameter, defined once: its default, its rule and its help text.

The parameters are dataclass fields (keyword-only); the estimators inherit from
these classes, so their ``__init__`` (which stores the parameters untouched, as
scikit-learn requires) is the dataclass's. The same fields give the command
line its defaults and help (:mod:`aekit.cli.options`), the model file its
``params`` (an estimator's ``get_params()``), and the rules that loading a model
file checks without importing scikit-learn or torch (:func:`check_params`).
"""

import math
import numbers
from dataclasses import MISSING, dataclass, field, fields

from .errors import as_parameter, word
from .nn.config import ARCHS, LR_SCHEDULES, OBJECTIVES, OPTIMIZERS
from .nn.noise import parse_noise
from .scores import SCORE_TYPES

DETECTOR_METHODS = ("autoencoder", "pca")
SCORES = ("auto", *SCORE_TYPES)
OBJECTIVE_CHOICES = ("auto", *OBJECTIVES)
AUTOENCODER_SCHEDULES = ("plateau", "onecycle")  # the VAE's also "cosine" (LR_SCHEDULES)


# -- rules: (name, value) -> the value as the estimator uses it, or ValueError ------------
def _finite_number(v):
    try:
        return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
    except OverflowError:  # an integer beyond float's range (JSON allows 10**400)
        return False


def _require(ok, name, value, message):
    if not ok:
        raise ValueError(f"{name} must {message}, got {value!r}")
    return value


def integer(minimum):
    def rule(name, v):
        ok = isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= minimum
        return _require(ok, name, v, f"be an integer >= {minimum}")
    return rule


def number(low=None, high=None, low_open=False, high_open=True):
    """A finite real number in the interval given (None: unbounded on that side)."""
    lo_b, hi_b = "(" if low_open else "[", ")" if high_open else "]"
    if low is not None and high is not None:
        where = f"be in {lo_b}{low}, {high}{hi_b}"
    elif low is not None:
        where = f"be a number {'>' if low_open else '>='} {low}"
    else:
        where = "be a finite number"

    def rule(name, v):
        ok = _finite_number(v)
        if ok and low is not None:
            ok = v > low if low_open else v >= low
        if ok and high is not None:
            ok = v < high if high_open else v <= high
        return _require(ok, name, v, where)
    return rule


def one_of(choices):
    return lambda name, v: _require(isinstance(v, str) and v in choices, name, v,
                                    f"be one of {choices}")


def boolean(name, v):
    return _require(isinstance(v, (bool, numbers.Integral)) and v in (0, 1), name, v,
                    "be true or false")


def sizes(what):
    """An int or a non-empty sequence of ints >= 1, as a tuple."""
    def rule(name, v):
        values = (v,) if isinstance(v, numbers.Integral) else v
        try:
            values = tuple(values)
        except TypeError:
            raise ValueError(f"{name} must be a tuple of {what}, got {v!r}") from None
        if not values:
            raise ValueError(f"{name} must hold at least one of its {what}")
        for x in values:
            integer(1)(f"each entry of {name}", x)
        return values
    return rule


def auto_or(rule):
    def checked(name, v):
        if isinstance(v, str) and v == "auto":
            return v
        try:
            return rule(name, v)
        except ValueError as e:
            raise ValueError(str(e).replace(f"{name} must ", f'{name} must be "auto" or ', 1)) \
                from None
    return checked


def none_or(rule):
    return lambda name, v: None if v is None else rule(name, v)


def noise_spec(name, v):
    return parse_noise(v)  # words its own ValueError


def denoising_noise(name, v):
    if v is None:
        raise ValueError("a DenoisingAutoencoder needs a noise, e.g. 'gaussian:0.3'")
    return parse_noise(v)


def components(name, v):
    """PCA's n_components: a count >= 1, or a share of variance in (0, 1)."""
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        return integer(1)(name, v)
    return number(0, 1, low_open=True)(name, v)


def column_list(name, v):
    """None, or columns each named once: names (str) or 0-based numbers (int), as a tuple.
    Whether they are columns of the data is checked where the data is seen
    (:func:`aekit.preprocessing.columns.declared_columns`)."""
    if v is None:
        return None
    wrong = f"{name} must be a list of column names or 0-based column numbers, got {v!r}"
    if isinstance(v, (str, bytes)):
        raise ValueError(wrong)
    try:
        values = tuple(v)
    except TypeError:
        raise ValueError(wrong) from None
    for c in values:
        if not isinstance(c, str) and not (isinstance(c, numbers.Integral)
                                           and not isinstance(c, bool)):
            raise ValueError(f"each entry of {name} must be a column name or a 0-based "
                             f"column number, got {c!r}")
    values = tuple(c if isinstance(c, str) else int(c) for c in values)
    twice = next((c for c in values if values.count(c) > 1), None)
    if twice is not None:
        raise ValueError(f"{name} names column {twice!r} more than once")
    return values


def anything(name, v):
    return v


def param(default, rule, help=""):
    """A parameter: its default, its rule and a one-line help for the command line."""
    return field(default=default, metadata={"rule": rule, "help": help})


# -- the parameter sets --------------------------------------------------------------------
# Help texts name other parameters as fields ({lr_schedule:onecycle}): the command line
# words them as its flags (--lr-schedule onecycle). What "auto" becomes is said by
# aekit.design, which resolves it.
OBJECTIVE_HELP = ("reconstruction: rebuild each row through the code; masked: predict hidden "
                  "features from the others (tables).")
TRIM_HELP = ("Share of the training rows left out of a second fit: those the first fit "
             "(half the epochs) scores highest (0: one fit).")
SIZE = auto_or(integer(1))
LAYERS = auto_or(sizes("layer sizes"))


CATEGORICAL_HELP = ("Columns read as categories (one-hot, as text columns are) whatever they "
                    "hold: numeric codes such as HTTP statuses or product codes.")


@dataclass(kw_only=True, eq=False, repr=False)
class ColumnParams:
    """How a table's columns are read, shared by every estimator of tables."""

    categorical: list | None = param(None, column_list, CATEGORICAL_HELP)


@dataclass(kw_only=True, eq=False, repr=False)
class NetworkParams:
    """The parameters of the network and its training, shared by every estimator."""

    code_size: int | str = param(32, SIZE, "Size of the code (bottleneck).")
    hidden: tuple | str = param((512, 256), LAYERS,
                                "Encoder hidden layer sizes; the decoder mirrors them.")
    dropout: float = param(0.0, number(0, 1), "Dropout probability after each hidden layer.")
    batch_norm: bool = param(False, boolean, "Batch normalisation after each hidden layer.")
    noise: str | None = param("dropout:0.8", noise_spec, "Corruption of the training inputs.")
    optimizer: str = param("adam", one_of(OPTIMIZERS), "Optimiser.")
    lr: float = param(1e-3, number(0, low_open=True),
                      "Learning rate (the peak rate with {lr_schedule:onecycle}).")
    momentum: float = param(0.9, number(0, 1), "Momentum for sgd and rmsprop.")
    weight_decay: float = param(0.0, number(0), "L2 regularisation.")
    batch_size: int | str = param(128, SIZE, "Rows per mini-batch.")
    epochs: int | str = param(50, auto_or(integer(1)),
                              "Maximum epochs (early stopping may end sooner).")
    validation_fraction: float = param(0.1, number(0, 1), "Share held out for early stopping.")
    patience: int = param(8, integer(0), "Epochs without improvement before stopping.")
    lr_patience: int = param(3, integer(0),
                             "Epochs without improvement before the rate is halved.")
    trim: float | str = param(0.0, auto_or(number(0, 0.5)), TRIM_HELP)
    device: str = param("auto", anything, "auto (a CUDA GPU when there is one), cpu, cuda, cuda:N.")
    random_state: object = param(None, anything, "Seed: the same seed gives the same model.")
    verbose: int = param(0, anything, "1 shows a progress bar.")


@dataclass(kw_only=True, eq=False, repr=False)
class AutoencoderParams(NetworkParams, ColumnParams):
    """:class:`aekit.Autoencoder`'s parameters."""

    arch: str = param("dense", one_of(ARCHS),
                      "dense: an MLP of {hidden} layers; conv: stride-2 convolutions of "
                      "{channels} filters (square images such as MNIST; a better denoiser).")
    channels: tuple = param((32, 64), sizes("filter counts"),
                            "Filters of each convolution with {arch:conv} (each halves the "
                            "image side).")
    lr_schedule: str = param("plateau", one_of(AUTOENCODER_SCHEDULES),
                             "plateau: halve the rate when the validation loss stalls; "
                             "onecycle: warm up, then anneal to ~0 by the last epoch; "
                             "cosine ({objective:vae}): anneal to 1% of the rate.")
    objective: str = param("reconstruction", one_of(OBJECTIVE_CHOICES), OBJECTIVE_HELP)
    score_type: str = param("auto", one_of(SCORES),
                            "The anomaly score the model's errors are read as: mse, "
                            "relative, nll or auto.")


@dataclass(kw_only=True, eq=False, repr=False)
class DenoisingParams(AutoencoderParams):
    """:class:`aekit.DenoisingAutoencoder`'s parameters: a larger network, noise required."""

    code_size: int | str = param(128, SIZE, "Size of the code (bottleneck).")
    hidden: tuple | str = param((1024, 512), LAYERS,
                                "Encoder hidden layer sizes; the decoder mirrors them.")
    batch_norm: bool = param(True, boolean, "Batch normalisation after each hidden layer.")
    noise: str = param("gaussian:0.3", denoising_noise, "Corruption of the training inputs.")


@dataclass(kw_only=True, eq=False, repr=False)
class DetectorParams(AutoencoderParams):
    """:class:`aekit.AnomalyDetector`'s parameters: the network's, whose sizes follow the
    data ("auto"), and the threshold's."""

    method: str = param("autoencoder", one_of(DETECTOR_METHODS),
                        "autoencoder, or pca (the baseline).")
    contamination: float | str = param(
        0.01, auto_or(number(0, 0.5, low_open=True, high_open=False)),
        "Share of the training rows the threshold flags, or auto.")
    threshold: float | None = param(None, none_or(number()), "The anomaly score above which "
                                    "a row is flagged; overrides {contamination}.")
    n_components: float = param(0.9, components,
                                "Components (or share of variance) kept by {method:pca}.")
    objective: str = param("auto", one_of(OBJECTIVE_CHOICES), OBJECTIVE_HELP)
    code_size: int | str = param("auto", SIZE, "Size of the code (bottleneck).")
    hidden: tuple | str = param("auto", LAYERS,
                                "Encoder hidden layer sizes; the decoder mirrors them.")
    noise: str | None = param(None, noise_spec, "Corruption of the training inputs.")
    batch_size: int | str = param("auto", SIZE, "Rows per mini-batch.")
    epochs: int | str = param("auto", auto_or(integer(1)),
                              "Maximum epochs (early stopping may end sooner).")
    trim: float | str = param("auto", auto_or(number(0, 0.5)), TRIM_HELP)


LIKELIHOOD_CHOICES = ("auto", "bernoulli", "gaussian")


@dataclass(kw_only=True, eq=False, repr=False)
class VAEParams(ColumnParams):
    """:class:`aekit.VariationalAutoencoder`'s parameters (defaults: the MNIST research
    of issue 26, BENCHMARKS.md protocol G)."""

    code_size: int = param(32, integer(1), "Size of the latent code z.")
    hidden: tuple = param((512, 256), sizes("layer sizes"),
                          "Encoder hidden layer sizes; the decoder mirrors them.")
    likelihood: str = param("auto", one_of(LIKELIHOOD_CHOICES),
                            "The decoder's distribution: bernoulli (data in [0, 1]), gaussian "
                            "(learned variance, standardised data) or auto.")
    beta: float = param(1.0, number(0, low_open=True),
                        "Weight of the KL term after the warm-up (1: the ELBO).")
    warmup: float = param(10, number(0), "Epochs over which the KL weight rises from 0 to "
                          "{beta} (0: none).")
    iw_samples: int = param(1, integer(1), "Samples of the training bound: 1 trains on the "
                            "ELBO, k > 1 on the k-sample importance-weighted bound (IWAE).")
    binarize: bool = param(False, boolean, "Draw each training batch as 0/1 values, 1 with "
                           "probability equal to the value (dynamic binarisation; data in "
                           "[0, 1]).")
    dropout: float = param(0.0, number(0, 1), "Dropout probability after each hidden layer.")
    batch_norm: bool = param(False, boolean, "Batch normalisation after each hidden layer.")
    optimizer: str = param("adam", one_of(OPTIMIZERS), "Optimiser.")
    lr: float = param(1e-3, number(0, low_open=True), "Learning rate (the peak rate).")
    momentum: float = param(0.9, number(0, 1), "Momentum for sgd and rmsprop.")
    weight_decay: float = param(0.0, number(0), "L2 regularisation.")
    lr_schedule: str = param("cosine", one_of(LR_SCHEDULES),
                             "cosine: anneal to 1% of the rate by the last epoch; plateau: "
                             "halve the rate when the validation loss stalls; onecycle.")
    batch_size: int = param(100, integer(1), "Rows per mini-batch.")
    epochs: int = param(50, integer(1), "Epochs (plateau: early stopping may end sooner).")
    validation_fraction: float = param(0.1, number(0, 1), "Share held out to choose the "
                                       "best epoch (and for early stopping).")
    patience: int = param(10, integer(0), "Epochs without improvement before stopping.")
    lr_patience: int = param(3, integer(0),
                             "Epochs without improvement before the rate is halved.")
    device: str = param("auto", anything, "auto (a CUDA GPU when there is one), cpu, cuda, cuda:N.")
    random_state: object = param(None, anything, "Seed: the same seed gives the same model.")
    verbose: int = param(0, anything, "1 shows a progress bar.")


@dataclass(kw_only=True, eq=False, repr=False)
class PCAParams(ColumnParams):
    """The parameters of :class:`aekit.pca_model.PCAModel`, the linear autoencoder."""

    n_components: float = param(0.9, components,
                                "Components (or share of variance) kept by {method:pca}.")
    score_type: str = param("auto", one_of(SCORES), "auto, mse or relative.")
    random_state: object = param(None, anything, "Seed of the PCA's solver.")


def defaults(cls):
    """``{name: default}`` of a parameter class (or an estimator inheriting one)."""
    return {f.name: f.default for f in fields(cls) if f.default is not MISSING}


def help_text(cls, name, wording=as_parameter):
    """The one-line help of parameter ``name``, the parameters it names worded by
    ``wording(name, value)`` (:mod:`aekit.errors`; the CLI words them as its flags)."""
    return word({f.name: f.metadata.get("help", "") for f in fields(cls)}[name], None, wording)


def check_params(values, cls):
    """Check parameter values by the rules of ``cls``; returns them as the estimator uses
    them (sizes as tuples, noise parsed). Names ``values`` lacks are not checked (a model
    file's may leave some to their defaults); unknown names are ignored.

    Raises
    ------
    ValueError
        Naming the first parameter that breaks its rule.
    """
    out = {}
    for f in fields(cls):
        if f.name in values:
            out[f.name] = f.metadata["rule"](f.name, values[f.name])
    return out
