"""Figures for the thesis experiments, drawn without pyplot's global state.

Every function builds a :class:`matplotlib.figure.Figure` on an Agg canvas (safe on headless
machines and in threads, whatever backend pyplot uses), saves it atomically with
:func:`save_figure` and returns the written path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

from lava_thesis.atomic import atomic_path

__all__ = [
    "new_figure",
    "plot_accuracy_vs_steps",
    "plot_energy_bars",
    "plot_raster",
    "plot_receptive_fields",
    "plot_seed_lines",
    "receptive_field_grid",
    "save_figure",
]


def new_figure(figsize: tuple[float, float] = (6.0, 4.0)) -> Figure:
    """A Figure attached to its own Agg canvas (no pyplot)."""
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 120) -> Path:
    """Save ``fig`` atomically; the format follows the suffix (PNG when there is none).

    Examples
    --------
    >>> import tempfile
    >>> fig = new_figure()
    >>> _ = fig.add_subplot().plot([0, 1])
    >>> save_figure(fig, tempfile.mkdtemp() + "/line.png").read_bytes()[:4]
    b'\\x89PNG'
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi)
    return path


def plot_seed_lines(ax, x: Sequence[float], lines: Mapping[str, ArrayLike], *,
                    xlabel: str, ylabel: str, title: str = "",
                    xticklabels: Sequence[str] | None = None) -> None:
    """One line per entry of ``lines`` (label -> values ``(seeds, len(x))``) on ``ax``: the mean
    over seeds with markers, and the min-max band when there are several seeds. The ablation
    plots share it.

    Examples
    --------
    >>> ax = new_figure().add_subplot()
    >>> plot_seed_lines(ax, [1, 2], {"a": [[0.5, 0.7], [0.6, 0.9]]}, xlabel="T", ylabel="acc")
    >>> [round(float(y), 2) for y in ax.lines[0].get_ydata()]
    [0.55, 0.8]
    """
    for label, values in lines.items():
        values = np.atleast_2d(np.asarray(values, np.float64))
        ax.plot(x, values.mean(0), marker="o", label=label)
        if len(values) > 1:
            ax.fill_between(x, values.min(0), values.max(0), alpha=0.2)
    if xticklabels is not None:
        ax.set_xticks(x, xticklabels)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend()


