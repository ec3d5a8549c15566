from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
# where a checkout beside the project's shared data finds MNIST, after the library's own
# places ($AEKIT_DATA, the user cache) and before a download
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"


def find_mnist():
    """The MNIST folder the tests use: found as the library finds it (aekit.datasets)."""
    from aekit.datasets import mnist_folder

    return mnist_folder(also=[SHARED_MNIST])


@pytest.fixture(scope="session")
def mnist_dir():
    from aekit.errors import DataError

    try:
        return find_mnist()
    except DataError as e:  # no MNIST anywhere and no network: say what to do
        pytest.fail(str(e))


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


@pytest.fixture
def interrupt_training(monkeypatch):
    """``interrupt_training(epoch, fit=None)``: training raises KeyboardInterrupt (Ctrl-C)
    as epoch ``epoch`` (0-based) starts, in the fit ``fit`` of a trimmed run (1 or 2;
    None: any); returns a function that lets training run again."""
    from aekit.nn import training

    original = training.Trainer._train_one_epoch

    def interrupt(epoch, fit=None):
        def stop(self, X, at):
            if at == epoch and (fit is None or self.stage.get("fit") == fit):
                raise KeyboardInterrupt
            return original(self, X, at)

        monkeypatch.setattr(training.Trainer, "_train_one_epoch", stop)
        return lambda: monkeypatch.setattr(training.Trainer, "_train_one_epoch", original)

    return interrupt
