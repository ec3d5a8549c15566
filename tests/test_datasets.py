import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from aekit.datasets import load_mnist, read_idx
from aekit.errors import DataError


def test_load_mnist_test_split(mnist_dir):
    X, y = load_mnist("test", root=mnist_dir, download=False)
    assert X.shape == (10000, 784) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.shape == (10000,) and list(y[:3]) == [7, 2, 1]


def test_reads_uncompressed_files_and_torchvision_layout(mnist_dir, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(mnist_dir / f"{name}.gz") as src, open(raw / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    X, y = load_mnist("test", root=tmp_path, download=False)
    X0, y0 = load_mnist("test", root=mnist_dir, download=False)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_env_variable_is_used(mnist_dir, monkeypatch):
    monkeypatch.setenv("AEKIT_DATA", str(mnist_dir))
    X, _ = load_mnist("test", download=False)
    assert len(X) == 10000


def test_missing_dataset_says_where_to_put_files(tmp_path, monkeypatch):
    monkeypatch.delenv("AEKIT_DATA", raising=False)
    with pytest.raises(DataError) as e:
        load_mnist("train", root=tmp_path / "nowhere", download=False)
    msg = str(e.value)
    assert "no such folder" in msg and str(tmp_path / "nowhere") in msg
    (tmp_path / "empty").mkdir()  # a folder without the files lists the missing ones
    with pytest.raises(DataError) as e:
        load_mnist("train", root=tmp_path / "empty", download=False)
    msg = str(e.value)
    assert "train-images-idx3-ubyte.gz" in msg and str(tmp_path / "empty") in msg
    assert not list((tmp_path / "empty").iterdir())  # nothing made there


def test_truncated_idx_is_refused(mnist_dir, tmp_path):
    data = gzip.open(mnist_dir / "t10k-labels-idx1-ubyte.gz").read()
    (tmp_path / "bad").write_bytes(data[:100])
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "bad")


def test_bad_split():
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")


def test_the_tests_find_mnist_where_the_library_does_away_from_shared(tmp_path, mnist_dir):
    """A clone in a fresh folder (no ../shared beside it), AEKIT_DATA and XDG_CACHE_HOME
    unset, MNIST in the default cache (~/.cache/aekit/mnist): the tests find it there."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    home = tmp_path / "home"
    cache = home / ".cache" / "aekit" / "mnist"
    cache.mkdir(parents=True)
    for f in Path(mnist_dir).iterdir():
        if "ubyte" in f.name:
            (cache / f.name).symlink_to(f.resolve())
    clone = tmp_path / "fresh" / "aekit" / "tests"
    clone.mkdir(parents=True)
    shutil.copy(Path(__file__).with_name("conftest.py"), clone / "conftest.py")
    env = {k: v for k, v in os.environ.items() if k not in ("AEKIT_DATA", "XDG_CACHE_HOME")}
    env["HOME"] = str(home)
    code = "import conftest; print(conftest.find_mnist())"
    out = subprocess.run([sys.executable, "-c", code], cwd=clone, env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == cache


def test_a_failed_download_leaves_no_empty_folders(tmp_path, monkeypatch):
    import torchvision.datasets

    from aekit.errors import DataError

    def unreachable(root, train, download):
        (Path(root) / "MNIST" / "raw").mkdir(parents=True, exist_ok=True)  # as torchvision does
        raise OSError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(torchvision.datasets, "MNIST", unreachable)
    mine = tmp_path / "mine"
    mine.mkdir()
    with pytest.raises(DataError, match=r"the download failed \(no network\? Error downloading"):
        load_mnist("train", root=mine)
    assert mine.is_dir() and not any(mine.iterdir())  # the user's folder kept, emptied of ours
    monkeypatch.setattr("aekit.datasets.default_cache_dir", lambda: tmp_path / "cache" / "mnist")
    monkeypatch.delenv("AEKIT_DATA", raising=False)
    with pytest.raises(DataError, match=r"the download failed \(no network\? Error downloading"):
        load_mnist("train")
    assert not (tmp_path / "cache").exists()  # the folders made for it removed
