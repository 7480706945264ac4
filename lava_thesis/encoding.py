"""Input encodings for spiking networks: rate (Poisson), direct (analog) and event frames.

Every encoder returns numpy arrays with time on the LAST axis, the layout of lava-dl SLAYER:
``(..., T)``, e.g. ``(N, C, T)`` or ``(N, C, H, W, T)``. Inputs may be anything
:func:`numpy.asarray` accepts (lists, numpy arrays, CPU torch tensors).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["direct_input", "events_to_frames", "poisson_spikes", "poisson_spikes_hz"]

_EVENT_FIELDS = ("x", "y", "t", "p")


def _check_steps(num_steps: int) -> int:
    if isinstance(num_steps, bool) or not isinstance(num_steps, int | np.integer):
        raise TypeError(f"num_steps must be an int, got {type(num_steps).__name__}")
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    return int(num_steps)


def _as_unit_interval(x: ArrayLike, name: str = "x") -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.size and not (np.all(np.isfinite(arr)) and arr.min() >= 0.0 and arr.max() <= 1.0):
        bad = np.flatnonzero(~((arr >= 0.0) & (arr <= 1.0)))[0]
        raise ValueError(f"{name} must lie in [0, 1]; found {arr.flat[bad]!r} at flat index {bad}")
    return arr


def poisson_spikes(
    x: ArrayLike,
    num_steps: int,
    *,
    max_rate: float = 1.0,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    r"""Bernoulli ("Poisson") rate coding: each step spikes independently with probability p.

    .. math:: s[..., t] \sim \mathrm{Bernoulli}(p), \qquad p = x \cdot r_{max}

    Parameters
    ----------
    x : array_like, values in [0, 1], any shape ``S``
        Normalised intensities.
    num_steps : int >= 1
        Number of time steps ``T``.
    max_rate : float in [0, 1]
        Spike probability per step for ``x = 1``.
    seed : None, int or numpy.random.Generator
        Same seed -> same spikes. A Generator is used (and advanced) as is.

    Returns
    -------
    numpy.ndarray of bool, shape ``S + (T,)``

    Examples
    --------
    >>> s = poisson_spikes([0.0, 1.0], num_steps=4, seed=0)
    >>> s.shape, s.dtype
    ((2, 4), dtype('bool'))
    >>> s.sum(axis=-1).tolist()
    [0, 4]
    """
    num_steps = _check_steps(num_steps)
    if not np.isfinite(max_rate) or not 0.0 <= max_rate <= 1.0:
        raise ValueError(f"max_rate must be a probability per step in [0, 1], got {max_rate}")
    p = _as_unit_interval(x) * float(max_rate)
    rng = np.random.default_rng(seed)
    # uniform in [0, 1): p = 0 never fires, p = 1 always fires.
    return rng.random(p.shape + (num_steps,)) < p[..., None]


def poisson_spikes_hz(
    x: ArrayLike,
    num_steps: int,
    *,
    max_hz: float,
    dt_ms: float = 1.0,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    r"""Rate coding given in Hz (Diehl & Cook 2015 style).

    .. math:: p = x \cdot f_{max} \cdot \Delta t, \qquad \Delta t = dt\_ms / 1000

    Diehl & Cook feed pixel intensity / 4 Hz, i.e. ``x = pixel / 255`` with ``max_hz = 63.75``.

    Parameters
    ----------
    x : array_like, values in [0, 1], shape ``S``
    num_steps : int >= 1
    max_hz : float >= 0
        Firing rate in Hz for ``x = 1``. ``max_hz * dt_ms / 1000`` must be <= 1.
    dt_ms : float > 0
        Duration of one step in milliseconds.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    numpy.ndarray of bool, shape ``S + (T,)``

    Examples
    --------
    >>> pixels = np.array([[0, 255]])
    >>> s = poisson_spikes_hz(pixels / 255, num_steps=350, max_hz=63.75, seed=0)
    >>> s.shape  # p = 0.06375 per 1 ms step for the white pixel, 0 for the black one
    (1, 2, 350)
    >>> int(s[0, 0].sum())
    0
    """
    if not np.isfinite(dt_ms) or dt_ms <= 0:
        raise ValueError(f"dt_ms must be > 0, got {dt_ms}")
    if not np.isfinite(max_hz) or max_hz < 0:
        raise ValueError(f"max_hz must be >= 0, got {max_hz}")
    p_max = max_hz * dt_ms / 1000.0
    if p_max > 1.0:
        raise ValueError(
            f"max_hz * dt_ms / 1000 = {p_max:g} > 1: max_hz={max_hz} is too high for "
            f"dt_ms={dt_ms} (at most one spike per step)"
        )
    return poisson_spikes(x, num_steps, max_rate=p_max, seed=seed)


def direct_input(x: ArrayLike, num_steps: int) -> np.ndarray:
    r"""Direct (analog) coding: the same float input at every step, :math:`s[..., t] = x`.

    Parameters
    ----------
    x : array_like, shape ``S``
    num_steps : int >= 1

    Returns
    -------
    numpy.ndarray of float32, shape ``S + (T,)``
        A READ-ONLY broadcast view (no copy, the T steps share memory). Call ``.copy()``
        before writing into it.

    Examples
    --------
    >>> direct_input([0.5, 2.0], 3).tolist()
    [[0.5, 0.5, 0.5], [2.0, 2.0, 2.0]]
    """
    num_steps = _check_steps(num_steps)
    arr = np.asarray(x, dtype=np.float32)
    return np.broadcast_to(arr[..., None], arr.shape + (num_steps,))


def _check_events(events: np.ndarray, width: int, height: int) -> None:
    names = getattr(getattr(events, "dtype", None), "names", None) or ()
    missing = [f for f in _EVENT_FIELDS if f not in names]
    if missing:
        raise ValueError(
            f"events must be a structured array with fields {_EVENT_FIELDS}; missing {missing}"
        )
    if events.ndim != 1:
        raise ValueError(f"events must be 1-D, got shape {events.shape}")
    for field, size in (("x", width), ("y", height)):
        vals = events[field]
        bad = np.flatnonzero((vals < 0) | (vals >= size))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"event field {field!r} out of sensor range [0, {size}): "
                f"events[{i}].{field} = {int(vals[i])} ({bad.size} bad events)"
            )
    bad = np.flatnonzero((events["p"] != 0) & (events["p"] != 1))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"event field 'p' must be 0 or 1: events[{i}].p = {int(events['p'][i])}")


def events_to_frames(
    events: np.ndarray,
    sensor_size: tuple[int, int],
    *,
    n_bins: int | None = None,
    bin_us: int | None = None,
    t_start: int | None = None,
    t_stop: int | None = None,
    polarity_channels: bool = True,
    mode: str = "count",
) -> np.ndarray:
    r"""Bin DVS events into frames ``(C, height, width, n_bins)``, time last.

    Events in the window ``[t_start, t_stop)`` are binned; the others are dropped.

    .. math::
        b = \lfloor (t - t_{start}) \, n_{bins} / (t_{stop} - t_{start}) \rfloor
        \quad\text{or}\quad b = \lfloor (t - t_{start}) / bin\_us \rfloor

        F[c, y, x, b] = \#\{\text{events at } (x, y) \text{ with polarity } c
        \text{ in bin } b\}

    Parameters
    ----------
    events : structured numpy array, shape ``(E,)``
        Fields ``x``, ``y``, ``t`` (int microseconds) and ``p`` (0 = OFF, 1 = ON), as
        ``lava_thesis.data.events.EVENT_DTYPE``. Need not be sorted.
    sensor_size : (width, height)
    n_bins : int, optional
        Number of equal-length bins over the window. Exactly one of ``n_bins`` / ``bin_us``.
    bin_us : int, optional
        Bin length in microseconds; ``n_bins = ceil((t_stop - t_start) / bin_us)``.
    t_start, t_stop : int, optional
        Window in microseconds; default ``min(t)`` and ``max(t) + 1``.
    polarity_channels : bool
        True: channel 0 = OFF, 1 = ON (``C = 2``). False: polarities summed (``C = 1``).
    mode : {"count", "binary"}
        Event counts, or 1.0 where at least one event fell in the cell.

    Returns
    -------
    numpy.ndarray of float32, shape ``(C, height, width, n_bins)``

    Examples
    --------
    >>> ev = np.array([(0, 0, 0, 1), (1, 0, 5, 0), (1, 0, 9, 0)],
    ...               dtype=[("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "<i1")])
    >>> f = events_to_frames(ev, (2, 1), n_bins=2)
    >>> f.shape
    (2, 1, 2, 2)
    >>> f[1, 0, 0].tolist(), f[0, 0, 1].tolist()
    ([1.0, 0.0], [0.0, 2.0])
    """
    if (n_bins is None) == (bin_us is None):
        raise ValueError("give exactly one of n_bins and bin_us")
    if mode not in ("count", "binary"):
        raise ValueError(f"mode must be 'count' or 'binary', got {mode!r}")
    width, height = (int(s) for s in sensor_size)
    if width < 1 or height < 1:
        raise ValueError(f"sensor_size must be positive (width, height), got {sensor_size}")
    if n_bins is not None and n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    if bin_us is not None and bin_us < 1:
        raise ValueError(f"bin_us must be >= 1 microsecond, got {bin_us}")
    _check_events(events, width, height)
    n_ch = 2 if polarity_channels else 1

    t = events["t"].astype(np.int64)
    if t.size == 0 and (t_start is None or t_stop is None) and n_bins is None:
        raise ValueError("no events: give t_start and t_stop (or n_bins) to fix the frame count")
    start = int(t.min()) if t_start is None and t.size else int(t_start or 0)
    stop = int(t.max()) + 1 if t_stop is None and t.size else int(t_stop or start + 1)
    if stop <= start:
        raise ValueError(f"t_stop ({stop}) must be greater than t_start ({start})")
    duration = stop - start
    bins = int(n_bins) if n_bins is not None else -(-duration // int(bin_us))

    keep = (t >= start) & (t < stop)
    dt = t[keep] - start
    b = dt * bins // duration if n_bins is not None else dt // int(bin_us)
    c = events["p"][keep].astype(np.int64) if polarity_channels else 0
    flat = (
        (c * height + events["y"][keep].astype(np.int64)) * width
        + events["x"][keep].astype(np.int64)
    ) * bins + b
    frames = np.bincount(flat, minlength=n_ch * height * width * bins).astype(np.float32)
    frames = frames.reshape(n_ch, height, width, bins)
    if mode == "binary":
        frames = (frames > 0).astype(np.float32)
    return frames
