"""Tests for lava_thesis.encoding: rate/direct coding and DVS event binning."""

from __future__ import annotations

import numpy as np
import pytest

from lava_thesis.encoding import (
    direct_input,
    events_to_frames,
    poisson_spikes,
    poisson_spikes_hz,
)

EVENT_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "<i1")])


def ev(rows: list[tuple[int, int, int, int]]) -> np.ndarray:
    return np.array(rows, dtype=EVENT_DTYPE)


# --- rate coding ---------------------------------------------------------------------------


def test_poisson_shape_dtype_and_extremes():
    x = np.zeros((3, 1, 4, 5))
    x[0] = 1.0
    s = poisson_spikes(x, 7, seed=0)
    assert s.shape == (3, 1, 4, 5, 7) and s.dtype == bool
    assert s[0].all() and not s[1:].any()


def test_poisson_rate_converges_to_probability():
    p = np.array([0.05, 0.3, 0.5, 0.9])
    s = poisson_spikes(p, 20_000, seed=123)
    # binomial std at T=20000 is <= 0.0036; 5 sigma
    np.testing.assert_allclose(s.mean(axis=-1), p, atol=0.018)
    s = poisson_spikes(p, 20_000, max_rate=0.5, seed=123)
    np.testing.assert_allclose(s.mean(axis=-1), 0.5 * p, atol=0.018)


def test_poisson_deterministic_by_seed_and_generator():
    x = np.linspace(0, 1, 50)
    a = poisson_spikes(x, 30, seed=7)
    np.testing.assert_array_equal(a, poisson_spikes(x, 30, seed=7))
    np.testing.assert_array_equal(a, poisson_spikes(x, 30, seed=np.random.default_rng(7)))
    assert not np.array_equal(a, poisson_spikes(x, 30, seed=8))


def test_poisson_accepts_torch_tensor():
    torch = pytest.importorskip("torch")
    s = poisson_spikes(torch.full((2, 3), 1.0), 4, seed=0)
    assert s.shape == (2, 3, 4) and s.all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": [0.5, 1.2], "num_steps": 3}, r"x must lie in \[0, 1\].*1\.2.*index 1"),
        ({"x": [-0.1], "num_steps": 3}, r"x must lie"),
        ({"x": [np.nan], "num_steps": 3}, r"x must lie"),
        ({"x": [0.5], "num_steps": 0}, r"num_steps"),
        ({"x": [0.5], "num_steps": 3, "max_rate": 1.5}, r"max_rate"),
    ],
)
def test_poisson_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        poisson_spikes(**kwargs)


def test_poisson_hz_diehl_cook_rate():
    pixels = np.array([0, 128, 255])
    # dt = 2 ms -> p = 0.1275 for a white pixel; 100k steps = 200 s, rate std ~0.5 Hz
    s = poisson_spikes_hz(pixels / 255, 100_000, max_hz=63.75, dt_ms=2.0, seed=3)
    hz = s.mean(axis=-1) * 1000 / 2.0
    np.testing.assert_allclose(hz, [0.0, 63.75 * 128 / 255, 63.75], atol=2.5)
    assert s[0].sum() == 0


def test_poisson_hz_validation():
    with pytest.raises(ValueError, match="max_hz"):
        poisson_spikes_hz([1.0], 5, max_hz=2000.0, dt_ms=1.0)
    with pytest.raises(ValueError, match="dt_ms"):
        poisson_spikes_hz([1.0], 5, max_hz=10.0, dt_ms=0.0)


def test_direct_input_repeats_analog_values():
    x = np.arange(6, dtype=np.float64).reshape(2, 3) / 10
    d = direct_input(x, 4)
    assert d.shape == (2, 3, 4) and d.dtype == np.float32
    for t in range(4):
        np.testing.assert_array_equal(d[..., t], x.astype(np.float32))
    with pytest.raises(ValueError, match="num_steps"):
        direct_input(x, 0)


# --- event frames --------------------------------------------------------------------------


