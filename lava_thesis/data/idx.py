"""IDX files (the MNIST format), gzipped or not: a strict reader and a small writer."""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from lava_thesis.atomic import atomic_open
from lava_thesis.data.errors import DataFormatError

EXPECTED = "IDX file (magic 0x0000 + dtype code + ndim, big-endian dims, payload), gzip optional"
GZIP_MAGIC = b"\x1f\x8b"

# IDX dtype code -> big-endian numpy dtype
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_bytes_maybe_gzip(path: str | os.PathLike, expected: str) -> bytes:
    """Read a file, decompressing it when it starts with the gzip magic bytes.

    Parameters
    ----------
    path : str or os.PathLike
        The file; gzip is detected by its first two bytes (``1f 8b``), not by its name.
    expected : str
        Format description used in the error message.

    Raises
    ------
    DataFormatError
        The gzip stream is corrupt or truncated.
    """
    raw = Path(path).read_bytes()
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(path, f"corrupt or truncated gzip data ({exc})", expected) from exc


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file.

    Parameters
    ----------
    path : str or os.PathLike
        The file, gzipped or not.

    Returns
    -------
    np.ndarray
        The array, in native byte order, with the shape the header gives.

    Raises
    ------
    DataFormatError
        Bad magic, unknown dtype code, truncated header, or a payload that is not exactly
        as long as the header's dimensions say.
    """
    data = read_bytes_maybe_gzip(path, EXPECTED)
    if len(data) < 4:
        raise DataFormatError(path, f"only {len(data)} bytes, no IDX header", EXPECTED)
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in IDX_DTYPES:
        raise DataFormatError(path, f"bad magic number 0x{data[:4].hex()}", EXPECTED)
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFormatError(path, f"truncated header ({len(data)} of {header} bytes)", EXPECTED)
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_DTYPES[code]
    want = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    have = len(data) - header
    if have != want:
        what = "truncated" if have < want else "trailing bytes"
        raise DataFormatError(
            path, f"{what}: payload is {have} bytes, dims {dims} need {want}", EXPECTED
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool = False) -> Path:
    """Write an array as an IDX file (atomically).

    Parameters
    ----------
    path : str or os.PathLike
        Target file.
    array : np.ndarray
        Data of dtype uint8, int8, int16, int32, float32 or float64 (at most 255 dims).
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
    if array.ndim > 255:
        raise ValueError("IDX supports at most 255 dimensions")
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
