"""IDX files (the MNIST format), gzipped or not: a strict, bounded reader and a small writer.

Layout: two zero bytes, a dtype code, the number of dimensions ``ndim``, ``ndim`` big-endian
uint32 sizes, then exactly ``prod(sizes) * itemsize`` bytes of big-endian data. The reader
checks the header before it reads the payload: the dtype code must be known, every size at
least 1, and the payload size (computed exactly, without overflow) at most ``max_bytes``. The
payload is read in chunks, so memory grows only with the bytes actually present; a short
payload is "truncated", a longer one "trailing bytes" (reading stops one byte past the
declared size, so a gzip bomb is never decompressed further than that).
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from lava_thesis.atomic import atomic_open
from lava_thesis.data.binfile import file_size, open_regular, read_exact
from lava_thesis.data.errors import DataFormatError

EXPECTED = "IDX file (magic 0x0000 + dtype code + ndim, big-endian dims, payload), gzip optional"
GZIP_MAGIC = b"\x1f\x8b"
#: Default largest IDX payload read (bytes); MNIST's training images are 47 MB.
MAX_IDX_BYTES = 512 << 20
#: Default largest (decompressed) file read by :func:`read_bytes_maybe_gzip`.
MAX_FILE_BYTES = 256 << 20

# IDX dtype code -> big-endian numpy dtype
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_STREAM_ERRORS = (OSError, EOFError, zlib.error)


def read_bytes_maybe_gzip(
    path: str | os.PathLike, expected: str, *, max_bytes: int = MAX_FILE_BYTES
) -> bytes:
    """Read a file, decompressing it when it starts with the gzip magic bytes.

    Parameters
    ----------
    path : str or os.PathLike
        A regular file; gzip is detected by its first two bytes (``1f 8b``), not by its name.
    expected : str
        Format description used in the error message.
    max_bytes : int
        Largest (decompressed) size accepted; decompression stops one byte past it.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Not a regular file, a corrupt or truncated gzip stream, or more than ``max_bytes``.
    """
    with open_regular(path, expected) as handle:
        try:
            gzipped = handle.read(2) == GZIP_MAGIC
            handle.seek(0)
            stream = gzip.GzipFile(fileobj=handle, mode="rb") if gzipped else handle
            data = read_exact(stream, max_bytes + 1)
        except _STREAM_ERRORS as exc:
            what = "corrupt or truncated gzip data" if gzipped else "read error"
            raise DataFormatError(path, f"{what} ({exc})", expected) from exc
        except MemoryError as exc:
            raise DataFormatError(path, "too large to hold in memory", expected) from exc
    if len(data) > max_bytes:
        raise DataFormatError(path, f"larger than the limit of {max_bytes} bytes", expected)
    return bytes(data)


def _fail(path: Path, problem: str) -> DataFormatError:
    return DataFormatError(path, problem, EXPECTED)


def _read_payload(
    path: Path, stream, size: int | None, max_bytes: int
) -> tuple[bytearray, np.dtype, tuple[int, ...]]:
    """Parse the header from ``stream`` and read the payload it declares (see module doc)."""
    head = read_exact(stream, 4)
    if len(head) < 4:
        raise _fail(path, f"only {len(head)} bytes, no IDX header")
    zero, code, ndim = struct.unpack(">HBB", head)
    if zero != 0:
        raise _fail(path, f"bad magic number 0x{head.hex()}")
    if code not in IDX_DTYPES:
        raise _fail(path, f"bad magic number 0x{head.hex()}: unknown dtype code 0x{code:02x}")
    if ndim == 0:
        raise _fail(path, "no dimensions (ndim is 0)")
    header = 4 + 4 * ndim
    raw_dims = read_exact(stream, 4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise _fail(path, f"truncated header ({4 + len(raw_dims)} of {header} bytes)")
    dims = struct.unpack(f">{ndim}I", raw_dims)
    if 0 in dims:
        raise _fail(path, f"dimension {dims.index(0)} of {dims} is 0")
    dtype = IDX_DTYPES[code]
    want = math.prod(dims) * dtype.itemsize  # Python ints: exact, no overflow
    if want > max_bytes:
        raise _fail(path, f"dims {dims} declare {want} bytes, over the limit of {max_bytes}")
    if size is not None and size - header != want:
        what = "truncated" if size - header < want else "trailing bytes"
        raise _fail(path, f"{what}: payload is {size - header} bytes, dims {dims} need {want}")
    payload = read_exact(stream, want)
    if len(payload) < want:
        raise _fail(path, f"truncated: payload is {len(payload)} bytes, dims {dims} need {want}")
    if stream.read(1):
        raise _fail(path, f"trailing bytes: payload exceeds the {want} bytes dims {dims} need")
    return payload, dtype, dims


def read_idx(path: str | os.PathLike, *, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file (see the module docstring for the checks).

    Parameters
    ----------
    path : str or os.PathLike
        A regular file, gzipped or not (detected by its first two bytes).
    max_bytes : int
        Largest payload accepted, ``prod(dims) * itemsize``; checked before any is read.

    Returns
    -------
    np.ndarray
        The array, in native byte order, with the shape the header gives (writeable).

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Not a regular file, bad magic, unknown dtype code, no or zero dimensions, a payload
        over ``max_bytes``, truncated header or payload, trailing bytes, or corrupt gzip data.
    """
    path = Path(path)
    with open_regular(path, EXPECTED) as handle:
        gzipped = False
        try:
            gzipped = handle.read(2) == GZIP_MAGIC
            handle.seek(0)
            if gzipped:
                stream = gzip.GzipFile(fileobj=handle, mode="rb")
                payload, dtype, dims = _read_payload(path, stream, None, max_bytes)
            else:
                payload, dtype, dims = _read_payload(path, handle, file_size(handle), max_bytes)
        except _STREAM_ERRORS as exc:
            what = "corrupt or truncated gzip data" if gzipped else "read error"
            raise _fail(path, f"{what} ({exc})") from exc
        except MemoryError as exc:
            raise _fail(path, "too large to hold in memory") from exc
    arr = np.frombuffer(payload, dtype=dtype).reshape(dims)  # writeable: backed by a bytearray
    native = dtype.newbyteorder("=")
    if native != dtype:
        arr = arr.byteswap(inplace=True).view(native)
    return arr


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool = False) -> Path:
    """Write an array as an IDX file (atomically).

    Parameters
    ----------
    path : str or os.PathLike
        Target file.
    array : np.ndarray
        Data of dtype uint8, int8, int16, int32, float32 or float64; 1 to 255 dimensions,
        none of size 0 (the reader refuses those).
    compress : bool
        Gzip the file.

    Returns
    -------
    Path
        ``path``.
    """
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"dtype {array.dtype} has no IDX code")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX holds 1 to 255 dimensions, got {array.ndim}")
    if not all(1 <= n < 1 << 32 for n in array.shape):
        raise ValueError(f"IDX dimensions must be 1 to 2**32 - 1, got {array.shape}")
    payload = (
        struct.pack(">HBB", 0, code, array.ndim)
        + struct.pack(f">{array.ndim}I", *array.shape)
        + array.astype(IDX_DTYPES[code], copy=False).tobytes()
    )
    if compress:
        payload = gzip.compress(payload, mtime=0)
    with atomic_open(path, "wb") as handle:
        handle.write(payload)
    return Path(path)
