"""Scoring with a dense model in numpy alone: no torch, no scikit-learn.

`aekit detect` on a CPU spends longer importing torch and scikit-learn (~4.5 s on
a 2-core machine) than scoring 100,000 rows. A dense network in evaluation mode
is a few matrix products (batch norm folds into them, dropout does nothing), so
this module runs it with numpy's BLAS instead. It takes only what it can vouch
for: a model file that is not a dense autoencoder or detector, or that fails any
check, gets ``None`` from :func:`load_dense`, and the caller loads it the usual
way, which also words the error for a bad file. Tests hold its results to the
torch network's.
"""

import numpy as np

from .errors import ModelFileError
from .params import (AUTOENCODER_PARAMS, DETECTOR_PARAMS, SCORES, check_autoencoder_params,
                     check_detector_params)
from .scoring import resolve_score, score_contributions

BATCH_NORM_EPS = 1e-5  # torch.nn.BatchNorm1d's default, which aekit's networks use
ESTIMATORS = {"Autoencoder": AUTOENCODER_PARAMS, "DenoisingAutoencoder": AUTOENCODER_PARAMS,
              "AnomalyDetector": DETECTOR_PARAMS}


def dense_layout(config):
    """The tensors of a dense AutoencoderNet, ``{name: shape}``, and its layers as
    ``(stack, linear index, batch-norm index or None, ReLU after?)``, in the order
    of aekit.model.mlp (a test holds the two to each other)."""
    shapes, layers = {}, []
    for stack, sizes in (("encoder", [config.n_features, *config.hidden, config.code_size]),
                         ("decoder", [config.code_size, *config.decoder_hidden, config.n_features])):
        i = 0
        for j, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            linear, norm = i, None
            shapes[f"{stack}.{i}.weight"], shapes[f"{stack}.{i}.bias"] = (n_out, n_in), (n_out,)
            i += 1
            last = j == len(sizes) - 2
            if not last:
                if config.batch_norm:
                    norm = i
                    for k in ("weight", "bias", "running_mean", "running_var"):
                        shapes[f"{stack}.{i}.{k}"] = (n_out,)
                    shapes[f"{stack}.{i}.num_batches_tracked"] = ()
                    i += 1
                i += 1  # ReLU
                if config.dropout > 0:
                    i += 1
            layers.append((stack, linear, norm, not last))
    return shapes, layers


class DenseNet:
    """A dense autoencoder's forward pass in numpy (float32), batch norm folded in."""

    def __init__(self, config, tensors):
        self.sigmoid_output = config.output == "sigmoid"
        _, layout = dense_layout(config)
        self.layers = []
        for stack, i, norm, relu in layout:
            w = tensors[f"{stack}.{i}.weight"].astype(np.float64)
            b = tensors[f"{stack}.{i}.bias"].astype(np.float64)
            if norm is not None:
                t = {k: tensors[f"{stack}.{norm}.{k}"].astype(np.float64)
                     for k in ("weight", "bias", "running_mean", "running_var")}
                s = t["weight"] / np.sqrt(t["running_var"] + BATCH_NORM_EPS)
                w, b = w * s[:, None], (b - t["running_mean"]) * s + t["bias"]
            self.layers.append((np.ascontiguousarray(w.T, dtype=np.float32),
                                b.astype(np.float32), relu))

    def reconstruct(self, X):
        """Reconstructions of float32 rows X in the model's scaled space."""
        h = X
        for w, b, relu in self.layers:
            h = h @ w
            h += b
            if relu:
                np.maximum(h, 0, out=h)
        if self.sigmoid_output:  # 1 / (1 + exp(-h)), in place; exp overflows to inf -> 0
            np.negative(h, out=h)
            with np.errstate(over="ignore"):
                np.exp(h, out=h)
            h += 1
            np.reciprocal(h, out=h)
        return h


class DenseModel:
    """What scoring needs of a dense model file: the network, its scaling, its score."""

    def __init__(self, net, scaling, mean, scale, score_type=None, threshold=None):
        self.net = net
        self.scaling, self.mean, self.scale = scaling, mean, scale
        self.score_type = score_type  # a detector's own; None for an autoencoder file
        self.threshold = threshold

    def _scaled(self, X):
        if self.scaling == "unit":
            return np.asarray(X, dtype=np.float32)
        return ((X - self.mean) / self.scale).astype(np.float32, copy=False)

    def contributions(self, X, score):
        """Per-feature contributions to the scores (as aekit.anomaly computes them)."""
        Xs = self._scaled(X)
        return score_contributions(Xs, self.net.reconstruct(Xs), resolve_score(score, self.scaling))

    def scores(self, X, score):
        """Row scores: the row means of :meth:`contributions`, without the matrix."""
        Xs = self._scaled(X)
        R = self.net.reconstruct(Xs)
        relative = resolve_score(score, self.scaling) == "relative"
        if relative:
            # the divisor before R is reused: clipped like the reconstruction
            mass = np.clip(Xs, 0.0, 1.0).sum(axis=1) + np.clip(R, 0.0, 1.0).sum(axis=1) + 1.0
        R -= Xs
        err = np.einsum("ij,ij->i", R, R)
        return (err / mass if relative else err / np.float32(Xs.shape[1])).astype(np.float64)


def load_dense(doc, tensors, path):
    """A :class:`DenseModel` for a dense model file read as numpy arrays, or None.

    None means "load it the usual way": the model is not dense (convolutional,
    PCA), or something in the file fails a check that loading with torch and
    scikit-learn makes; that way then refuses it in its own words.
    """
    from .serialization import MAX_PARAMETERS, check_config, read_scaling

    name = doc.get("estimator")
    if name not in ESTIMATORS or doc.get("config") is None:
        return None
    params = {k: (tuple(v) if isinstance(v, list) else v)
              for k, v in doc["params"].items() if k in ESTIMATORS[name]}
    detector = name == "AnomalyDetector"
    try:
        config = check_config(doc["config"])
        if config.arch != "dense" or config.n_features != doc["n_features"]:
            return None
        if detector:
            check_detector_params(params)
            if params.get("method", "autoencoder") != "autoencoder":
                return None
            # "auto" sizes follow the training data; the config holds what they became
            params = {k: v for k, v in params.items()
                      if not (k in ("hidden", "code_size", "batch_size") and v == "auto")}
        check_autoencoder_params(params, denoising=name == "DenoisingAutoencoder")
        shapes, _ = dense_layout(config)
        if sum(int(np.prod(s)) for k, s in shapes.items() if "running" not in k) > MAX_PARAMETERS:
            return None
        net_tensors = {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}
        if set(net_tensors) != set(shapes):
            return None
        for k, shape in shapes.items():
            v = net_tensors[k]
            floating = np.issubdtype(v.dtype, np.floating)
            if v.shape != shape or floating == k.endswith("num_batches_tracked"):
                return None
            if floating and not np.isfinite(v).all():
                return None
        scaling, mean, scale = read_scaling(doc, doc["n_features"], path)
        extra = doc.get("extra") or {}
        score_type = threshold = None
        if detector:
            threshold = -float(extra["offset"])
            score_type = extra.get("score_type", "mse")
            if score_type not in SCORES[1:]:
                return None
        net = DenseNet(config, net_tensors)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, ModelFileError):
        return None
    return DenseModel(net, scaling, mean, scale, score_type, threshold)
