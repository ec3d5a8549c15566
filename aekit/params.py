"""The rules for the estimators' parameters, as plain functions of a parameter dict.

They live apart from the estimator classes so that loading a model file can
check its parameters without importing scikit-learn or torch (`aekit detect`'s
start-up); the estimators call the same functions from ``_validate_params``.
"""

import math
import numbers

from .config import ARCHS
from .noise import parse_noise

OPTIMIZERS = ("adam", "sgd", "rmsprop")
LR_SCHEDULES = ("plateau", "onecycle")
DETECTOR_METHODS = ("autoencoder", "pca")
SCORES = ("auto", "mse", "relative")


def _positive_int(name, value, minimum=1):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _sizes(name, value, what, each):
    """An int or a sequence of ints >= 1, as a tuple."""
    values = (value,) if isinstance(value, numbers.Integral) else value
    try:
        values = tuple(values)
    except TypeError:
        raise ValueError(f"{name} must be a tuple of {what}, got {value!r}") from None
    for v in values:
        _positive_int(each, v)
    return values


# The parameters of each estimator, by name (tests hold them to the classes' signatures).
AUTOENCODER_PARAMS = (
    "code_size", "hidden", "dropout", "batch_norm", "arch", "channels", "noise", "optimizer",
    "lr", "momentum", "weight_decay", "batch_size", "epochs", "validation_fraction",
    "patience", "lr_patience", "lr_schedule", "device", "random_state", "verbose",
)
DETECTOR_PARAMS = (
    "method", "contamination", "threshold", "score_type", "n_components", "code_size",
    "hidden", "dropout", "batch_norm", "noise", "optimizer", "lr", "momentum",
    "weight_decay", "batch_size", "epochs", "validation_fraction", "patience", "lr_patience",
    "device", "random_state", "verbose",
)


def _finite_number(v):
    try:
        return isinstance(v, numbers.Real) and math.isfinite(v)
    except OverflowError:  # an integer beyond float's range (JSON allows 10**400)
        return False


def _require(p, name, ok, message):
    if name in p and not ok(p[name]):
        raise ValueError(f"{name} must {message}, got {p[name]!r}")


def check_autoencoder_params(p, denoising=False):
    """Check an Autoencoder's parameters; returns (hidden, channels, noise).

    ``p`` maps names to values; a name it lacks is not checked (the estimators
    always pass them all; a model file's may leave some to their defaults).
    """
    def check(name, rule):
        return rule(name, p[name]) if name in p else None

    def real(v):
        return isinstance(v, numbers.Real)

    check("code_size", _positive_int)
    hidden = check("hidden", lambda n, v: _sizes(n, v, "layer sizes", "each hidden layer size"))
    _require(p, "arch", lambda v: v in ARCHS, f"be one of {ARCHS}")
    channels = check("channels", lambda n, v: _sizes(n, v, "filter counts", "each entry of channels"))
    if channels is not None and not channels:
        raise ValueError("channels must hold at least one filter count")
    for name in ("batch_size", "epochs"):
        check(name, _positive_int)
    for name in ("patience", "lr_patience"):
        check(name, lambda n, v: _positive_int(n, v, 0))
    _require(p, "dropout", lambda v: real(v) and 0 <= v < 1, "be in [0, 1)")
    _require(p, "validation_fraction",
             lambda v: real(v) and not isinstance(v, bool) and 0 <= v < 1, "be in [0, 1)")
    _require(p, "lr_schedule", lambda v: v in LR_SCHEDULES, f"be one of {LR_SCHEDULES}")
    _require(p, "optimizer", lambda v: v in OPTIMIZERS, f"be one of {OPTIMIZERS}")
    _require(p, "lr", lambda v: _finite_number(v) and v > 0, "be a positive number")
    _require(p, "weight_decay", lambda v: real(v) and v >= 0, "be >= 0")
    _require(p, "momentum", lambda v: real(v) and 0 <= v < 1, "be in [0, 1)")
    if denoising and p.get("noise", "") is None:
        raise ValueError("a DenoisingAutoencoder needs a noise, e.g. 'gaussian:0.3'")
    return hidden, channels, parse_noise(p.get("noise"))


def check_detector_params(p):
    """Check an AnomalyDetector's own parameters (names ``p`` lacks are not checked); the
    network's are checked by :func:`check_autoencoder_params` once "auto" sizes are resolved."""
    _require(p, "method", lambda v: v in DETECTOR_METHODS, f"be one of {DETECTOR_METHODS}")
    _require(p, "contamination", lambda v: isinstance(v, numbers.Real) and 0 < v <= 0.5,
             "be in (0, 0.5]")
    _require(p, "threshold", lambda v: v is None or _finite_number(v), "be a number or None")
    _require(p, "score_type", lambda v: v in SCORES, f"be one of {SCORES}")
