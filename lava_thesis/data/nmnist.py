"""N-MNIST: ATIS 40-bit binary event files, ``<root>/nmnist/{Train,Test}/<digit>/*.bin``.

Each event is 5 bytes: byte 0 x, byte 1 y, bit 7 of byte 2 the polarity, and a 23-bit
timestamp (µs) in the low 7 bits of byte 2 and bytes 3 and 4 (big-endian). An event with
y == 240 is a timestamp-overflow marker: it adds 2**13 µs to the timestamps that follow and
is not returned (the convention of the data set's reference reader).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lava_thesis.atomic import atomic_open
from lava_thesis.data.archive import ensure_archive
from lava_thesis.data.binfile import file_size, open_regular, read_exact
from lava_thesis.data.errors import DataFormatError, DataNotFoundError
from lava_thesis.data.events import check_events, make_events
from lava_thesis.data.root import resolve_data_dir
from lava_thesis.data.sources import NMNIST_TEST, NMNIST_TRAIN

SENSOR_SIZE = (34, 34)
URL = "https://www.garrickorchard.com/datasets/n-mnist (Train.zip, Test.zip)"
EXPECTED = "N-MNIST ATIS binary (5 bytes per event, 34x34 sensor)"
OVERFLOW_Y = 240
OVERFLOW_US = 1 << 13
MAX_T = (1 << 23) - 1
#: Default largest ``.bin`` file read (bytes).
MAX_BYTES = 16 << 20


def read_nmnist_bin(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES) -> np.ndarray:
    """Read one N-MNIST ``.bin`` recording.

    What is an error and what is not:

    - errors: not a regular file, an empty file, a size that is not a multiple of 5
      (a truncated record), a file over ``max_bytes``, an event (other than an overflow
      marker) with x or y outside the 34x34 sensor, timestamps that decrease (the
      recordings are written in time order; with the overflow markers applied, t never
      decreases in a valid file);
    - valid: any polarity bit (it is one bit, 0 or 1), equal timestamps, a file whose
      records are all overflow markers (zero events).

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    max_bytes : int
        Largest file accepted (N-MNIST recordings are about 20-40 kB).

    Returns
    -------
    np.ndarray
        :data:`~lava_thesis.data.events.EVENT_DTYPE` events, t in µs from the recording start.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Any of the errors listed above; the message names the file.
    """
    path = Path(path)
    with open_regular(path, EXPECTED) as handle:
        size = file_size(handle)
        if size == 0:
            raise DataFormatError(path, "empty file (no records)", EXPECTED)
        if size % 5:
            raise DataFormatError(path, f"size {size} bytes is not a multiple of 5", EXPECTED)
        if size > max_bytes:
            raise DataFormatError(path, f"size {size} over the limit of {max_bytes}", EXPECTED)
        try:
            raw = read_exact(handle, size)
        except OSError as exc:
            raise DataFormatError(path, f"read error ({exc})", EXPECTED) from exc
    if len(raw) != size:
        raise DataFormatError(path, f"changed while read ({len(raw)} of {size} bytes)", EXPECTED)
    r = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 5)
    t = (
        ((r[:, 2].astype(np.int64) & 0x7F) << 16)
        | (r[:, 3].astype(np.int64) << 8)
        | r[:, 4].astype(np.int64)
    )
    overflow = r[:, 1] == OVERFLOW_Y
    if overflow.any():
        t = t + OVERFLOW_US * np.cumsum(overflow)
        r, t = r[~overflow], t[~overflow]
    events = make_events(r[:, 0], r[:, 1], t, r[:, 2] >> 7)
    try:
        return check_events(events, SENSOR_SIZE)
    except ValueError as exc:
        raise DataFormatError(path, str(exc), EXPECTED) from exc


def write_nmnist_bin(path: str | os.PathLike, events: np.ndarray) -> Path:
    """Write events in the N-MNIST binary format (atomically); the inverse of the reader.

    Parameters
    ----------
    path : str or os.PathLike
        Target file.
    events : np.ndarray
        At least one event, with fields x, y, t, p; x, y < 34, t sorted and below 2**23 µs
        (no overflow markers are written, so t must fit the 23-bit field).

    Returns
    -------
    Path
        ``path``.
    """
    check_events(events, SENSOR_SIZE)
    if len(events) == 0:
        raise ValueError("no events: the reader refuses an empty N-MNIST file")
    t = events["t"].astype(np.int64)
    if len(t) and t[-1] > MAX_T:
        raise ValueError(f"events field 't' exceeds the 23-bit limit {MAX_T} µs")
    out = np.empty((len(events), 5), np.uint8)
    out[:, 0] = events["x"]
    out[:, 1] = events["y"]
    out[:, 2] = (events["p"].astype(np.int64) << 7) | (t >> 16)
    out[:, 3] = (t >> 8) & 0xFF
    out[:, 4] = t & 0xFF
    with atomic_open(path, "wb") as handle:
        handle.write(out.tobytes())
    return Path(path)


@dataclass(frozen=True)
class NmnistSample:
    """One N-MNIST recording: its file and its label; :meth:`read` loads the events."""

    path: Path
    label: int

    def read(self) -> np.ndarray:
        """Return the recording's events (see :func:`read_nmnist_bin`)."""
        return read_nmnist_bin(self.path)


def _samples(directory: Path) -> list[NmnistSample]:
    return [
        NmnistSample(p, digit)
        for digit in range(10)
        for p in sorted((directory / str(digit)).glob("*.bin"))
    ]


def load_nmnist(
    split: str = "train", data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> list[NmnistSample]:
    """List the N-MNIST recordings of a split (events are read lazily).

    Parameters
    ----------
    split : {"train", "test"}
        ``Train`` or ``Test`` folder.
    data_dir : str or os.PathLike, optional
        Data root; recordings are read from ``<root>/nmnist/{Train,Test}/<digit>/*.bin``.
    download : bool
        If the split folder holds no recordings, download the split's zip (MD5-verified, as
        published; see :data:`lava_thesis.data.sources.NMNIST_TRAIN`) and extract it.

    Returns
    -------
    list of NmnistSample
        Sorted by (label, file name).

    Raises
    ------
    DataNotFoundError
        The split folder is missing or holds no ``<digit>/*.bin`` files, and they cannot be
        downloaded.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    directory = resolve_data_dir(data_dir) / "nmnist" / split.capitalize()
    samples = _samples(directory)
    if not samples:
        ensure_archive(directory.parent, NMNIST_TRAIN if split == "train" else NMNIST_TEST,
                       download)
        samples = _samples(directory)
    if not samples:
        raise DataNotFoundError(directory, ["0/ ... 9/ folders of *.bin files"], URL)
    return samples
