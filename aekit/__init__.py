"""aekit: autoencoders for denoising, anomaly detection and compact features.

    >>> from aekit import Autoencoder
    >>> ae = Autoencoder(code_size=8, epochs=5).fit(X)       # doctest: +SKIP
    >>> codes = ae.transform(X)                               # doctest: +SKIP

Heavy imports (torch, scikit-learn) happen on first use of a name, so that
``import aekit`` and the CLI's ``--help`` stay fast.
"""

__version__ = "0.2.0"

_LAZY = {
    "Autoencoder": "aekit.autoencoder",
    "DenoisingAutoencoder": "aekit.autoencoder",
    "AnomalyDetector": "aekit.anomaly",
    "VariationalAutoencoder": "aekit.variational",
    "load": "aekit.loading",
    "load_pretrained": "aekit.loading",
    "load_mnist": "aekit.datasets",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'aekit' has no attribute {name!r}")


def __dir__():
    return __all__
