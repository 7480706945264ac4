"""AEDAT 4 event recordings (DV / iniVation cameras), decoded with the ``aedat`` package."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lava_thesis.data.errors import DataFormatError
from lava_thesis.data.events import check_events, make_events

EXPECTED = "AEDAT 4.0 file (header '#!AER-DAT4.0') with an events stream"
MAGIC = b"#!AER-DAT"
_PACKET_DTYPE = np.dtype([("t", "<u8"), ("x", "<u2"), ("y", "<u2"), ("on", "?")])


def read_aedat4(
    path: str | os.PathLike, *, stream_id: int | None = None, relative_time: bool = True
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

    Returns
    -------
    events : np.ndarray
        :data:`~lava_thesis.data.events.EVENT_DTYPE`, t in µs, p = 1 for ON events.
    sensor_size : (int, int)
        (width, height) of the events stream.

    Raises
    ------
    DataFormatError
        Not an AEDAT 4 file (AEDAT 2/3 files are named as such), no events stream, or a
        corrupt or truncated file.
    """
    import aedat  # imported here: a compiled extension only the event loaders need

    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(16)
    if not head.startswith(MAGIC + b"4"):
        if head.startswith(MAGIC):
            version = head[len(MAGIC) :].split(b"\n")[0].strip().decode("ascii", "replace")
            problem = f"an AEDAT {version} file, which read_aedat4 does not read"
        else:
            problem = f"not an AEDAT file (starts with {head[:12]!r})"
        raise DataFormatError(path, problem, EXPECTED)
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
    except RuntimeError as exc:  # the decoder reports every I/O and format problem this way
        raise DataFormatError(path, f"corrupt or truncated ({exc})", EXPECTED) from exc
    raw = np.concatenate(packets) if packets else np.empty(0, _PACKET_DTYPE)
    t = raw["t"].astype(np.int64)
    if relative_time and len(t):
        t = t - t[0]
    events = make_events(raw["x"], raw["y"], t, raw["on"])
    try:
        return check_events(events, size), size
    except ValueError as exc:
        raise DataFormatError(path, str(exc), EXPECTED) from exc
