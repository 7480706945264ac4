"""N-MNIST binary files: the real sample, round trips, overflow markers, bad files, layout."""

from __future__ import annotations

import numpy as np
import pytest

from lava_thesis.data import (
    EVENT_DTYPE,
    DataFormatError,
    DataNotFoundError,
    load_nmnist,
    make_events,
    read_nmnist_bin,
    write_nmnist_bin,
)


def _random_events(rng, n=200):
    t = np.sort(rng.integers(0, (1 << 23) - 1, n))
    return make_events(rng.integers(0, 34, n), rng.integers(0, 34, n), t, rng.integers(0, 2, n))


def test_real_sample(data_root, tmp_path):
    path = data_root / "events" / "sample_nmnist.bin"
    ev = read_nmnist_bin(path)
    assert ev.dtype == EVENT_DTYPE and len(ev) == path.stat().st_size // 5 == 4325
    assert ev["x"].max() < 34 and ev["y"].max() < 34 and ev["x"].min() >= 0
    assert np.all(np.diff(ev["t"]) >= 0) and 0 < ev["t"][-1] < 400_000  # ~300 ms saccades
    assert set(np.unique(ev["p"])) == {0, 1}
    assert (ev["x"][0], ev["y"][0], ev["t"][0], ev["p"][0]) == (7, 15, 654, 1)
    copy = write_nmnist_bin(tmp_path / "copy.bin", ev)
    assert copy.read_bytes() == path.read_bytes()


def test_round_trip(tmp_path, rng):
    ev = _random_events(rng)
    path = write_nmnist_bin(tmp_path / "r.bin", ev)
    assert path.stat().st_size == 5 * len(ev)
    np.testing.assert_array_equal(read_nmnist_bin(path), ev)


def test_byte_layout(tmp_path):
    path = write_nmnist_bin(tmp_path / "one.bin", make_events([33], [5], [0x512345], [1]))
    assert path.read_bytes() == bytes([33, 5, 0x80 | 0x51, 0x23, 0x45])


def test_overflow_marker_adds_2_13_us(tmp_path):
    raw = bytes([1, 2, 0, 0, 10]) + bytes([0, 240, 0, 0, 0]) + bytes([3, 4, 0x80, 0, 5])
    (tmp_path / "ovf.bin").write_bytes(raw)
    ev = read_nmnist_bin(tmp_path / "ovf.bin")
    assert ev["t"].tolist() == [10, 8192 + 5] and ev["x"].tolist() == [1, 3]
    assert ev["p"].tolist() == [0, 1]


def test_size_not_multiple_of_5(tmp_path, rng):
    path = write_nmnist_bin(tmp_path / "odd.bin", _random_events(rng, 3))
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(DataFormatError, match="multiple of 5") as info:
        read_nmnist_bin(path)
    assert "odd.bin" in str(info.value)


@pytest.mark.parametrize(
    ("name", "raw", "match"),
    [
        ("oob_x.bin", bytes([40, 1, 0, 0, 1]), "'x' outside"),
        ("oob_y.bin", bytes([1, 34, 0, 0, 1]), "'y' outside"),
        ("unsorted.bin", bytes([1, 1, 0, 0, 9, 1, 1, 0, 0, 3]), "not sorted"),
    ],
)
def test_bad_events_name_the_file(tmp_path, name, raw, match):
    (tmp_path / name).write_bytes(raw)
    with pytest.raises(DataFormatError, match=match) as info:
        read_nmnist_bin(tmp_path / name)
    assert name in str(info.value)


def test_writer_refuses_unwritable_events(tmp_path):
    with pytest.raises(ValueError, match="'y'"):
        write_nmnist_bin(tmp_path / "w.bin", make_events([1], [34], [0], [0]))
    with pytest.raises(ValueError, match="23-bit"):
        write_nmnist_bin(tmp_path / "w.bin", make_events([1], [1], [1 << 23], [0]))
    assert not (tmp_path / "w.bin").exists()


def test_load_layout(tmp_path, rng):
    for split, digits in (("Train", (0, 3)), ("Test", (7,))):
        for d in digits:
            for i in range(2):
                write_nmnist_bin(
                    tmp_path / "nmnist" / split / str(d) / f"{i:05d}.bin", _random_events(rng, 5)
                )
    train = load_nmnist("train", tmp_path)
    assert [(s.label, s.path.name) for s in train] == [
        (0, "00000.bin"),
        (0, "00001.bin"),
        (3, "00000.bin"),
        (3, "00001.bin"),
    ]
    assert len(train[0].read()) == 5
    assert [s.label for s in load_nmnist("test", tmp_path)] == [7, 7]


def test_load_missing(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_nmnist("test", tmp_path, download=False)
    assert str(tmp_path / "nmnist" / "Test") in str(info.value) and "n-mnist" in str(info.value)


def test_empty_file_is_an_error(tmp_path):
    (tmp_path / "empty.bin").write_bytes(b"")
    with pytest.raises(DataFormatError, match="empty file") as info:
        read_nmnist_bin(tmp_path / "empty.bin")
    assert "empty.bin" in str(info.value)
    with pytest.raises(ValueError, match="no events"):
        write_nmnist_bin(tmp_path / "w.bin", make_events([], [], [], []))


def test_only_overflow_markers_is_zero_events(tmp_path):
    (tmp_path / "ovf.bin").write_bytes(bytes([0, 240, 0, 0, 0]) * 3)
    assert len(read_nmnist_bin(tmp_path / "ovf.bin")) == 0


def test_size_limit_checked_before_reading(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(bytes([1, 1, 0, 0, 0]) * 100)
    with pytest.raises(DataFormatError, match="over the limit of 100") as info:
        read_nmnist_bin(path, max_bytes=100)
    assert "big.bin" in str(info.value)
    assert len(read_nmnist_bin(path, max_bytes=500)) == 100
