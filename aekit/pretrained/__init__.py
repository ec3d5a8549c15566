"""Models that ship inside the package, so that aekit works before any training.

Each is a safetensors file in this folder, made by ``scripts/train_pretrained.py``
(seeded, from MNIST; the photo-denoiser by ``scripts/train_photo_denoiser.py``, from the
images that ship with scikit-image, scikit-learn and matplotlib); its metadata records
how it scored. Wherever aekit accepts a
model file it also accepts one of these names (:func:`resolve`).

    >>> from aekit import load_pretrained
    >>> denoiser = load_pretrained("mnist-denoiser")        # doctest: +SKIP
"""

from pathlib import Path

from ..errors import ModelFileError, literal

FOLDER = Path(__file__).resolve().parent

MODELS = {
    "mnist-denoiser": "Convolutional denoising autoencoder for 28x28 digits, trained on gaussian 0.5, "
                      "masking 0.25, salt-and-pepper 0.1 noise and 10x10 holes.",
    "mnist-detector": "Anomaly detector (reconstruction error) trained on all MNIST digits: "
                      "flags rows that do not look like handwritten digits.",
    "mnist-vae": "Variational autoencoder of binarised MNIST digits (784-512-256-32, Bernoulli "
                 "decoder): `aekit sample`, `aekit interpolate`, log-likelihood bounds.",
    "photo-denoiser": "Blind denoiser of photos and scans (grey or colour, any size), for "
                      "Gaussian noise of sigma 0 to 50 of 255 (trained on 0 to 56, "
                      "gaussian:0-0.22; scripts/train_photo_denoiser.py).",
}

# the script that re-creates each bundled model (None: the digit models')
SCRIPTS = {None: "scripts/train_pretrained.py", "photo-denoiser":
           "scripts/train_photo_denoiser.py (its two stages, in its docstring)",
           "mnist-vae": "scripts/train_mnist_vae.py"}


def path_of(name):
    """The file of the bundled model ``name``.

    Raises
    ------
    ModelFileError
        No such bundled model, or this installation lacks its file.
    """
    if name not in MODELS:
        raise ModelFileError(
            f"no bundled model {name!r}; available: {', '.join(sorted(MODELS))}")
    path = FOLDER / f"{name}.safetensors"
    if not path.exists():
        raise ModelFileError(
            f"the bundled model {name!r} is missing from this installation "
            f"({literal(path)}): give a model file ({{model}}), or re-create it with "
            f"{literal(SCRIPTS.get(name, SCRIPTS[None]))}", params=("model",))
    return path


def resolve(model):
    """The file a model argument names: a path that exists, else a bundled model's name.

    Raises
    ------
    ModelFileError
        Neither a file nor a bundled name.
    """
    path = Path(model)
    if path.exists() or str(model) not in MODELS:
        if not path.exists():
            raise ModelFileError(f"model file not found: {model} (bundled models: "
                                 f"{', '.join(sorted(MODELS))})")
        return path
    return path_of(str(model))


def catalogue():
    """``[(name, description, path or None, figures dict or None)]`` for ``aekit models``."""
    from ..model_file import read_model_file

    rows = []
    for name, text in MODELS.items():
        path = FOLDER / f"{name}.safetensors"
        figures = None
        if path.exists():
            doc, _ = read_model_file(path)
            figures = doc.get("evaluation")
        rows.append((name, text, path if path.exists() else None, figures))
    return rows
