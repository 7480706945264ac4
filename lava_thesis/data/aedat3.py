"""AEDAT 3.1 event recordings (jAER / cAER, the format of the released DVS128 Gesture files) and
the gesture data set's ``<recording>_labels.csv`` files.

Format (iniVation's AEDAT 3.1 specification): an ASCII header of lines that begin with ``#``,
the first ``#!AER-DAT3.1``, the last ``#!END-HEADER``; then packets, each a 28-byte
little-endian header::

    eventType int16, eventSource int16, eventSize int32, eventTSOffset int32,
    eventTSOverflow int32, eventCapacity int32, eventNumber int32, eventValid int32

followed by ``eventNumber * eventSize`` bytes of events. A polarity event (type 1, 8 bytes) is
``uint32 data, int32 timestamp``: bit 0 of ``data`` says whether the event is valid, bit 1 is
the polarity, bits 2-16 hold y and bits 17-31 x; its time in µs is
``eventTSOverflow * 2**31 + timestamp``. Invalid events and packets of other types (special
events, frames, IMU samples) are skipped.

The DVS128 Gesture data set (Amir et al., 2017; 29 subjects, 11 gestures, 3 lighting
conditions) ships each recording as ``userNN_<lighting>.aedat`` beside
``userNN_<lighting>_labels.csv`` (``class,startTime_usec,endTime_usec``; classes 1-11), and
lists its train and test recordings in ``trials_to_train.txt`` / ``trials_to_test.txt``.
:func:`gesture_samples` cuts a recording into one event array per labelled gesture.

Example
-------
>>> import numpy as np
>>> labels = np.array([(3, 100, 200)], dtype=LABEL_DTYPE)
>>> from lava_thesis.data.events import make_events
>>> ev = make_events([1, 2, 3], [4, 5, 6], [50, 150, 250], [1, 0, 1])
>>> ((sample, label),) = gesture_samples(ev, labels)
>>> label, len(sample)
(2, 1)
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from lava_thesis.data.binfile import file_size, open_regular, read_exact
from lava_thesis.data.errors import DataFormatError
from lava_thesis.data.events import check_events, make_events

EXPECTED = "AEDAT 3.1 file (header '#!AER-DAT3.1' ... '#!END-HEADER', polarity packets)"
EXPECTED_LABELS = "DVS128 Gesture labels CSV (class,startTime_usec,endTime_usec; classes 1-11)"
MAGIC = b"#!AER-DAT3.1"
END_HEADER = b"#!END-HEADER"
#: sensor of the DVS128 (width, height)
DVS128 = (128, 128)
POLARITY_EVENT = 1
PACKET_HEADER = np.dtype([("type", "<i2"), ("source", "<i2"), ("size", "<i4"),
                          ("ts_offset", "<i4"), ("ts_overflow", "<i4"), ("capacity", "<i4"),
                          ("number", "<i4"), ("valid", "<i4")])
_POLARITY = np.dtype([("data", "<u4"), ("t", "<i4")])
#: limits: header bytes, and all events of a file together (bytes)
MAX_HEADER_BYTES = 1 << 20
MAX_EVENT_BYTES = 512 << 20
GESTURE_CLASSES = 11
LABEL_DTYPE = np.dtype([("label", "<i2"), ("start", "<i8"), ("end", "<i8")])
_LABEL_HEADER = "class,startTime_usec,endTime_usec"


def read_aedat3(
    path: str | os.PathLike,
    *,
    sensor_size: tuple[int, int] = DVS128,
    relative_time: bool = False,
    max_bytes: int = MAX_EVENT_BYTES,
) -> np.ndarray:
    """Read the valid polarity events of an AEDAT 3.1 file.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    sensor_size : (int, int)
        (width, height) the events must lie in (the DVS128's by default).
    relative_time : bool
        Subtract the first event's time (default false: the DVS128 Gesture labels refer to
        the recording's own timestamps).
    max_bytes : int
        Limit on the event bytes the packet headers announce, checked before they are read.

    Returns
    -------
    np.ndarray
        :data:`~lava_thesis.data.events.EVENT_DTYPE`, t in µs, p = 1 for ON events.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Not a regular file; no ``#!AER-DAT3.1`` header (other AEDAT versions are named) or no
        ``#!END-HEADER`` within :data:`MAX_HEADER_BYTES`; a truncated packet; a packet header
        that contradicts itself (negative counts, ``valid > number > capacity``, a polarity
        event size other than 8, a timestamp offset other than 4); packets announcing more
        than ``max_bytes``; events outside the sensor or out of time order.
    """
    path = Path(path)
    with open_regular(path, EXPECTED) as handle:
        size = file_size(handle)
        try:
            start = _skip_header(path, handle)
            packets = _read_packets(path, handle, size - start, max_bytes)
        except OSError as exc:
            raise DataFormatError(path, f"read error ({exc})", EXPECTED) from exc
    raw = np.concatenate([p for p, _ in packets]) if packets else np.empty(0, _POLARITY)
    overflow = np.concatenate([np.full(len(p), o, np.int64) for p, o in packets]) \
        if packets else np.empty(0, np.int64)
    keep = (raw["data"] & 1).astype(bool)
    data, t = raw["data"][keep], raw["t"][keep].astype(np.int64) + (overflow[keep] << 31)
    if relative_time and len(t):
        t = t - t[0]
    try:
        events = make_events((data >> 17) & 0x7FFF, (data >> 2) & 0x7FFF, t, (data >> 1) & 1)
        return check_events(events, sensor_size)
    except ValueError as exc:
        raise DataFormatError(path, str(exc), EXPECTED) from exc


def _skip_header(path: Path, handle) -> int:
    """Check the magic line and read up to ``#!END-HEADER``; return the data's offset."""
    first = handle.readline(len(MAGIC) + 8)
    if not first.startswith(MAGIC):
        if first.startswith(b"#!AER-DAT"):
            version = first[len(b"#!AER-DAT"):].strip().decode("ascii", "replace")
            problem = f"an AEDAT {version} file, which read_aedat3 does not read"
        else:
            problem = f"not an AEDAT file (starts with {first[:14]!r})"
        raise DataFormatError(path, problem, EXPECTED)
    if not first.endswith(b"\n"):
        handle.readline(MAX_HEADER_BYTES)  # the rest of an overlong first line
    while handle.tell() <= MAX_HEADER_BYTES:
        line = handle.readline(MAX_HEADER_BYTES)
        if not line:
            raise DataFormatError(path, "the header has no '#!END-HEADER' line", EXPECTED)
        if line.startswith(END_HEADER):
            return handle.tell()
        if not line.startswith(b"#"):
            raise DataFormatError(path, f"header line at byte {handle.tell() - len(line)} does "
                                        "not start with '#' before '#!END-HEADER'", EXPECTED)
    raise DataFormatError(path, f"no '#!END-HEADER' in the first {MAX_HEADER_BYTES} bytes",
                          EXPECTED)


def _read_packets(path: Path, handle, remaining: int, max_bytes: int
                  ) -> list[tuple[np.ndarray, int]]:
    """The polarity packets after the header, each ``(events, timestamp overflow)`` (other
    types are skipped)."""
    packets, announced, offset = [], 0, handle.tell()
    while remaining > 0:
        raw = read_exact(handle, PACKET_HEADER.itemsize)
        if len(raw) < PACKET_HEADER.itemsize:
            raise DataFormatError(path, f"truncated packet header at byte {offset} "
                                        f"({len(raw)} of {PACKET_HEADER.itemsize} bytes)",
                                  EXPECTED)
        head = np.frombuffer(raw, PACKET_HEADER)[0]
        kind, size, number = int(head["type"]), int(head["size"]), int(head["number"])
        where = f"packet at byte {offset} (type {kind})"
        if size < 1 or number < 0 or not 0 <= int(head["valid"]) <= number <= \
                int(head["capacity"]):
            raise DataFormatError(path, f"{where}: inconsistent header (size {size}, number "
                                        f"{number}, valid {int(head['valid'])}, capacity "
                                        f"{int(head['capacity'])})", EXPECTED)
        length = size * number
        remaining -= PACKET_HEADER.itemsize
        if length > remaining:
            raise DataFormatError(path, f"{where}: announces {length} bytes of events, "
                                        f"{remaining} are left (truncated)", EXPECTED)
        announced += length
        if announced > max_bytes:
            raise DataFormatError(path, f"packets announce more than {max_bytes} bytes of "
                                        "events (the max_bytes limit)", EXPECTED)
        if kind == POLARITY_EVENT:
            if size != _POLARITY.itemsize or int(head["ts_offset"]) != 4:
                raise DataFormatError(path, f"{where}: polarity events of {size} bytes with "
                                            f"the timestamp at {int(head['ts_offset'])} "
                                            "(expected 8 and 4)", EXPECTED)
            if int(head["ts_overflow"]) < 0:
                raise DataFormatError(path, f"{where}: negative timestamp overflow", EXPECTED)
            packets.append((np.frombuffer(read_exact(handle, length), _POLARITY),
                            int(head["ts_overflow"])))
        else:
            handle.seek(length, os.SEEK_CUR)
        remaining -= length
        offset += PACKET_HEADER.itemsize + length
    return packets


def read_gesture_labels(path: str | os.PathLike) -> np.ndarray:
    """Read a DVS128 Gesture ``*_labels.csv``: :data:`LABEL_DTYPE` rows (class 1-11, start and
    end in µs, ``start < end``).

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Not a regular file, not UTF-8 text, a header other than
        ``class,startTime_usec,endTime_usec``, a row that is not three integers, a class
        outside 1-11, or ``start >= end`` (each naming the line).
    """
    path = Path(path)
    with open_regular(path, EXPECTED_LABELS) as handle:
        raw = read_exact(handle, MAX_HEADER_BYTES + 1)
    if len(raw) > MAX_HEADER_BYTES:
        raise DataFormatError(path, f"larger than {MAX_HEADER_BYTES} bytes", EXPECTED_LABELS)
    try:
        lines = bytes(raw).decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataFormatError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                              EXPECTED_LABELS) from exc
    if not lines or lines[0].strip().lstrip("\ufeff") != _LABEL_HEADER:
        head = lines[0][:60] if lines else ""
        raise DataFormatError(path, f"header {head!r}, not {_LABEL_HEADER!r}", EXPECTED_LABELS)
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.strip().split(",")
        if len(parts) != 3 or not all(re.fullmatch(r"\d{1,18}", p.strip()) for p in parts):
            raise DataFormatError(path, f"line {number}: {line[:60]!r} is not three "
                                        "non-negative integers", EXPECTED_LABELS)
        label, start, end = (int(p) for p in parts)
        if not 1 <= label <= GESTURE_CLASSES:
            raise DataFormatError(path, f"line {number}: class {label} outside 1-"
                                        f"{GESTURE_CLASSES}", EXPECTED_LABELS)
        if start >= end:
            raise DataFormatError(path, f"line {number}: start {start} is not before end {end}",
                                  EXPECTED_LABELS)
        rows.append((label, start, end))
    return np.array(rows, dtype=LABEL_DTYPE)


def gesture_samples(events: np.ndarray, labels: np.ndarray
                    ) -> list[tuple[np.ndarray, int]]:
    """One ``(events, class)`` per labelled gesture: the events with ``start <= t < end``,
    times relative to ``start``, the class 0-based (0-10)."""
    t = events["t"]
    samples = []
    for row in labels:
        lo, hi = np.searchsorted(t, [row["start"], row["end"]], side="left")
        piece = events[lo:hi].copy()
        piece["t"] -= row["start"]
        samples.append((piece, int(row["label"]) - 1))
    return samples


def read_gesture_recording(path: str | os.PathLike, *, sensor_size: tuple[int, int] = DVS128
                           ) -> list[tuple[np.ndarray, int]]:
    """A DVS128 Gesture recording ``<name>.aedat`` with its ``<name>_labels.csv`` (beside it),
    cut into one ``(events, class)`` sample per gesture (:func:`gesture_samples`)."""
    path = Path(path)
    labels = read_gesture_labels(path.with_name(f"{path.stem}_labels.csv"))
    return gesture_samples(read_aedat3(path, sensor_size=sensor_size), labels)
