"""Synthetic N-MNIST-like events: DVS pixel model, saccades, noise, frames, cached data set."""

from __future__ import annotations

import numpy as np
import pytest

from lava_thesis.data.events import check_events, make_events
from lava_thesis.lite.events_dataset import build_synthetic_events, synthetic_nmnist
from lava_thesis.lite.events_synth import (
    SynthConfig,
    events_to_frames,
    saccade_offsets,
    synthesize_events,
)

QUIET = {"noise_rate_hz": 0.0, "mismatch": 0.0}


def _digits(n: int = 4, seed: int = 0) -> np.ndarray:
    """Blocky random 'digits': bright strokes on black, like MNIST."""
    rng = np.random.default_rng(seed)
    imgs = np.zeros((n, 28, 28), np.uint8)
    for img in imgs:
        r, c = rng.integers(4, 18, 2)
        img[r:r + 8, c:c + 3] = 255
        img[r:r + 3, c:c + 8] = 200
    return imgs


def test_output_is_valid_sorted_and_in_the_sensor():
    cfg = SynthConfig()
    for ev in synthesize_events(_digits(3), cfg):
        assert check_events(ev, cfg.sensor_size) is ev
        assert len(ev) > 500 and ev["t"].max() < cfg.duration_us
        assert 0.3 < ev["p"].mean() < 0.7  # ON and OFF both present


def test_saccade_path_is_a_closed_triangle():
    cfg = SynthConfig()
    ox, oy = saccade_offsets(np.arange(4) * cfg.saccade_us, cfg)
    assert list(zip(ox, oy, strict=True)) == [*cfg.vertices, cfg.vertices[0]]
    x_mid, _ = saccade_offsets(cfg.saccade_us // 2, cfg)
    assert x_mid == pytest.approx(4.5)  # halfway from x=6 to x=3 at mid-saccade


def test_blank_image_gives_only_noise():
    blank = np.zeros((28, 28), np.uint8)  # black, like the monitor around the digit
    assert len(synthesize_events(blank, SynthConfig(noise_rate_hz=0.0))[0]) == 0
    cfg = SynthConfig(noise_rate_hz=20.0)
    ev = synthesize_events(blank, cfg, seed=3)[0]
    expected = 20.0 * cfg.duration_us * 1e-6 * 34 * 34
    assert abs(len(ev) - expected) < 5 * np.sqrt(expected)
    assert 0.4 < ev["p"].mean() < 0.6 and ev["x"].min() == 0 and ev["x"].max() == 33
    # the pixel model's settings do not matter: every event is noise
    sensitive = SynthConfig(noise_rate_hz=20.0, threshold=0.01, mismatch=0.3)
    np.testing.assert_array_equal(ev, synthesize_events(blank, sensitive, seed=3)[0])


def test_moving_bright_pixel_on_at_leading_edge_off_at_trailing_edge():
    cfg = SynthConfig(vertices=((0.0, 0.0), (6.0, 0.0)), **QUIET)  # right, then back left
    img = np.zeros((28, 28), np.uint8)
    img[10, 10] = 255
    ev = synthesize_events(img, cfg)[0]
    assert set(ev["y"].tolist()) == {10}
    spot_x = 10 + saccade_offsets(ev["t"], cfg)[0]
    lead = ev["x"] - spot_x  # > 0: ahead of the spot when moving right
    first = ev["t"] < cfg.saccade_us
    on, off = ev["p"] == 1, ev["p"] == 0
    assert (first & on).sum() > 5 and (first & off).sum() > 5
    assert (lead[first & on] > 0).all() and (lead[first & off] < 0).all()
    assert (lead[~first & on] < 0).all() and (lead[~first & off] > 0).all()  # moving left
    # the scene returns to where it started: per pixel, ON and OFF counts differ by <= 1
    assert abs(int(on.sum()) - int(off.sum())) <= len(np.unique(ev["x"]))


def test_event_count_falls_as_the_contrast_threshold_rises():
    imgs = _digits(2)
    counts = [sum(len(e) for e in synthesize_events(imgs, SynthConfig(threshold=c, **QUIET)))
              for c in (0.15, 0.3, 0.6)]
    assert counts[0] > counts[1] > counts[2] > 0
    assert counts[0] / counts[2] > 2.5  # roughly proportional to 1 / threshold


def test_refractory_period_spaces_each_pixels_events():
    cfg = SynthConfig(refractory_us=5_000, **QUIET)
    ev = synthesize_events(_digits(1), cfg)[0]
    step = ev["t"] // cfg.dt_us
    for pix in np.unique(ev["y"].astype(int) * 34 + ev["x"]):
        s = step[ev["y"].astype(int) * 34 + ev["x"] == pix]
        assert (np.diff(s) >= 5).all()
    assert len(ev) < len(synthesize_events(_digits(1), SynthConfig(**QUIET))[0])


def test_deterministic_per_seed_and_independent_of_chunking():
    imgs = _digits(5)
    a = synthesize_events(imgs, seed=1)
    b = synthesize_events(imgs, seed=1, chunk=2)
    c = synthesize_events(imgs[3:], seed=1, first_index=3)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a[3:], c, strict=True):
        np.testing.assert_array_equal(x, y)
    d = synthesize_events(imgs, seed=2)
    assert any(len(x) != len(y) or (x != y).any() for x, y in zip(a, d, strict=True))


