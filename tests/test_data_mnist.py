"""MNIST / Fashion-MNIST: real files, a file:// download, missing and inconsistent files."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from lava_thesis.data import (
    DataFormatError,
    DataNotFoundError,
    load_fashion_mnist,
    load_mnist,
    write_idx,
)
from lava_thesis.data import mnist as mnist_mod


def test_real_mnist_test_split(data_root):
    images, labels = load_mnist("test", data_root)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.int64
    assert labels[0] == 7 and set(np.unique(labels)) == set(range(10))


def test_real_mnist_train_split(data_root):
    images, labels = load_mnist("train", data_root)
    assert images.shape == (60000, 28, 28) and labels[:3].tolist() == [5, 0, 4]


@pytest.mark.parametrize("stem", sorted(mnist_mod.MNIST_RAW_MD5))
def test_real_mnist_matches_official_md5(data_root, stem):
    raw = gzip.decompress((data_root / "mnist" / f"{stem}.gz").read_bytes())
    assert hashlib.md5(raw).hexdigest() == mnist_mod.MNIST_RAW_MD5[stem]


def test_real_fashion_mnist(data_root):
    images, labels = load_fashion_mnist("test", data_root)
    assert images.shape == (10000, 28, 28) and labels[0] == 9
    assert np.bincount(labels).tolist() == [1000] * 10


def _write_set(directory, n_img, n_lbl, rng, compress=True):
    sfx = ".gz" if compress else ""
    imgs = rng.integers(0, 256, (n_img, 28, 28), dtype=np.uint8)
    lbls = rng.integers(0, 10, n_lbl, dtype=np.uint8)
    write_idx(directory / f"t10k-images-idx3-ubyte{sfx}", imgs, compress=compress)
    write_idx(directory / f"t10k-labels-idx1-ubyte{sfx}", lbls, compress=compress)
    return imgs, lbls


@pytest.mark.parametrize("compress", [False, True])
def test_small_set_round_trip(tmp_path, rng, compress):
    imgs, lbls = _write_set(tmp_path / "fashion-mnist", 5, 5, rng, compress)
    out_i, out_l = load_mnist("test", tmp_path, dataset="fashion-mnist", download=False)
    np.testing.assert_array_equal(out_i, imgs)
    np.testing.assert_array_equal(out_l, lbls)


def test_count_mismatch(tmp_path, rng):
    _write_set(tmp_path / "mnist", 5, 4, rng)
    with pytest.raises(DataFormatError, match="4 labels") as info:
        load_mnist("test", tmp_path)
    assert "t10k-labels-idx1-ubyte.gz" in str(info.value)


def test_wrong_image_shape(tmp_path, rng):
    write_idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte", np.zeros((2, 28, 27), np.uint8))
    write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(DataFormatError, match="28, 27") as info:
        load_mnist("test", tmp_path)
    assert "t10k-images-idx3-ubyte" in str(info.value)


def test_missing_without_download(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_mnist("train", tmp_path, download=False)
    msg = str(info.value)
    assert "train-images-idx3-ubyte.gz" in msg and "train-labels-idx1-ubyte.gz" in msg
    assert str(tmp_path / "mnist") in msg
    assert "ossci-datasets" in msg


def test_download_from_file_url(tmp_path, rng, monkeypatch):
    remote = tmp_path / "remote"
    remote.mkdir()
    _write_set(remote, 3, 3, rng)
    md5s = {p.name[:-3]: hashlib.md5(p.read_bytes()).hexdigest() for p in remote.iterdir()}
    patched = {"mnist": ("mnist", (remote.as_uri() + "/",), md5s)}
    monkeypatch.setattr(mnist_mod, "DATASETS", patched)
    (tmp_path / "root").mkdir()
    images, labels = load_mnist("test", tmp_path / "root")
    assert images.shape == (3, 28, 28)
    assert sorted(p.name for p in (tmp_path / "root" / "mnist").iterdir()) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_mnist("val", tmp_path)
    with pytest.raises(ValueError, match="dataset"):
        load_mnist("test", tmp_path, dataset="kmnist")


def test_label_out_of_range_and_wrong_dtype(tmp_path, rng):
    d = tmp_path / "mnist"
    write_idx(d / "t10k-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    write_idx(d / "t10k-labels-idx1-ubyte", np.array([3, 10], np.uint8))
    with pytest.raises(DataFormatError, match="label 10") as info:
        load_mnist("test", tmp_path, download=False)
    assert "t10k-labels-idx1-ubyte" in str(info.value)
    write_idx(d / "t10k-labels-idx1-ubyte", np.array([3, 1], np.int16))
    with pytest.raises(DataFormatError, match="int16"):
        load_mnist("test", tmp_path, download=False)


def test_corrupt_image_file_names_it(tmp_path, rng):
    _write_set(tmp_path / "mnist", 3, 3, rng, compress=True)
    path = tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(DataFormatError, match="gzip") as info:
        load_mnist("test", tmp_path, download=False)
    assert "t10k-images-idx3-ubyte.gz" in str(info.value)