def test_events_to_frames_counts_per_bin():
    # sensor 3 wide x 2 high; window [0, 100) -> 4 bins of 25 us
    e = ev([(0, 0, 0, 1), (0, 0, 10, 1), (2, 1, 30, 0), (2, 1, 99, 0), (1, 0, 50, 1)])
    f = events_to_frames(e, (3, 2), n_bins=4, t_start=0, t_stop=100)
    assert f.shape == (2, 2, 3, 4) and f.dtype == np.float32
    assert f.sum() == len(e)
    assert f[1, 0, 0].tolist() == [2, 0, 0, 0]
    assert f[0, 1, 2].tolist() == [0, 1, 0, 1]
    assert f[1, 0, 1].tolist() == [0, 0, 1, 0]


def test_events_to_frames_bin_us_default_window_and_binary():
    e = ev([(1, 1, 1000, 1), (1, 1, 1001, 1), (0, 0, 1250, 0)])
    f = events_to_frames(e, (2, 2), bin_us=100)  # window [1000, 1251) -> 3 bins
    assert f.shape == (2, 2, 2, 3)
    assert f[1, 1, 1].tolist() == [2, 0, 0] and f[0, 0, 0].tolist() == [0, 0, 1]
    b = events_to_frames(e, (2, 2), bin_us=100, mode="binary")
    assert b[1, 1, 1].tolist() == [1, 0, 0] and b.max() == 1.0


def test_events_to_frames_merged_polarity_and_window_crop():
    e = ev([(0, 0, 5, 0), (0, 0, 6, 1), (0, 0, 50, 1)])
    f = events_to_frames(e, (1, 1), n_bins=1, t_start=0, t_stop=10, polarity_channels=False)
    assert f.shape == (1, 1, 1, 1) and f[0, 0, 0, 0] == 2  # the t=50 event is outside


def test_events_to_frames_unsorted_events_same_result():
    rng = np.random.default_rng(0)
    n = 500
    e = np.zeros(n, EVENT_DTYPE)
    e["x"], e["y"] = rng.integers(0, 8, n), rng.integers(0, 6, n)
    e["t"], e["p"] = np.sort(rng.integers(0, 10_000, n)), rng.integers(0, 2, n)
    a = events_to_frames(e, (8, 6), n_bins=5)
    b = events_to_frames(e[rng.permutation(n)], (8, 6), n_bins=5)
    np.testing.assert_array_equal(a, b)
    assert a.sum() == n
    np.testing.assert_array_equal(a.sum(axis=(1, 2, 3)), np.bincount(e["p"], minlength=2))


def test_events_to_frames_empty():
    empty = ev([])
    f = events_to_frames(empty, (4, 3), bin_us=10, t_start=0, t_stop=35)
    assert f.shape == (2, 3, 4, 4) and not f.any()
    assert events_to_frames(empty, (4, 3), n_bins=2).shape == (2, 3, 4, 2)
    with pytest.raises(ValueError, match="no events"):
        events_to_frames(empty, (4, 3), bin_us=10)


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ([(0, 0, 0, 0), (3, 0, 1, 0)], r"'x'.*\[0, 3\).*events\[1\]\.x = 3"),
        ([(0, 0, 0, 0), (1, 0, 1, 0), (0, -1, 2, 0)], r"'y'.*events\[2\]\.y = -1"),
        ([(0, 0, 0, 2)], r"'p'.*events\[0\]\.p = 2"),
    ],
)
def test_events_to_frames_bounds(rows, match):
    with pytest.raises(ValueError, match=match):
        events_to_frames(ev(rows), (3, 1), n_bins=2)


def test_events_to_frames_argument_errors():
    e = ev([(0, 0, 0, 0)])
    with pytest.raises(ValueError, match="exactly one"):
        events_to_frames(e, (1, 1))
    with pytest.raises(ValueError, match="exactly one"):
        events_to_frames(e, (1, 1), n_bins=2, bin_us=5)
    with pytest.raises(ValueError, match="mode"):
        events_to_frames(e, (1, 1), n_bins=2, mode="sum")
    with pytest.raises(ValueError, match="t_stop"):
        events_to_frames(e, (1, 1), n_bins=2, t_start=10, t_stop=10)
    with pytest.raises(ValueError, match="missing"):
        events_to_frames(np.zeros(3, [("x", "i2"), ("y", "i2")]), (1, 1), n_bins=2)
