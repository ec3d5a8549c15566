"""Writing outputs so that no reader ever sees a half-written regular file.

A regular file (or a path that does not exist yet) is written to a temporary file
in the same folder and renamed into place only once complete; on any error the
temporary file is removed and the destination is left as it was. Anything else
(a device such as ``/dev/null``, a FIFO, ``/dev/fd/N`` from a shell's ``>(...)``,
a socket) is written in place: renaming over it would replace the device node or
the pipe instead of writing to it.
"""

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def is_special(path):
    """True when ``path`` exists and is not a regular file (a device, FIFO, socket...)."""
    try:
        mode = os.stat(path).st_mode  # follows links: /dev/fd/N -> pipe
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


@contextlib.contextmanager
def atomic_path(path, suffix=None):
    """Yield the path to write ``path``'s content to: a temporary file beside it, renamed
    to ``path`` on success, or ``path`` itself when it is not a regular file."""
    path = Path(path)
    if is_special(path):
        yield path
        return
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        from .errors import AekitError

        raise AekitError(f"output folder does not exist: {folder}")
    fd, tmp = _temporary_file(path, folder, suffix or f".tmp{path.suffix}")
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


def check_writable(path):
    """Refuse, before any work, an output ``path`` whose folder takes no new file
    (read-only, immutable, not ours), found otherwise only when the result is written;
    a special file (:func:`is_special`) is written in place and not probed.

    Raises
    ------
    aekit.errors.AekitError
        Naming ``path`` and why.
    """
    path = Path(path)
    if is_special(path):
        return
    fd, probe = _temporary_file(path, path.parent if str(path.parent) else Path("."), ".probe")
    os.close(fd)
    os.unlink(probe)


def _temporary_file(path, folder, suffix):
    """``tempfile.mkstemp``'s ``(fd, name)`` of a hidden file beside ``path`` in ``folder``;
    its failure named by ``path`` (the name the user gave), not by the temporary one."""
    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=folder)
    except OSError as e:
        from .errors import AekitError

        raise AekitError(f"cannot write {path}: {e.strerror or e} (its folder {folder})"
                         ) from None


def _fsync(path, directory=False):
    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    except OSError:
        return  # e.g. folders cannot be opened on Windows; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems do not sync; nothing better to do
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path, mode="w", **kwargs):
    """Open ``path`` for writing (see :func:`atomic_path`); ``"-"`` is stdout."""
    if str(path) == "-":
        import sys

        yield sys.stdout.buffer if "b" in mode else sys.stdout
        (sys.stdout.buffer if "b" in mode else sys.stdout).flush()
        return
    with atomic_path(path) as target, open(target, mode, **kwargs) as f:
        yield f
