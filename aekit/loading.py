"""Reading a model file back into the estimator that wrote it, by path or bundled name.

The estimator's class is looked up in a fixed table (never imported by name), and
the class rebuilds itself from the file's document (``from_state``); this module
adds the file's name to whatever it finds wrong.
"""

from .anomaly import AnomalyDetector
from .autoencoder import Autoencoder, DenoisingAutoencoder
from .errors import ModelFileError
from .model_file import read_model_file
from .pretrained import resolve

ESTIMATORS = {c.__name__: c for c in (Autoencoder, DenoisingAutoencoder, AnomalyDetector)}


def estimator_from(doc, tensors, path="model", device="auto"):
    """The fitted estimator of a document and its tensors (:func:`read_model_file`'s pair).

    Raises
    ------
    ModelFileError
        Naming ``path`` and the part of the file that is wrong.
    """
    cls = ESTIMATORS[doc["estimator"]]
    try:
        return cls.from_state(doc, tensors, device)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as e:
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelFileError(f"{path}: {text}") from None


def load(model, device="auto"):
    """Load a model file saved by ``save`` (or `aekit train`), or a bundled model by name.

    Parameters
    ----------
    model : str or path
        A safetensors file written by aekit, or the name of a bundled model
        (``aekit models`` lists them: "mnist-denoiser", "mnist-detector").
    device : str, default="auto"

    Returns
    -------
    Autoencoder, DenoisingAutoencoder or AnomalyDetector, fitted.

    Raises
    ------
    ModelFileError
        The file is missing, not an aekit model (a pickle is refused without being
        unpickled), or damaged; one line says which.

    >>> ae = aekit.load("model.safetensors")   # doctest: +SKIP
    """
    path = resolve(model)
    doc, tensors = read_model_file(path)
    return estimator_from(doc, tensors, path, device)


def load_pretrained(name, device="auto"):
    """Load a bundled model by name: ``"mnist-denoiser"`` or ``"mnist-detector"``."""
    from .pretrained import path_of

    return load(path_of(name), device=device)
