"""Careful file reading for the audio and text loaders: regular files only, bounded sizes.

Every function here raises only :class:`DataFormatError` or :class:`DataNotFoundError`, and
the message names the file:

- :func:`regular_file` refuses a directory, FIFO, socket or device *before* opening it (opening
  a FIFO for reading blocks until a writer appears, i.e. forever).
- :func:`read_file_bytes` reads at most ``max_bytes`` bytes, in chunks, so the memory it takes
  follows the file's real size, never a size the file declares.
- :func:`read_maybe_gzip` also decompresses gzip (detected by the magic bytes ``1f 8b``) with
  the same bound on the *decompressed* size, so a small "gzip bomb" fails cleanly.
- :func:`decode_lines` decodes UTF-8 (a leading byte-order mark is dropped), splits lines at
  ``\\r\\n``, ``\\r`` or ``\\n`` (other Unicode line breaks such as U+0085 stay inside a line),
  and refuses control characters other than the tab (binary data is not text).
"""

from __future__ import annotations

import gzip
import io
import os
import re
import stat
import zlib
from pathlib import Path

from lava_thesis.data.errors import DataFormatError, DataNotFoundError

__all__ = ["MAX_TEXT_BYTES", "decode_lines", "is_blank", "read_file_bytes", "read_maybe_gzip",
           "regular_file"]

#: Largest text file (after decompression) the text readers accept: 32 MiB, 16 times the
#: largest real Multi30k file (train.fr, 2.1 MB uncompressed).
MAX_TEXT_BYTES = 32 * 2**20
GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"
_CHUNK = 2**20
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def regular_file(path: str | os.PathLike, expected: str) -> Path:
    """Return ``path`` as a Path after checking (with ``stat``, without opening) that it is a
    regular file (a symbolic link to one is fine).

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
        raise DataNotFoundError(path.parent, [path.name]) from None
    except (OSError, ValueError) as exc:  # permission, symlink loop, NUL in the name
        raise DataFormatError(path, f"cannot examine the file ({exc})", expected) from exc
    if not stat.S_ISREG(mode):
        raise DataFormatError(path, f"is {_kind(mode)}, not a regular file", expected)
    return path


def read_file_bytes(path: str | os.PathLike, expected: str, max_bytes: int) -> bytes:
    """Read a regular file of at most ``max_bytes`` bytes.

    The file is checked with :func:`regular_file`, opened non-blocking (so a file swapped for a
    FIFO after the check cannot hang) and checked again on the open descriptor.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Not a regular file, unreadable, or larger than ``max_bytes``.
    """
    path = regular_file(path, expected)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise DataNotFoundError(path.parent, [path.name]) from None
    except OSError as exc:
        raise DataFormatError(path, f"cannot open the file ({exc.strerror})", expected) from exc
    with os.fdopen(fd, "rb", buffering=0) as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DataFormatError(path, f"is {_kind(info.st_mode)}, not a regular file", expected)
        if info.st_size > max_bytes:
            raise DataFormatError(
                path, f"{info.st_size} bytes, more than the limit of {max_bytes}", expected
            )
        parts: list[bytes] = []
        total = 0
        try:
            # read what stat says is there (plus one byte, to see the end), in bounded pieces
            while chunk := handle.read(
                min(_CHUNK, max_bytes + 1 - total, max(info.st_size + 1 - total, 8192))
            ):
                parts.append(chunk)
                total += len(chunk)
                if total > max_bytes:
                    raise DataFormatError(
                        path, f"more than the limit of {max_bytes} bytes", expected
                    )
        except OSError as exc:
            raise DataFormatError(path, f"read error ({exc.strerror})", expected) from exc
    return b"".join(parts)


def read_maybe_gzip(path: str | os.PathLike, expected: str,
                    max_bytes: int = MAX_TEXT_BYTES) -> bytes:
    """Read a file, gunzipping it when it starts with the gzip magic bytes.

    Both the file and its decompressed content may hold at most ``max_bytes`` bytes; the
    content is decompressed in 1 MiB pieces and reading stops as soon as the limit is passed.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Not a regular file, too large, too large once decompressed, or corrupt/truncated gzip.
    """
    raw = read_file_bytes(path, expected, max_bytes)
    if raw[:2] != GZIP_MAGIC:
        return raw
    parts: list[bytes] = []
    total = 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw), mode="rb") as stream:
            while chunk := stream.read(min(_CHUNK, max_bytes + 1 - total)):
                parts.append(chunk)
                total += len(chunk)
                if total > max_bytes:
                    raise DataFormatError(
                        path, f"decompresses to more than the limit of {max_bytes} bytes",
                        expected,
                    )
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(path, f"corrupt or truncated gzip data ({exc})", expected) from exc
    return b"".join(parts)


def is_blank(text: str) -> bool:
    """Whether ``text`` holds nothing but whitespace and U+FEFF (a byte-order mark inside a
    line is invisible, and the tokenizer drops it, so such a line has no words)."""
    return not text.replace("\ufeff", "").strip()


def _line_number(raw: bytes, offset: int) -> int:
    """1-based line (``\\r\\n``, ``\\r`` or ``\\n`` separated) holding byte ``offset``."""
    head = raw[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def decode_lines(raw: bytes, path: str | os.PathLike, expected: str) -> list[str]:
    """Decode UTF-8 text into lines.

    A leading UTF-8 byte-order mark is dropped; ``\\r\\n``, ``\\r`` and ``\\n`` all end a line
    and a final line break does not add an empty line.

    Raises
    ------
    DataFormatError
        The file is empty, is not valid UTF-8, or holds a control character other than the tab
        (the message gives the line number).
    """
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    if not raw:
        raise DataFormatError(path, "empty file", expected)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_number(raw, exc.start)
        raise DataFormatError(
            path, f"invalid UTF-8 at line {line} (byte {exc.start})", expected
        ) from exc
    lines = _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    for lineno, line in enumerate(lines, start=1):
        bad = _CONTROL.search(line)
        if bad:
            raise DataFormatError(
                path, f"binary data: control character U+{ord(bad.group()):04X} at line "
                f"{lineno}", expected,
            )
    return lines
