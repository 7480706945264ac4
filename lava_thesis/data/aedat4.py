"""AEDAT 4 event recordings (DV / iniVation cameras), decoded with the ``aedat`` package."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lava_thesis.data.aedat4_layout import MAGIC4, LayoutError, check_layout
from lava_thesis.data.binfile import file_size, open_regular
from lava_thesis.data.errors import DataFormatError
from lava_thesis.data.events import check_events, make_events

EXPECTED = "AEDAT 4.0 file (header '#!AER-DAT4.0') with an events stream"
MAGIC = b"#!AER-DAT"
#: Default limit on the decoded size of all packets together (bytes).
MAX_DECODED_BYTES = 512 << 20
_PACKET_DTYPE = np.dtype([("t", "<u8"), ("x", "<u2"), ("y", "<u2"), ("on", "?")])


def read_aedat4(
    path: str | os.PathLike,
    *,
    stream_id: int | None = None,
    relative_time: bool = True,
    max_bytes: int = MAX_DECODED_BYTES,
) -> tuple[np.ndarray, tuple[int, int]]:
    """Read the polarity events of an AEDAT 4 file.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    stream_id : int, optional
        Which events stream to read; default the one with the lowest id.
    relative_time : bool
        Subtract the first event's timestamp, so t starts at 0 µs (default). Set false to
        keep the camera's absolute timestamps (µs since the Unix epoch).
    max_bytes : int
        Limit on the decoded size of all packets, bounded from the packet and compression
        block headers before anything is decoded (see :mod:`lava_thesis.data.aedat4_layout`).

    Returns
    -------
    events : np.ndarray
        :data:`~lava_thesis.data.events.EVENT_DTYPE`, t in µs, p = 1 for ON events.
    sensor_size : (int, int)
        (width, height) of the events stream.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Not a regular file, not an AEDAT 4 file (AEDAT 2/3 files are named as such), no
        events stream, a layout that does not match the file size, packets over
        ``max_bytes``, any error of the decoder, or events outside the sensor or unsorted.
    """
    path = Path(path)
    with open_regular(path, EXPECTED) as handle:
        size = file_size(handle)
        try:
            head = handle.read(16)
            if head.startswith(MAGIC4):
                handle.seek(0)
                check_layout(handle, size, max_bytes)
        except LayoutError as exc:
            raise DataFormatError(path, f"corrupt or truncated ({exc})", EXPECTED) from exc
        except OSError as exc:
            raise DataFormatError(path, f"read error ({exc})", EXPECTED) from exc
    if not head.startswith(MAGIC4):
        if head.startswith(MAGIC):
            version = head[len(MAGIC) :].split(b"\n")[0].strip().decode("ascii", "replace")
            problem = f"an AEDAT {version} file, which read_aedat4 does not read"
        else:
            problem = f"not an AEDAT file (starts with {head[:14]!r})"
        raise DataFormatError(path, problem, EXPECTED)
    packets, size = _decode(path, stream_id)
    try:
        raw = np.concatenate(packets) if packets else np.empty(0, _PACKET_DTYPE)
        t = raw["t"].astype(np.int64)
        if np.any(raw["t"] > np.iinfo(np.int64).max):
            raise ValueError("events field 't' beyond int64")
        if relative_time and len(t):
            t = t - t[0]
        events = make_events(raw["x"], raw["y"], t, raw["on"])
        return check_events(events, size), size
    except (ValueError, TypeError, KeyError) as exc:
        raise DataFormatError(path, str(exc), EXPECTED) from exc


def _decode(path: Path, stream_id: int | None) -> tuple[list[np.ndarray], tuple[int, int]]:
    """Run the ``aedat`` decoder; any exception it raises (a Rust panic derives from
    ``BaseException``) becomes a DataFormatError naming the file."""
    import aedat  # imported here: a compiled extension only the event loaders need

    try:
        decoder = aedat.Decoder(str(path))
        streams = decoder.id_to_stream()
        event_ids = sorted(i for i, s in streams.items() if s.get("type") == "events")
        if not event_ids or (stream_id is not None and stream_id not in event_ids):
            which = "no events stream" if stream_id is None else f"no events stream {stream_id}"
            raise DataFormatError(path, f"{which}; streams: {streams}", EXPECTED)
        sid = event_ids[0] if stream_id is None else stream_id
        size = (int(streams[sid]["width"]), int(streams[sid]["height"]))
        packets = [p["events"] for p in decoder if p["stream_id"] == sid and "events" in p]
    except DataFormatError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 (pyo3's PanicException is a BaseException)
        raise DataFormatError(
            path, f"corrupt or truncated ({type(exc).__name__}: {exc})", EXPECTED
        ) from exc
    if size[0] < 1 or size[1] < 1:
        raise DataFormatError(path, f"events stream {sid} has sensor size {size}", EXPECTED)
    if any(p.dtype.names is None or not {"t", "x", "y", "on"} <= set(p.dtype.names)
           for p in packets):
        raise DataFormatError(path, "events packet without t, x, y, on fields", EXPECTED)
    return packets, size