def test_frames_count_the_events_in_range():
    cfg = SynthConfig()
    ev = synthesize_events(_digits(1), cfg)[0]
    frames = events_to_frames(ev, cfg.sensor_size, 10, cfg.duration_us)
    assert frames.shape == (10, 2, 34, 34) and frames.dtype == np.float32
    assert frames.sum() == len(ev)
    assert frames[:, 1].sum() == (ev["p"] == 1).sum()
    half = events_to_frames(ev, cfg.sensor_size, 3, cfg.duration_us // 2)
    assert half.sum() == (ev["t"] < cfg.duration_us // 2).sum()
    one = make_events([2], [5], [250], [1])
    f = events_to_frames(one, (4, 6), 4, 1000)  # sensor (width 4, height 6)
    assert f.shape == (4, 2, 6, 4) and f[1, 1, 5, 2] == 1 and f.sum() == 1


def test_frames_reject_out_of_bounds_events_naming_the_field():
    ev = make_events([0, 34], [0, 0], [0, 1], [0, 1])
    with pytest.raises(ValueError, match="'x' outside"):
        events_to_frames(ev, (34, 34), 2, 100)
    one = make_events([0], [0], [0], [0])
    for n_bins, duration in ((0, 100), (2.5, 100), (2, float("nan")), (2, 0), (2, 1e3)):
        with pytest.raises(ValueError, match="n_bins must be an integer"):
            events_to_frames(one, (34, 34), n_bins, duration)
    with pytest.raises(ValueError, match="'y' outside"):
        events_to_frames(make_events([0], [40], [0], [0]), (34, 34), 2, 100)


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="uint8"):
        synthesize_events(np.zeros((28, 28), np.float32))
    with pytest.raises(ValueError, match="multiple"):
        SynthConfig(saccade_us=1500, dt_us=1000)


def test_dataset_is_cached_by_settings(tmp_path):
    imgs, labels = _digits(3), np.array([1, 2, 3])
    data = build_synthetic_events(imgs, labels, seed=0, cache_dir=tmp_path)
    files = list(tmp_path.glob("synthetic_nmnist_*.npz"))
    assert len(files) == 1 and len(data) == 3 and data.labels.tolist() == [1, 2, 3]
    stamp = (files[0].stat().st_ino, files[0].stat().st_mtime_ns)
    direct = synthesize_events(imgs, seed=0)
    for i in range(3):
        np.testing.assert_array_equal(data.events(i), direct[i])
    assert data.frames(0, 5).sum() == len(direct[0])
    again = build_synthetic_events(imgs, labels, seed=0, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.all_events, data.all_events)
    assert (files[0].stat().st_ino, files[0].stat().st_mtime_ns) == stamp  # read, not rewritten
    build_synthetic_events(imgs, labels, SynthConfig(threshold=0.3), cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 2


def test_synthetic_nmnist_from_real_mnist(data_root, tmp_path):
    data = synthetic_nmnist("test", 4, data_root, cache_dir=tmp_path)
    assert len(data) == 4 and data.labels.tolist() == [7, 2, 1, 0]
    n = [len(data.events(i)) for i in range(4)]
    assert all(1000 < k < 20000 for k in n)  # the real sample recording has 4,325 events
