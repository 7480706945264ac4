"""The event array used by every event-camera loader (tonic's field names)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: x, y pixel; t in microseconds; p polarity 0 (OFF) or 1 (ON).
EVENT_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "<i1")])


def make_events(
    x: npt.ArrayLike, y: npt.ArrayLike, t: npt.ArrayLike, p: npt.ArrayLike
) -> np.ndarray:
    """Build an :data:`EVENT_DTYPE` array from equal-length field arrays.

    Parameters
    ----------
    x, y, t, p : array_like
        Pixel column, pixel row, timestamp (µs), polarity (0/1 or bool).

    Returns
    -------
    np.ndarray
        Structured array of dtype :data:`EVENT_DTYPE` (not validated; see
        :func:`check_events`).
    """
    cols = [np.asarray(a).ravel() for a in (x, y, t, p)]
    if len({len(c) for c in cols}) != 1:
        raise ValueError(f"x, y, t, p lengths differ: {[len(c) for c in cols]}")
    events = np.empty(len(cols[0]), EVENT_DTYPE)
    for name, col in zip(EVENT_DTYPE.names, cols, strict=True):
        events[name] = col
    return events


def check_events(events: np.ndarray, sensor_size: tuple[int, int] | None = None) -> np.ndarray:
    """Validate an event array.

    Parameters
    ----------
    events : np.ndarray
        Array with fields x, y, t, p.
    sensor_size : (width, height), optional
        When given, ``0 <= x < width`` and ``0 <= y < height`` are required.

    Returns
    -------
    np.ndarray
        ``events`` unchanged.

    Raises
    ------
    ValueError
        Names the offending field and the first bad index: x or y out of the sensor, t
        negative or decreasing, p not 0/1, or missing fields.
    """
    names = events.dtype.names or ()
    missing = [f for f in ("x", "y", "t", "p") if f not in names]
    if missing:
        raise ValueError(f"events lack field(s) {missing}; dtype is {events.dtype}")
    checks = []
    if sensor_size is not None:
        width, height = sensor_size
        checks += [
            ("x", (events["x"] < 0) | (events["x"] >= width), f"outside [0, {width})"),
            ("y", (events["y"] < 0) | (events["y"] >= height), f"outside [0, {height})"),
        ]
    t = events["t"]
    decreasing = np.zeros(len(t), bool)
    decreasing[1:] = np.diff(t) < 0
    checks += [
        ("t", t < 0, "negative"),
        ("t", decreasing, "smaller than the previous timestamp (not sorted)"),
        ("p", (events["p"] != 0) & (events["p"] != 1), "not 0 or 1"),
    ]
    for field, bad, what in checks:
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"events field {field!r} {what} at index {i} (value {events[field][i]})"
            )
    return events