def plot_accuracy_vs_steps(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    path: str | Path,
    *,
    title: str = "Accuracy vs. time steps",
) -> Path:
    """Line plot of accuracy (fractions in [0, 1], drawn in %) against time steps ``T``.

    Parameters
    ----------
    curves : {label: (steps, accuracy)}
        Two equal-length 1-D sequences per curve.
    path : path of the image

    Examples
    --------
    >>> import tempfile
    >>> p = plot_accuracy_vs_steps({"SNN": ([1, 2, 5], [0.6, 0.8, 0.9])},
    ...                            tempfile.mkdtemp() + "/acc.png")
    """
    if not curves:
        raise ValueError("curves is empty")
    fig = new_figure()
    ax = fig.add_subplot()
    for label, curve in curves.items():
        if len(curve) != 2:
            raise ValueError(f"curve {label!r} must be a (steps, accuracy) pair")
        steps, acc = (np.asarray(c, dtype=np.float64) for c in curve)
        if steps.ndim != 1 or steps.shape != acc.shape or steps.size == 0:
            raise ValueError(
                f"curve {label!r}: steps and accuracy must be equal-length non-empty 1-D "
                f"sequences, got shapes {steps.shape} and {acc.shape}"
            )
        if not (np.all(np.isfinite(acc)) and acc.min() >= 0.0 and acc.max() <= 1.0):
            raise ValueError(f"curve {label!r}: accuracy must be fractions in [0, 1]")
        ax.plot(steps, 100.0 * acc, marker="o", label=str(label))
    ax.set_xlabel("time steps T")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def receptive_field_grid(
    weights: ArrayLike,
    shape: tuple[int, int] = (28, 28),
    *,
    ncols: int | None = None,
    normalize: bool = True,
) -> np.ndarray:
    """Tile the rows of ``weights`` ``(n_neurons, h * w)`` into one 2-D image.

    Tile ``i`` sits at grid row ``i // ncols``, column ``i % ncols``; tiles are separated by
    one-pixel NaN gutters, and unused grid cells are NaN, so the result has shape
    ``(nrows * (h + 1) - 1, ncols * (w + 1) - 1)`` with ``nrows = ceil(n / ncols)``.

    Parameters
    ----------
    weights : array_like, shape ``(n_neurons, h * w)``
        Row ``i`` is neuron ``i``'s weights from the ``h x w`` input pixels (row-major).
    shape : (h, w)
    ncols : int, optional
        Tiles per row; default ``ceil(sqrt(n_neurons))``.
    normalize : bool
        Scale each tile to its own [0, 1] range (shows structure); else keep raw values.

    Examples
    --------
    >>> receptive_field_grid(np.arange(8).reshape(2, 4), (2, 2), normalize=False)
    array([[ 0.,  1., nan,  4.,  5.],
           [ 2.,  3., nan,  6.,  7.]])
    """
    w = np.asarray(weights, dtype=np.float64)
    h, wd = (int(s) for s in shape)
    if w.ndim != 2 or w.shape[0] == 0 or w.shape[1] != h * wd:
        raise ValueError(f"weights must have shape (n_neurons, {h}*{wd}={h * wd}), got {w.shape}")
    n = w.shape[0]
    ncols = int(ncols) if ncols is not None else math.ceil(math.sqrt(n))
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    nrows = math.ceil(n / ncols)
    tiles = w.reshape(n, h, wd)
    if normalize:
        lo = tiles.min(axis=(1, 2), keepdims=True)
        span = tiles.max(axis=(1, 2), keepdims=True) - lo
        tiles = (tiles - lo) / np.where(span > 0, span, 1.0)
    padded = np.full((nrows * ncols, h + 1, wd + 1), np.nan)
    padded[:n, :h, :wd] = tiles
    grid = padded.reshape(nrows, ncols, h + 1, wd + 1).transpose(0, 2, 1, 3)
    return grid.reshape(nrows * (h + 1), ncols * (wd + 1))[:-1, :-1]


def plot_receptive_fields(
    weights: ArrayLike,
    path: str | Path,
    *,
    shape: tuple[int, int] = (28, 28),
    ncols: int | None = None,
    normalize: bool = True,
    title: str | None = None,
) -> Path:
    """Plot every neuron's input weights as a ``shape`` tile in one grid image.

    Parameters
    ----------
    weights : array_like, shape ``(n_neurons, h * w)``
        E.g. the input->excitatory weights of a Diehl & Cook STDP network.
    path : path of the image
    shape, ncols, normalize
        As in :func:`receptive_field_grid`.

    Examples
    --------
    >>> import tempfile
    >>> w = np.random.default_rng(0).random((9, 16))
    >>> p = plot_receptive_fields(w, tempfile.mkdtemp() + "/rf.png", shape=(4, 4))
    """
    grid = receptive_field_grid(weights, shape, ncols=ncols, normalize=normalize)
    n = np.asarray(weights).shape[0]
    aspect = grid.shape[1] / grid.shape[0]
    side = min(10.0, 2.0 + 0.02 * max(grid.shape))
    fig = new_figure((side * min(aspect, 1.0) + 1.2, side / max(aspect, 1.0) + 0.5))
    ax = fig.add_subplot()
    image = ax.imshow(grid, cmap="hot_r", interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title or f"receptive fields ({n} neurons)")
    fig.colorbar(image, ax=ax, shrink=0.8)
    return save_figure(fig, path)


def plot_energy_bars(
    energy_by_model: Mapping[str, float],
    path: str | Path,
    *,
    unit: str = "J",
    log: bool = False,
    title: str = "Energy per inference",
) -> Path:
    """Bar chart of (non-negative) energy per model, each bar labelled with its value.

    Examples
    --------
    >>> import tempfile
    >>> p = plot_energy_bars({"ANN": 2e-3, "SNN": 3e-4}, tempfile.mkdtemp() + "/e.png")
    """
    if not energy_by_model:
        raise ValueError("energy_by_model is empty")
    names = [str(k) for k in energy_by_model]
    values = np.asarray(list(energy_by_model.values()), dtype=np.float64)
    if values.ndim != 1 or not np.all(np.isfinite(values)) or values.min() < 0:
        raise ValueError(f"energies must be finite and >= 0, got {values.tolist()}")
    if log and values.min() <= 0:
        raise ValueError("log scale needs energies > 0")
    fig = new_figure((max(4.0, 1.2 * len(names) + 2.0), 4.0))
    ax = fig.add_subplot()
    bars = ax.bar(names, values, color="tab:blue")
    ax.bar_label(bars, labels=[f"{v:.3g}" for v in values], padding=2)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(f"energy ({unit})")
    ax.set_title(title)
    return save_figure(fig, path)


