"""CIFAR-10/100 pickles written in the real format, corrupt ones, and tarball extraction."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from lava_thesis.data import (
    DataFormatError,
    DataNotFoundError,
    RemoteFile,
    load_cifar10,
    load_cifar100,
    read_cifar_batch,
)
from lava_thesis.data import cifar as cifar_mod


def _batch(rng, n, **labels):
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    out = {b"batch_label": b"testing batch", b"data": data, b"filenames": [b"x.png"] * n}
    out.update({k.encode(): list(v) for k, v in labels.items()})
    return out


def _dump(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(obj, protocol=2))
    return path


def _cifar10_tree(root, rng, n=4):
    d = root / "cifar-10-batches-py"
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = _batch(rng, n, labels=rng.integers(0, 10, n))
        _dump(d / name, batches[name])
    return batches


def test_cifar10_layout_and_pixel_order(tmp_path, rng):
    batches = _cifar10_tree(tmp_path, rng)
    images, labels = load_cifar10("train", tmp_path, download=False)
    assert images.shape == (20, 32, 32, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and labels[:4].tolist() == batches["data_batch_1"][b"labels"]
    first = batches["data_batch_1"][b"data"][0]
    assert images[0, 0, 1, 0] == first[1]  # red plane first, row-major
    assert images[0, 0, 1, 2] == first[2048 + 1]  # blue plane last
    assert images[0, 2, 0, 1] == first[1024 + 64]  # green, row 2
    test_images, _ = load_cifar10("test", tmp_path, download=False)
    assert test_images.shape == (4, 32, 32, 3)


def test_cifar100_fine_and_coarse(tmp_path, rng):
    b = _batch(rng, 3, fine_labels=[99, 0, 5], coarse_labels=[19, 0, 1])
    _dump(tmp_path / "cifar-100-python" / "test", b)
    _, fine = load_cifar100("test", tmp_path, download=False)
    _, coarse = load_cifar100("test", tmp_path, labels="coarse", download=False)
    assert fine.tolist() == [99, 0, 5] and coarse.tolist() == [19, 0, 1]


@pytest.mark.parametrize(
    ("name", "make", "match"),
    [
        ("truncated", lambda b: pickle.dumps(b, protocol=2)[:-40], "cannot unpickle"),
        ("garbage", lambda b: b"\x00not a pickle", "cannot unpickle"),
        ("wrongkeys", lambda b: pickle.dumps({b"images": b[b"data"]}, protocol=2), "wrong keys"),
        ("strkeys", lambda b: pickle.dumps({"data": 1, "labels": 2}, protocol=2), "wrong keys"),
        ("shape", lambda b: pickle.dumps(b | {b"data": b[b"data"][:, :100]}, 2), "b'data'"),
        ("count", lambda b: pickle.dumps(b | {b"labels": [1]}, protocol=2), "labels for 2"),
        ("range", lambda b: pickle.dumps(b | {b"labels": [1, 10]}, protocol=2), "outside"),
        ("evil", lambda b: pickle.dumps(os.system, protocol=2), "not allowed"),
    ],
)
def test_corrupt_batches_name_the_file(tmp_path, rng, name, make, match):
    path = tmp_path / f"{name}_batch"
    path.write_bytes(make(_batch(rng, 2, labels=[1, 2])))
    with pytest.raises(DataFormatError, match=match) as info:
        read_cifar_batch(path)
    assert path.name in str(info.value)


def test_missing_tells_url_and_where(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_cifar10("train", tmp_path, download=False)
    msg = str(info.value)
    assert "cifar-10-python.tar.gz" in msg and "c58f30108f718f92721af3b95e74349a" in msg
    assert "cifar-10-batches-py/" in msg and str(tmp_path) in msg
    with pytest.raises(DataNotFoundError, match="cifar-100-python.tar.gz"):
        load_cifar100("test", tmp_path, download=False)


def test_incomplete_folder(tmp_path, rng):
    _dump(tmp_path / "cifar-10-batches-py" / "test_batch", _batch(rng, 1, labels=[0]))
    with pytest.raises(DataNotFoundError, match="data_batch_1"):
        load_cifar10("train", tmp_path)


def _tarball(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_download_and_extract(tmp_path, rng, monkeypatch):
    src = tmp_path / "src"
    _cifar10_tree(src, rng, n=2)
    members = {
        f"cifar-10-batches-py/{p.name}": p.read_bytes()
        for p in (src / "cifar-10-batches-py").iterdir()
    }
    tar = _tarball(tmp_path / "c10.tar.gz", members)
    md5 = hashlib.md5(tar.read_bytes()).hexdigest()
    monkeypatch.setattr(
        cifar_mod, "CIFAR10", RemoteFile("cifar-10-python.tar.gz", tar.as_uri(), md5=md5)
    )
    root = tmp_path / "root"
    root.mkdir()
    images, _ = load_cifar10("train", root)
    assert images.shape == (10, 32, 32, 3)
    assert sorted(p.name for p in root.iterdir()) == [
        "cifar-10-batches-py",
        "cifar-10-python.tar.gz",
    ]


def test_unsafe_tarball_refused(tmp_path, monkeypatch):
    root = tmp_path / "root"
    root.mkdir()
    _tarball(root / "cifar-10-python.tar.gz", {"cifar-10-batches-py/../../evil": b"x"})
    with pytest.raises(DataFormatError, match="unsafe") as info:
        load_cifar10("train", root)
    assert "cifar-10-python.tar.gz" in str(info.value)
    assert not (tmp_path / "evil").exists()
    assert sorted(p.name for p in root.iterdir()) == ["cifar-10-python.tar.gz"]
