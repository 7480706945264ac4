"""Tests for lava_thesis.plots: each plot writes a real PNG; bad inputs raise ValueError."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from lava_thesis.plots import (
    new_figure,
    plot_accuracy_vs_steps,
    plot_energy_bars,
    plot_raster,
    plot_receptive_fields,
    receptive_field_grid,
    save_figure,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path, min_bytes: int = 2000) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > min_bytes
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left


def test_no_pyplot_global_state():
    # the module draws on its own Agg canvases and never imports pyplot
    code = "import sys, lava_thesis.plots; sys.exit('matplotlib.pyplot' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
    assert type(new_figure().canvas).__name__ == "FigureCanvasAgg"


def test_save_figure_atomic_png(tmp_path):
    fig = new_figure()
    fig.add_subplot().plot([0, 1, 0])
    out = save_figure(fig, tmp_path / "sub" / "f.png")
    assert out == tmp_path / "sub" / "f.png"
    assert_png(out)


def test_accuracy_vs_steps(tmp_path):
    curves = {"DIET-SNN": ([1, 2, 5, 10], [0.5, 0.7, 0.85, 0.9]), "ANN": ((1, 10), (0.92, 0.92))}
    assert_png(plot_accuracy_vs_steps(curves, tmp_path / "acc.png", title="T sweep"))


@pytest.mark.parametrize(
    ("curves", "match"),
    [
        ({}, "empty"),
        ({"a": ([1, 2], [0.5])}, "'a'.*equal-length"),
        ({"a": ([], [])}, "'a'.*non-empty"),
        ({"a": ([1, 2], [50.0, 60.0])}, "'a'.*fractions"),
        ({"a": ([1], [0.5], [0])}, "'a'.*pair"),
    ],
)
def test_accuracy_vs_steps_errors(tmp_path, curves, match):
    with pytest.raises(ValueError, match=match):
        plot_accuracy_vs_steps(curves, tmp_path / "acc.png")
    assert not any(tmp_path.iterdir())


def test_receptive_field_grid_layout():
    w = np.arange(5 * 6, dtype=float).reshape(5, 6)  # 5 neurons of 2x3
    g = receptive_field_grid(w, (2, 3), ncols=2, normalize=False)
    assert g.shape == (3 * 3 - 1, 2 * 4 - 1)
    np.testing.assert_array_equal(g[0:2, 4:7], w[1].reshape(2, 3))
    np.testing.assert_array_equal(g[6:8, 0:3], w[4].reshape(2, 3))
    assert np.isnan(g[2]).all() and np.isnan(g[:, 3]).all() and np.isnan(g[6:8, 4:7]).all()
    n = receptive_field_grid(w, (2, 3), ncols=2)
    assert np.nanmin(n) == 0.0 and np.nanmax(n) == 1.0
    flat = receptive_field_grid(np.ones((1, 4)), (2, 2))  # constant tile: no division by zero
    assert np.isfinite(flat).all()


def test_receptive_fields_png(tmp_path):
    w = np.random.default_rng(0).random((100, 28 * 28))
    assert_png(plot_receptive_fields(w, tmp_path / "rf.png"))


@pytest.mark.parametrize(
    ("weights", "kw"),
    [
        (np.zeros((4, 10)), {}),
        (np.zeros(784), {}),
        (np.zeros((0, 784)), {}),
        (np.zeros((4, 784)), {"ncols": 0}),
    ],
)
def test_receptive_fields_errors(tmp_path, weights, kw):
    with pytest.raises(ValueError):
        plot_receptive_fields(weights, tmp_path / "rf.png", **kw)


def test_energy_bars(tmp_path):
    energies = {"ANN": 1.2e-3, "SNN (T=5)": 2.5e-4, "Loihi": 3e-6}
    assert_png(plot_energy_bars(energies, tmp_path / "e.png", unit="J", log=True))
    assert_png(plot_energy_bars({"a": 0.0, "b": 1.0}, tmp_path / "lin" / "e.png"))


@pytest.mark.parametrize(
    ("energies", "kw"),
    [({}, {}), ({"a": -1.0}, {}), ({"a": float("nan")}, {}), ({"a": 0.0}, {"log": True})],
)
def test_energy_bars_errors(tmp_path, energies, kw):
    with pytest.raises(ValueError):
        plot_energy_bars(energies, tmp_path / "e.png", **kw)


def test_raster(tmp_path):
    s = np.random.default_rng(1).random((20, 100)) < 0.05
    assert_png(plot_raster(s, tmp_path / "r.png"))
    assert_png(plot_raster(s.astype(np.int8), tmp_path / "ms" / "r.png", dt_ms=0.5))
    assert_png(plot_raster(np.zeros((3, 10), bool), tmp_path / "empty" / "r.png"), 1000)


@pytest.mark.parametrize(
    ("spikes", "kw"),
    [
        (np.zeros(10, bool), {}),
        (np.zeros((2, 3, 4), bool), {}),
        (np.full((2, 3), 0.5), {}),
        (np.zeros((2, 3), bool), {"dt_ms": 0.0}),
    ],
)
def test_raster_errors(tmp_path, spikes, kw):
    with pytest.raises(ValueError):
        plot_raster(spikes, tmp_path / "r.png", **kw)