def plot_raster(
    spikes: ArrayLike,
    path: str | Path,
    *,
    dt_ms: float | None = None,
    title: str = "Spike raster",
) -> Path:
    """Spike raster of a bool array ``(n_neurons, T)`` (time last); 0/1 ints accepted.

    Examples
    --------
    >>> import tempfile
    >>> s = np.random.default_rng(0).random((5, 50)) < 0.1
    >>> p = plot_raster(s, tempfile.mkdtemp() + "/raster.png")
    """
    s = np.asarray(spikes)
    if s.ndim != 2:
        raise ValueError(f"spikes must have shape (n_neurons, T), got {s.shape}")
    if s.dtype != bool:
        if not np.all((s == 0) | (s == 1)):
            raise ValueError("spikes must be boolean (or 0/1)")
        s = s.astype(bool)
    if dt_ms is not None and not (math.isfinite(dt_ms) and dt_ms > 0):
        raise ValueError(f"dt_ms must be > 0, got {dt_ms}")
    neuron, step = np.nonzero(s)
    scale = 1.0 if dt_ms is None else float(dt_ms)
    fig = new_figure((6.0, min(8.0, 1.5 + 0.15 * s.shape[0])))
    ax = fig.add_subplot()
    ax.scatter(step * scale, neuron, marker="|", s=30, color="k", linewidths=1)
    ax.set_xlim(-0.5 * scale, (s.shape[1] - 0.5) * scale)
    ax.set_ylim(-0.5, s.shape[0] - 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("time step" if dt_ms is None else "time (ms)")
    ax.set_ylabel("neuron")
    ax.set_title(title)
    return save_figure(fig, path)


def plot_model_bars(metrics: dict[str, float], models: Sequence[str], names: Sequence[str],
                    path: str | Path, *, params_key: str = "params", log_energy: bool = False,
                    colors: str | Sequence[str] = "tab:blue", title: str = "",
                    score: tuple[str, str] = ("test_accuracy", "test accuracy"),
                    per_seed: Mapping[str, Sequence[float]] | None = None) -> Path:
    """Three bar panels comparing ``models`` (labelled ``names``): a score (``<m>_<key>`` for
    ``score = (key, label)``, default the test accuracy), parameters (``<m>_<params_key>``,
    thousands) and energy per inference (``<m>_energy_pj``, uJ; log axis with ``log_energy``).
    A bar whose metric has values in ``per_seed`` (the results file's ``extra.per_seed``) gets
    an error bar from the smallest to the largest seed's value (the bar is their mean)."""
    fig = new_figure((11.0, 3.6))
    energy = "energy / inference (µJ, log)" if log_energy else "energy / inference (µJ)"
    panels = ((score[0], 1.0, score[1]), (params_key, 1e3, "parameters (k)"),
              ("energy_pj", 1e6, energy))
    for i, (key, scale, label) in enumerate(panels):
        ax = fig.add_subplot(1, 3, i + 1)
        values = [metrics[f"{m}_{key}"] / scale for m in models]
        spread = [per_seed.get(f"{m}_{key}") if per_seed else None for m in models]
        yerr = None if not any(s and min(s) < max(s) for s in spread) else np.array(
            [[max(v - min(s) / scale, 0.0), max(max(s) / scale - v, 0.0)] if s else [0.0, 0.0]
             for v, s in zip(values, spread, strict=True)]).T
        bars = ax.bar(list(names), values, color=colors, yerr=yerr, capsize=4)
        ax.bar_label(bars, labels=[f"{v:.3g}" for v in values], padding=2)
        if log_energy and key == "energy_pj":
            ax.set_yscale("log")
        ax.margins(y=0.12)
        ax.set_title(label)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
