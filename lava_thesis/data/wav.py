"""Strict mono PCM WAV reading (and a small writer for tests and synthetic data)."""

from __future__ import annotations

import os
import struct
import wave
from math import gcd
from pathlib import Path

import numpy as np

from lava_thesis.atomic import atomic_path
from lava_thesis.data.bounded_read import read_file_bytes
from lava_thesis.data.errors import DataFormatError

EXPECTED = "mono PCM RIFF/WAVE file (8, 16, 24 or 32 bit)"
_PCM_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
#: Sample rates (Hz) a file may declare; anything else is refused as a corrupt header.
MIN_RATE, MAX_RATE = 1_000, 384_000
#: Largest WAV file read: 64 MiB (over an hour of 8 kHz 16-bit audio).
MAX_WAV_BYTES = 64 * 2**20
#: Largest resampled signal, in samples (over an hour at 8 kHz).
MAX_SAMPLES = 2**25
#: Largest up- or down-sampling factor (after dividing both rates by their gcd) the
#: polyphase resampler uses; its filter has 20 * factor + 1 taps.
MAX_RESAMPLE_FACTOR = 1_000


def _chunks(path: Path, raw: bytes) -> tuple[bytes, bytes]:
    """Return the bodies of the single ``fmt `` and ``data`` chunks of a RIFF/WAVE file."""
    if len(raw) < 12 or raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise DataFormatError(path, f"not a RIFF/WAVE file (starts with {raw[:12]!r})", EXPECTED)
    (riff_size,) = struct.unpack("<I", raw[4:8])
    end = min(len(raw), 8 + riff_size)
    found: dict[bytes, bytes] = {}
    pos = 12
    while pos < end:
        if pos + 8 > end:
            raise DataFormatError(path, f"truncated: chunk header at byte {pos} cut off", EXPECTED)
        cid = raw[pos : pos + 4]
        if not all(0x20 <= c <= 0x7E for c in cid):  # a chunk id is four printable characters
            raise DataFormatError(path, f"corrupt chunk id {cid!r} at byte {pos}", EXPECTED)
        (size,) = struct.unpack("<I", raw[pos + 4 : pos + 8])
        if pos + 8 + size > end:
            name = cid.decode("latin-1")
            raise DataFormatError(
                path,
                f"truncated: {name!r} chunk at byte {pos} declares {size} bytes, "
                f"{end - pos - 8} remain",
                EXPECTED,
            )
        if cid in (b"fmt ", b"data"):
            if cid in found:
                raise DataFormatError(path, f"two {cid.decode().strip()} chunks", EXPECTED)
            found[cid] = raw[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    for cid in (b"fmt ", b"data"):
        if cid not in found:
            raise DataFormatError(
                path, f"no {cid.decode().strip()} chunk (truncated?)", EXPECTED
            )
    if 8 + riff_size > len(raw):
        raise DataFormatError(
            path, f"truncated: the RIFF header declares {8 + riff_size} bytes, the file has "
            f"{len(raw)}", EXPECTED,
        )
    if len(raw) > 8 + riff_size + (riff_size & 1):  # a pad byte after an odd size is fine
        raise DataFormatError(
            path, f"{len(raw) - 8 - riff_size} bytes after the end of the RIFF chunk (at "
            f"byte {8 + riff_size}; inserted or appended data?)", EXPECTED,
        )
    return found[b"fmt "], found[b"data"]


def _parse(path: Path) -> tuple[int, int, int, bytes]:
    """Return (sample rate, channels, bits per sample, raw frames) of a mono PCM WAV file.

    The header must be consistent: chunk ids of printable ASCII, one ``fmt`` and one ``data``
    chunk, every chunk inside the RIFF size and the RIFF size equal to the file's,
    PCM (plain or WAVE_FORMAT_EXTENSIBLE), one channel, 8/16/24/32-bit samples with a block
    align of bits / 8, a byte rate of rate * block align, a rate in [MIN_RATE, MAX_RATE], and
    whole, non-empty frames.
    """
    raw = read_file_bytes(path, EXPECTED, MAX_WAV_BYTES)
    fmt, data = _chunks(path, raw)
    if len(fmt) < 16:
        raise DataFormatError(path, f"fmt chunk of only {len(fmt)} bytes", EXPECTED)
    tag, channels, rate, byte_rate, align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == 0xFFFE and len(fmt) >= 40 and fmt[26:40] == _PCM_GUID_TAIL:
        (tag,) = struct.unpack("<H", fmt[24:26])  # WAVE_FORMAT_EXTENSIBLE subformat
    if tag != 1:
        raise DataFormatError(path, f"not PCM (format tag 0x{tag:04x})", EXPECTED)
    if channels != 1:
        raise DataFormatError(path, f"not mono: {channels} channels", EXPECTED)
    if bits not in (8, 16, 24, 32) or align != bits // 8:
        raise DataFormatError(path, f"unsupported {bits}-bit samples, block {align}", EXPECTED)
    if rate == 0:
        raise DataFormatError(path, "sample rate 0 Hz (corrupt header)", EXPECTED)
    if not MIN_RATE <= rate <= MAX_RATE:
        raise DataFormatError(
            path, f"sample rate {rate} Hz outside [{MIN_RATE}, {MAX_RATE}] Hz", EXPECTED
        )
    if byte_rate != rate * align:
        raise DataFormatError(
            path, f"inconsistent header: byte rate {byte_rate} != {rate} Hz * {align} bytes",
            EXPECTED,
        )
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
        The file: a regular file (never opened if it is a directory, FIFO or device) of at
        most ``MAX_WAV_BYTES`` (64 MiB).
    expected_rate : int or None
        Required sample rate in Hz; ``None`` accepts any rate in [``MIN_RATE``, ``MAX_RATE``]
        (1 kHz to 384 kHz).
    resample : bool
        Resample a file of another rate to ``expected_rate`` (polyphase, scipy) instead of
        refusing it. The rates, divided by their gcd, give the up/down factors, each at most
        ``MAX_RESAMPLE_FACTOR``; the result may hold at most ``MAX_SAMPLES`` samples.

    Returns
    -------
    np.ndarray
        float32, shape (n_samples,).

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Not a regular file, too large, not a RIFF/WAVE file, truncated (a chunk or the RIFF
        size runs past the end of the file), two ``fmt``/``data`` chunks, not PCM, not mono,
        an unsupported sample width or block align, a sample rate outside
        [``MIN_RATE``, ``MAX_RATE``] or inconsistent with the byte rate, no samples, or (without
        ``resample``) a sample rate other than ``expected_rate``; with ``resample``, a rate
        ratio or output length beyond the bounds above.
    """
    path = Path(path)
    if expected_rate is not None and not MIN_RATE <= expected_rate <= MAX_RATE:
        raise ValueError(f"expected_rate must be in [{MIN_RATE}, {MAX_RATE}] Hz or None, "
                         f"got {expected_rate}")
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
    g = gcd(rate, expected_rate)
    up, down = expected_rate // g, rate // g
    n_out = -(-len(samples) * up // down)
    if max(up, down) > MAX_RESAMPLE_FACTOR or n_out > MAX_SAMPLES:
        raise DataFormatError(
            path,
            f"cannot resample {rate} Hz to {expected_rate} Hz (factors {up}/{down}, "
            f"{n_out} samples; at most {MAX_RESAMPLE_FACTOR} and {MAX_SAMPLES})",
            f"{expected_rate} Hz {EXPECTED}",
        )
    from scipy.signal import resample_poly

    out = resample_poly(samples, up, down)
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
