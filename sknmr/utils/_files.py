"""Writing files safely: check the place first, write atomically.

A long computation should not end in an unwritable path, and a write cut
short (a full disk, a killed process) should not leave half a file where a
reader looks: :func:`check_writable` tries the place before the work, and
:func:`atomic_write` writes beside the target under a temporary name and
renames it into place.
"""

import contextlib
import errno
import os
import tempfile

__all__ = ["atomic_write", "check_writable"]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(path, what="the output", *, overwrite=True):
    """Raise ``OSError`` unless a file can be written at ``path``.

    The folder must exist and take a new file (a real write: ``os.access``
    says yes to root on read-only mounts); ``path`` must not be a folder,
    nor an existing file when ``overwrite`` is False.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(
            errno.EISDIR, f"Cannot write {what}: it is a folder", path
        )
    if not overwrite and os.path.lexists(path):
        raise FileExistsError(errno.EEXIST, f"Cannot write {what}: it exists", path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            errno.ENOENT, f"Cannot write {what}: no such folder", folder
        )
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise type(exc)(
            exc.errno, f"Cannot write {what}: {exc.strerror}", folder
        ) from None


def atomic_write(path, write):
    """Write through ``write(handle)`` (binary) to a temporary file, then rename it.

    A reader sees the old file or the whole new one, never a part; on any
    failure (a full disk, an interruption) the temporary file is removed.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, "Cannot write: no such folder", folder)
    fd, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
