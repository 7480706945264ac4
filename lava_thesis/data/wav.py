"""Strict mono PCM WAV reading (and a small writer for tests and synthetic data)."""

from __future__ import annotations

import os
import struct
import wave
from math import gcd
from pathlib import Path

import numpy as np

from lava_thesis.atomic import atomic_path
from lava_thesis.data.errors import DataFormatError

EXPECTED = "mono PCM RIFF/WAVE file (8, 16, 24 or 32 bit)"
_PCM_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def _parse(path: Path) -> tuple[int, int, int, bytes]:
    """Return (sample rate, channels, bits per sample, raw frames) of a PCM WAV file."""
    raw = path.read_bytes()
    if len(raw) < 12 or raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise DataFormatError(path, f"not a RIFF/WAVE file (starts with {raw[:12]!r})", EXPECTED)
    fmt: tuple[int, int, int, int, int] | None = None
    data: bytes | None = None
    pos = 12
    while pos + 8 <= len(raw):
        cid = raw[pos : pos + 4]
        (size,) = struct.unpack("<I", raw[pos + 4 : pos + 8])
        body = raw[pos + 8 : pos + 8 + size]
        if len(body) < size and cid in (b"fmt ", b"data"):
            raise DataFormatError(
                path, f"truncated: {cid.decode()!r} chunk has {len(body)} of {size} bytes", EXPECTED
            )
        if cid == b"fmt ":
            if size < 16:
                raise DataFormatError(path, f"fmt chunk of only {size} bytes", EXPECTED)
            tag, channels, rate, _, align, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE and size >= 40 and body[26:40] == _PCM_GUID_TAIL:
                (tag,) = struct.unpack("<H", body[24:26])  # WAVE_FORMAT_EXTENSIBLE subformat
            fmt = (tag, channels, rate, align, bits)
        elif cid == b"data":
            data = body
        pos += 8 + size + (size & 1)
    if fmt is None or data is None:
        missing = "fmt" if fmt is None else "data"
        raise DataFormatError(path, f"no {missing} chunk (truncated?)", EXPECTED)
    tag, channels, rate, align, bits = fmt
    if tag != 1:
        raise DataFormatError(path, f"not PCM (format tag 0x{tag:04x})", EXPECTED)
    if channels != 1:
        raise DataFormatError(path, f"not mono: {channels} channels", EXPECTED)
    if bits not in (8, 16, 24, 32) or align != bits // 8:
        raise DataFormatError(path, f"unsupported {bits}-bit samples, block {align}", EXPECTED)
    if len(data) % align:
        raise DataFormatError(path, f"truncated: data is not whole {align}-byte frames", EXPECTED)
    if not data:
        raise DataFormatError(path, "empty: 0 samples", EXPECTED)
    return rate, channels, bits, data


def _to_float(data: bytes, bits: int) -> np.ndarray:
    if bits == 8:
        return (np.frombuffer(data, np.uint8).astype(np.float32) - 128.0) / 128.0
    if bits == 24:
        b = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        ints = ints - ((ints & 0x800000) << 1)  # sign-extend 24 -> 32 bit
        return (ints / float(1 << 23)).astype(np.float32)
    ints = np.frombuffer(data, "<i2" if bits == 16 else "<i4")
    return (ints / float(1 << (bits - 1))).astype(np.float32)


def read_wav(
    path: str | os.PathLike, expected_rate: int | None = 8000, resample: bool = False
) -> np.ndarray:
    """Read a mono PCM WAV file as float32 samples in [-1, 1].

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    expected_rate : int or None
        Required sample rate in Hz; ``None`` accepts any rate.
    resample : bool
        Resample a file of another rate to ``expected_rate`` (polyphase, scipy) instead of
        refusing it.

    Returns
    -------
    np.ndarray
        float32, shape (n_samples,).

    Raises
    ------
    DataFormatError
        Not a RIFF/WAVE file, truncated, not PCM, not mono, no samples, or (without
        ``resample``) a sample rate other than ``expected_rate``.
    """
    path = Path(path)
    rate, _, bits, data = _parse(path)
    samples = _to_float(data, bits)
    if expected_rate is None or rate == expected_rate:
        return samples
    if not resample:
        raise DataFormatError(
            path,
            f"sample rate {rate} Hz (pass resample=True to resample)",
            f"{expected_rate} Hz {EXPECTED}",
        )
    from scipy.signal import resample_poly

    g = gcd(rate, expected_rate)
    out = resample_poly(samples, expected_rate // g, rate // g)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def write_wav(
    path: str | os.PathLike, samples: np.ndarray, rate: int = 8000, *, channels: int = 1
) -> Path:
    """Write 16-bit PCM WAV (atomically).

    Parameters
    ----------
    path : str or os.PathLike
        Target file.
    samples : np.ndarray
        Floats in [-1, 1] (clipped), shape (n,) or (n, channels).
    rate : int
        Sample rate in Hz.
    channels : int
        Number of channels; ``samples`` is interleaved accordingly.

    Returns
    -------
    Path
        ``path``.
    """
    ints = np.round(np.clip(np.asarray(samples, np.float64), -1, 1) * 32767).astype("<i2")
    with atomic_path(path) as tmp, wave.open(str(tmp), "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(ints.tobytes())
    return Path(path)
