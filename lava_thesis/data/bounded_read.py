"""Careful file reading for the audio and text loaders: regular files only, bounded sizes.

Every function here raises only :class:`DataFormatError` or :class:`DataNotFoundError`, and
the message names the file:

- :func:`regular_file` (shared with the binary readers, :mod:`~lava_thesis.data.binfile`)
  refuses a directory, FIFO, socket or device *before* opening it (opening a FIFO for reading
  blocks until a writer appears, i.e. forever).
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
import zlib

from lava_thesis.data.binfile import file_size, open_regular, read_exact, regular_file
from lava_thesis.data.errors import DataFormatError

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
def read_file_bytes(path: str | os.PathLike, expected: str, max_bytes: int) -> bytes:
    """Read a regular file of at most ``max_bytes`` bytes.

    The file is opened with :func:`~lava_thesis.data.binfile.open_regular` (checked before
    and after opening, opened non-blocking, so a FIFO cannot hang) and read in bounded pieces.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Not a regular file, unreadable, or larger than ``max_bytes``.
    """
    with open_regular(path, expected) as handle:
        size = file_size(handle)
        if size > max_bytes:
            raise DataFormatError(path, f"{size} bytes, more than the limit of {max_bytes}",
                                  expected)
        try:
            data = read_exact(handle, size + 1)  # what stat says is there, plus one byte
            if len(data) > size:  # the file grew after fstat: read on, up to the limit
                data += read_exact(handle, max_bytes + 1 - len(data))
        except OSError as exc:
            raise DataFormatError(path, f"read error ({exc.strerror})", expected) from exc
    if len(data) > max_bytes:
        raise DataFormatError(path, f"more than the limit of {max_bytes} bytes", expected)
    return bytes(data)


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
