"""Files in and out: atomic writes, and the one check every input path goes through.

Atomic writes: a reader sees the old file or the new one, never half of one; a new file gets the
mode an ordinary ``open`` would give it (``0o666`` minus the umask), a replaced one keeps its own.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from nnrules.exceptions import InputFileError

__all__ = ["atomic_write_bytes", "atomic_write_chunks", "atomic_write_text", "check_input_file"]


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically.

    The bytes go to a temporary file in the same folder, are flushed and fsynced, then
    ``os.replace`` swaps it in. On any error the temporary file is removed and an existing
    ``path`` is left untouched. The file keeps the permissions of the file it replaces (a new
    file gets the usual ``0o666`` less the umask, not the temporary file's ``0o600``).
    """
    atomic_write_chunks(path, (data,))


def atomic_write_chunks(path: str | os.PathLike, chunks: Iterable[bytes]) -> None:
    """:func:`atomic_write_bytes` for data that comes in pieces (never all in memory at once);
    an error raised while the pieces are made leaves ``path`` untouched too."""
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    """The process's umask (read by setting it and restoring it at once)."""
    current = os.umask(0o022)
    os.umask(current)
    return current


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def check_input_file(path: str | os.PathLike, what: str = "Input file") -> Path:
    """``path`` as a Path when it is a regular file (or a symlink to one).

    Raises
    ------
    InputFileError
        It does not exist, is a directory, or is not a regular file (a named pipe, a socket, a
        device: nnrules reads a file more than once and needs its size, so it reads only
        regular files). The message says which.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputFileError(f"{what} {str(path)!r} does not exist. Check the path.") from None
    except OSError as exc:
        raise InputFileError(
            f"{what} {str(path)!r} cannot be read ({exc.strerror}). Check the path and its "
            "permissions.") from None
    if stat.S_ISDIR(mode):
        raise InputFileError(f"{what} {str(path)!r} is a directory; give the path of a file.")
    if not stat.S_ISREG(mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file")
        raise InputFileError(
            f"{what} {str(path)!r} is {kind}, not a regular file; nnrules reads only regular "
            "files. Save its content to a regular file first (e.g. cat PIPE > FILE).")
    return path
