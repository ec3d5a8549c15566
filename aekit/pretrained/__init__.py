"""Models that ship inside the package, so that aekit works before any training.

Each is a safetensors file in this folder, made by ``scripts/train_pretrained.py``
(seeded, from MNIST); its metadata records how it scored.

    >>> from aekit import load_pretrained
    >>> denoiser = load_pretrained("mnist-denoiser")        # doctest: +SKIP
"""

from pathlib import Path

from ..errors import ModelFileError

FOLDER = Path(__file__).resolve().parent

MODELS = {
    "mnist-denoiser": "Convolutional denoising autoencoder for 28x28 digits, trained on gaussian 0.5, "
                      "masking 0.25, salt-and-pepper 0.1 noise and 10x10 holes.",
    "mnist-detector": "Anomaly detector (reconstruction error) trained on all MNIST digits: "
                      "flags rows that do not look like handwritten digits.",
}


def path_of(name):
    if name not in MODELS:
        raise ModelFileError(
            f"no bundled model {name!r}; available: {', '.join(sorted(MODELS))}"
        )
    path = FOLDER / f"{name}.safetensors"
    if not path.exists():
        raise ModelFileError(
            f"the bundled model {name!r} is missing from this installation ({path}); "
            "re-create it with scripts/train_pretrained.py"
        )
    return path


def load_pretrained(name, device="auto"):
    """Load a bundled model by name: ``"mnist-denoiser"`` or ``"mnist-detector"``."""
    from ..serialization import load

    return load(path_of(name), device=device)


def resolve_model(path_or_none, default_name, device="auto"):
    """The model at ``path_or_none``, or the bundled ``default_name`` when None."""
    from ..serialization import load

    if path_or_none is None:
        return load_pretrained(default_name, device=device)
    return load(path_or_none, device=device)


def catalogue():
    """[(name, description, figures dict or None)] for ``aekit models``."""
    from ..serialization import read_model_file

    rows = []
    for name, text in MODELS.items():
        path = FOLDER / f"{name}.safetensors"
        figures = None
        if path.exists():
            doc, _ = read_model_file(path)
            figures = doc.get("evaluation")
        rows.append((name, text, figures))
    return rows
