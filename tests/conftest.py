import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = Path(os.environ.get("AEKIT_DATA") or ROOT.parent / "shared" / "data" / "mnist")


@pytest.fixture(scope="session")
def mnist_dir():
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists() and not (
        MNIST_DIR / "t10k-images-idx3-ubyte"
    ).exists():
        pytest.fail(f"MNIST not found in {MNIST_DIR}: set AEKIT_DATA")
    return MNIST_DIR


@pytest.fixture(scope="session")
def mnist_small(mnist_dir):
    """2000 train and 500 test images: enough to learn something, fast."""
    from aekit.datasets import load_mnist

    X, y = load_mnist("train", root=mnist_dir)
    Xt, yt = load_mnist("test", root=mnist_dir)
    return X[:2000], y[:2000], Xt[:500], yt[:500]


@pytest.fixture
def rng():
    return np.random.RandomState(0)
