"""MNIST, read straight from its four IDX files (gzipped or not).

Where the files are looked for, in order: ``root`` if given, ``$AEKIT_DATA``,
then the user cache folder (``$XDG_CACHE_HOME/aekit/mnist``, by default
``~/.cache/aekit/mnist``). In each folder the files may lie directly or in
torchvision's layout (``MNIST/raw/``). A missing dataset is downloaded into the
cache through torchvision when a network is there.
"""

import gzip
import os
from pathlib import Path

import numpy as np

from .errors import DataError, literal

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def default_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "aekit" / "mnist"


def _candidate_dirs(root, also=()):
    if root is not None:
        roots = [Path(root)]
    else:
        roots = [Path(p) for p in [os.environ.get("AEKIT_DATA")] if p]
        roots.append(default_cache_dir())
        roots += [Path(p) for p in also]
    out = []
    for r in roots:
        out += [r, r / "MNIST" / "raw", r / "mnist"]
    return roots, out


def _find(name, dirs):
    for d in dirs:
        for candidate in (d / (name + ".gz"), d / name):
            if candidate.is_file():
                return candidate
    return None


def read_idx(path):
    """Read an IDX file (the format MNIST ships in) into a numpy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"cannot read {path}: {e}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path} is not an unsigned-byte IDX file")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(data) != header + int(np.prod(shape)):
        raise DataError(f"{path} is truncated or corrupt (expected shape {shape})")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _download(cache):
    """Download MNIST into ``cache`` (torchvision's ``MNIST/raw`` in it): None, or why it
    failed."""
    try:
        from torchvision.datasets import MNIST

        for train in (True, False):
            MNIST(root=str(cache), train=train, download=True)
    except Exception as e:  # no network, a proxy, a mirror down: all the same to the user
        text = str(e).strip().splitlines()[0].rstrip(":") if str(e).strip() else ""
        return f"no network? {text}" if text else type(e).__name__
    return None


def mnist_folder(also=(), download=True):
    """The folder holding the four MNIST files, found as :func:`load_mnist` finds them
    (``$AEKIT_DATA``, then the user cache), then in the folders ``also``, then downloaded
    into the cache when a network is there.

    Raises
    ------
    DataError
        MNIST is in none of them and cannot be downloaded (the message names the files
        and the folder to put them in).
    """
    roots, dirs = _candidate_dirs(None, also)
    names = [n for pair in FILES.values() for n in pair]
    for d in dirs:
        if all(_find(n, [d]) for n in names):
            return d
    load_mnist("train", download=download)  # downloads, or raises the one-line error
    load_mnist("test", download=download)
    return _find(names[0], dirs).parent


def load_mnist_pair(root=None, train_limit=None, test_limit=None):
    """``(X, y, X_test, y_test)``: the training and test sets, cut to their first
    ``train_limit`` / ``test_limit`` images when given (quick checks)."""
    X, y = load_mnist("train", root=root)
    Xt, yt = load_mnist("test", root=root)
    return X[:train_limit], y[:train_limit], Xt[:test_limit], yt[:test_limit]


def load_mnist(split="train", root=None, download=True):
    """Return ``(X, y)``: X float32 (n, 784) in [0, 1], y int64 labels (n,).

    >>> X, y = load_mnist("test")          # doctest: +SKIP
    >>> X.shape, X.dtype, y[:3]            # doctest: +SKIP
    ((10000, 784), dtype('float32'), array([7, 2, 1]))
    """
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    roots, dirs = _candidate_dirs(root)
    if root is not None and not Path(root).is_dir():
        raise DataError(f"no such folder: {root} (the folder holding the four MNIST files)")
    img_name, lbl_name = FILES[split]
    img, lbl = _find(img_name, dirs), _find(lbl_name, dirs)
    reason = None
    if (img is None or lbl is None) and download:
        cache = roots[0] if root is not None else default_cache_dir()
        made = [d for d in (cache / "MNIST" / "raw", cache / "MNIST", cache, *cache.parents)
                if not d.exists()]  # (the innermost first)
        try:
            cache.mkdir(parents=True, exist_ok=True)
            reason = _download(cache)
        except OSError as e:
            reason = str(e)
        for d in made if reason else ():  # made for the download alone: removed if empty
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
        img, lbl = _find(img_name, dirs), _find(lbl_name, dirs)
    if img is None or lbl is None:
        where = roots[0]
        names = ", ".join(f"{n}.gz" for n in (img_name, lbl_name)
                          if _find(n, dirs) is None)
        msg = f"MNIST not found in {', '.join(str(r) for r in roots)}"
        if reason:
            msg += f" and the download failed ({reason})"
        raise DataError(
            f"{literal(msg)}. Put {names} (of the four MNIST files) in {literal(where)} "
            "or point AEKIT_DATA (or {root}) at the folder holding them", params=("root",))
    X = read_idx(img)
    y = read_idx(lbl)
    if X.ndim != 3 or y.ndim != 1 or len(X) != len(y):
        raise DataError(f"MNIST files in {img.parent} do not match: {X.shape} vs {y.shape}")
    return X.reshape(len(X), -1).astype(np.float32) / 255.0, y.astype(np.int64)
