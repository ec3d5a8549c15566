"""Atomic file writes: a reader never sees a half-written output.

Everything aekit writes goes to a temporary file in the destination folder and
is renamed into place only once complete; on any error the temporary file is
removed and the destination is left as it was.
"""

import contextlib
import os
import tempfile
from pathlib import Path


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path, suffix=None):
    """Yield a temporary path beside ``path``; rename it to ``path`` on success."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        from .errors import AekitError

        raise AekitError(f"output folder does not exist: {folder}")
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=suffix or f".tmp{path.suffix}", dir=folder
    )
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes the file private (0600); give it the usual permissions
        os.chmod(tmp, 0o666 & ~_umask())
        _fsync(tmp)  # the data is on disk before the name points at it (power loss)
        os.replace(tmp, path)
        _fsync(folder, directory=True)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _fsync(path, directory=False):
    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    except OSError:
        return  # e.g. folders cannot be opened on Windows; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (and pipes) do not sync; nothing better to do
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path, mode="w", **kwargs):
    """Open a temporary file beside ``path`` for writing; rename on success."""
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as f:
        yield f
