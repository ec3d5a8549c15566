"""The numpy scoring engines of a model file: no torch, no scikit-learn.

`aekit detect` on a CPU would spend longer importing torch and scikit-learn (~4.5 s
on a 2-core machine) than scoring 100,000 rows. :func:`numpy_engine` builds, from a
model file's document and tensors, an engine (:mod:`aekit.nn.engine`'s protocol) that
runs in numpy alone: a dense network (:class:`~aekit.nn.numpy_network.NumpyNetwork`) or
a PCA basis (:class:`NumpyPCA`). It takes only what it can vouch for: a network that is
not dense (convolutional), or a file that fails any check, gives None, and the caller
loads the file with :func:`aekit.load`, which also words the error for a bad file.
Tests hold its outputs to the torch engine's.
"""

import numpy as np

from .model_file import MAX_PARAMETERS, check_network_config, network_tensors
from .nn.numpy_network import NumpyNetwork, check_dense_tensors, dense_layout
from .params import AutoencoderParams, DenoisingParams, DetectorParams, check_params
from .preprocessing import InputSchema

PARAMS = {"Autoencoder": AutoencoderParams, "DenoisingAutoencoder": DenoisingParams,
          "AnomalyDetector": DetectorParams}


class NumpyPCA:
    """A PCA basis as an engine: rows projected onto the components and back,
    ``(Xs - mean) C^T C + mean``, in numpy (scikit-learn's ``inverse_transform(transform())``
    without whitening)."""

    def __init__(self, components, mean):
        self.components = np.asarray(components, dtype=np.float64)
        self.mean = np.asarray(mean, dtype=np.float64)

    def output(self, Xs, kind="reconstruction"):
        D = np.asarray(Xs, dtype=np.float64) - self.mean
        return ((D @ self.components.T) @ self.components + self.mean).astype(Xs.dtype)


def numpy_engine(doc, tensors):
    """The numpy engine of a model file's ``(document, tensors)``, or None when it is not a
    model aekit can vouch for in numpy (load it with torch then)."""
    try:
        return _engine(doc, tensors)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        return None


def _engine(doc, tensors):
    kind = doc["estimator"]
    params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in doc["params"].items()}
    check_params(params, PARAMS[kind])
    schema = InputSchema.from_json(doc["schema"])
    entries = doc.get("networks") or []
    if doc.get("pca") is not None:
        return _pca_engine(tensors, schema.n_encoded) if not entries else None
    if len(entries) != 1:
        return None
    config = check_network_config(entries[0])
    if config.arch != "dense" or config.n_features != schema.n_encoded:
        return None
    shapes, _ = dense_layout(config)
    if sum(int(np.prod(s)) for k, s in shapes.items() if "running" not in k) > MAX_PARAMETERS:
        return None
    net_tensors = network_tensors(tensors, 0)
    return NumpyNetwork(config, net_tensors) if check_dense_tensors(config, net_tensors) \
        else None


def _pca_engine(tensors, n_features):
    comps = np.asarray(tensors["pca.components"])
    mean = np.asarray(tensors["pca.mean"])
    ok = (comps.ndim == 2 and comps.shape[1] == n_features and 1 <= len(comps) <= n_features
          and mean.shape == (n_features,) and np.isfinite(comps).all()
          and np.isfinite(mean).all())
    return NumpyPCA(comps, mean) if ok else None
