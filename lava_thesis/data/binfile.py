"""Opening and reading data files defensively: regular files only, bounded reads.

Every binary reader opens its file through :func:`open_regular`, so a directory, FIFO,
device or socket gives one :class:`~lava_thesis.data.errors.DataFormatError` naming the
path (a FIFO would otherwise block forever), and reads through :func:`read_exact`, which
never allocates more than the bytes that actually arrive.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from lava_thesis.data.errors import DataFormatError, DataNotFoundError

#: Read size of one chunk; buffers grow by at most this much beyond the data received.
CHUNK = 1 << 20

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def regular_file(path: str | os.PathLike, expected: str) -> Path:
    """Return ``path`` as a Path after checking with ``stat``, without opening it, that it is
    a regular file (a symbolic link to one is fine).

    Raises
    ------
    DataNotFoundError
        ``path`` does not exist.
    DataFormatError
        It is a directory, FIFO, socket or device, or cannot be examined.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise DataNotFoundError(path.parent, [path.name], reason="no such file") from None
    except (OSError, ValueError) as exc:  # permission, symlink loop, NUL in the name
        raise DataFormatError(path, f"cannot examine the file ({exc})", expected) from exc
    if not stat.S_ISREG(mode):
        raise DataFormatError(path, f"is {_kind(mode)}, not a regular file", expected)
    return path


def open_regular(path: str | os.PathLike, expected: str) -> BinaryIO:
    """Open ``path`` for binary reading, refusing anything but a regular file.

    The path is checked with :func:`regular_file` before it is opened, and again (``fstat``)
    on the opened descriptor, which is opened non-blocking so that a FIFO swapped in between
    the two checks cannot block either.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    expected : str
        Format description for error messages.

    Returns
    -------
    BinaryIO
        A buffered binary file object (blocking mode restored).

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        It is a directory, FIFO, device or socket, or cannot be opened.
    """
    path = regular_file(path, expected)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError as exc:
        raise DataNotFoundError(path.parent, [path.name], reason="no such file") from exc
    except (OSError, ValueError) as exc:
        raise DataFormatError(path, f"cannot open the file ({exc})", expected) from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise DataFormatError(path, f"is {_kind(mode)}, not a regular file", expected)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def file_size(handle: BinaryIO) -> int:
    """Size in bytes of an open file."""
    return os.fstat(handle.fileno()).st_size


def read_exact(stream: BinaryIO, n: int) -> bytearray:
    """Read up to ``n`` bytes in chunks; fewer come back only at the end of the stream.

    The buffer grows with the data received, so a header that claims a huge size costs
    memory only for the bytes that are really there.

    Parameters
    ----------
    stream : BinaryIO
        Any readable binary stream (a file, a ``gzip.GzipFile``).
    n : int
        How many bytes to read.

    Returns
    -------
    bytearray
        ``min(n, bytes left)`` bytes (a mutable buffer, so arrays made from it are writeable).
    """
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(min(CHUNK, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return buf
