"""The event array used by every event-camera loader (tonic's field names).

Checks made here (each a ``ValueError`` naming the field and the first bad index):
x and y integers inside the sensor when its size is given (and inside int16 always), t
finite, integer, non-negative and non-decreasing, p 0 or 1. Readers turn these into a
:class:`~lava_thesis.data.errors.DataFormatError` naming the file.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: x, y pixel; t in microseconds; p polarity 0 (OFF) or 1 (ON).
EVENT_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "<i1")])


def _first(bad: np.ndarray) -> int:
    return int(np.argmax(bad))


def _as_field(name: str, values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``values`` as ``dtype``, refusing non-numbers, NaN/inf, fractions and overflow."""
    if values.dtype == bool:
        return values.astype(dtype)
    if values.dtype.kind not in "iuf":
        raise ValueError(f"events field {name!r} has dtype {values.dtype}, not numeric")
    info = np.iinfo(dtype)
    if values.dtype.kind == "f":
        checks = [
            (~np.isfinite(values), "not finite"),
            (np.isfinite(values) & (values != np.round(values)), "not an integer"),
        ]
        for bad, what in checks:
            if bad.any():
                i = _first(bad)
                raise ValueError(f"events field {name!r} {what} at index {i} ({values[i]})")
    with np.errstate(invalid="ignore"):
        bad = (values < info.min) | (values > info.max)
    if bad.any():
        i = _first(bad)
        raise ValueError(
            f"events field {name!r} {values[i]} at index {i} does not fit {dtype} "
            f"[{info.min}, {info.max}]"
        )
    return values.astype(dtype)


def make_events(
    x: npt.ArrayLike, y: npt.ArrayLike, t: npt.ArrayLike, p: npt.ArrayLike
) -> np.ndarray:
    """Build an :data:`EVENT_DTYPE` array from equal-length field arrays.

    Values are converted exactly or refused: a NaN, infinite or fractional value, or one
    outside the field's integer type (int16 for x and y, int64 for t), is a ``ValueError``
    rather than a silently wrapped number.

    Parameters
    ----------
    x, y, t, p : array_like
        Pixel column, pixel row, timestamp (µs), polarity (0/1 or bool).

    Returns
    -------
    np.ndarray
        Structured array of dtype :data:`EVENT_DTYPE` (sensor bounds and time order are
        not checked here; see :func:`check_events`).

    Raises
    ------
    ValueError
        The lengths differ, or a value cannot be stored exactly.
    """
    cols = [np.asarray(a).ravel() for a in (x, y, t, p)]
    if len({len(c) for c in cols}) != 1:
        raise ValueError(f"x, y, t, p lengths differ: {[len(c) for c in cols]}")
    events = np.empty(len(cols[0]), EVENT_DTYPE)
    for name, col in zip(EVENT_DTYPE.names, cols, strict=True):
        events[name] = _as_field(name, col, EVENT_DTYPE[name])
    return events


def _check_sensor(sensor_size) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in sensor_size)
        exact = all(int(v) == v for v in sensor_size)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"sensor_size must be (width, height), got {sensor_size!r}") from exc
    if not exact or width < 1 or height < 1:
        raise ValueError(f"sensor_size must be two positive integers, got {sensor_size!r}")
    return width, height


def check_events(events: np.ndarray, sensor_size: tuple[int, int] | None = None) -> np.ndarray:
    """Validate an event array.

    Parameters
    ----------
    events : np.ndarray
        One-dimensional structured array with numeric fields x, y, t, p.
    sensor_size : (width, height), optional
        Positive integers; when given, ``0 <= x < width`` and ``0 <= y < height`` are required.

    Returns
    -------
    np.ndarray
        ``events`` unchanged.

    Raises
    ------
    ValueError
        Names the offending field and the first bad index: x or y not an integer or out of
        the sensor, t NaN, fractional, negative or decreasing, p not 0/1, missing or
        non-numeric fields, a bad ``sensor_size``, or an array that is not 1-D.
    """
    if not isinstance(events, np.ndarray):
        raise ValueError(f"events must be a numpy structured array, got {type(events).__name__}")
    names = events.dtype.names or ()
    missing = [f for f in ("x", "y", "t", "p") if f not in names]
    if missing:
        raise ValueError(f"events lack field(s) {missing}; dtype is {events.dtype}")
    if events.ndim != 1:
        raise ValueError(f"events must be 1-D, got shape {events.shape}")
    for name in ("x", "y", "t", "p"):
        kind = events.dtype[name].kind
        if kind not in "iufb":
            raise ValueError(f"events field {name!r} has dtype {events.dtype[name]}, not numeric")
        if kind == "f":
            col = events[name]
            bad = ~np.isfinite(col) | (col != np.round(col))
            if bad.any():
                i = _first(bad)
                raise ValueError(
                    f"events field {name!r} not a finite integer at index {i} (value {col[i]})"
                )
    checks = []
    if sensor_size is not None:
        width, height = _check_sensor(sensor_size)
        checks += [
            ("x", (events["x"] < 0) | (events["x"] >= width), f"outside [0, {width})"),
            ("y", (events["y"] < 0) | (events["y"] >= height), f"outside [0, {height})"),
        ]
    t = events["t"]
    decreasing = np.zeros(len(t), bool)
    decreasing[1:] = t[1:] < t[:-1]
    checks += [
        ("t", t < 0, "negative"),
        ("t", decreasing, "smaller than the previous timestamp (not sorted)"),
        ("p", (events["p"] != 0) & (events["p"] != 1), "not 0 or 1"),
    ]
    for field, bad, what in checks:
        if bad.any():
            i = _first(bad)
            raise ValueError(
                f"events field {field!r} {what} at index {i} (value {events[field][i]})"
            )
    return events
