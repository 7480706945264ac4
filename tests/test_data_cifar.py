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
    tar = _tarball(root / "cifar-10-python.tar.gz", {"cifar-10-batches-py/../../evil": b"x"})
    md5 = hashlib.md5(tar.read_bytes()).hexdigest()  # as if it were the official tarball
    monkeypatch.setattr(cifar_mod, "CIFAR10", RemoteFile(tar.name, "file:///nowhere", md5=md5))
    with pytest.raises(DataFormatError, match="unsafe") as info:
        load_cifar10("train", root)
    assert "cifar-10-python.tar.gz" in str(info.value)
    assert not (tmp_path / "evil").exists()
    assert sorted(p.name for p in root.iterdir()) == ["cifar-10-python.tar.gz"]


class _FakeArray:
    """Pickles as numpy would, with a hand-made state (shape, dtype, raw bytes)."""

    def __init__(self, state):
        self.state = state

    def __reduce__(self):
        return (np.core.multiarray._reconstruct, (np.ndarray, (0,), b"b"), self.state)


def _crafted(path, data, labels=(1,)):
    path.write_bytes(pickle.dumps({b"data": data, b"labels": list(labels)}, protocol=2))
    return path


def test_crafted_array_cannot_amplify(tmp_path):
    # 150,000 images claimed from 1 byte of data: a stride-0 view in a trusting reader
    fake = _FakeArray((1, (150000, 3072), np.dtype("u1"), False, b"\0"))
    path = _crafted(tmp_path / "zero_stride", fake, [0] * 3)
    assert path.stat().st_size < 400
    with pytest.raises(DataFormatError, match="needs 460800000 bytes") as info:
        read_cifar_batch(path)
    assert "zero_stride" in str(info.value)


@pytest.mark.parametrize(
    ("name", "obj", "match"),
    [
        ("reconstruct_shape", None, "only allowed for a plain ndarray"),
        ("object_dtype", _FakeArray((1, (1,), np.dtype("O"), False, [1])), "dtype 'O8'"),
        ("structured", _FakeArray((1, (1,), np.dtype([("a", "u1")]), False, b"\0")), "dtype"),
        ("no_images", np.zeros((0, 3072), np.uint8), "b'data'"),
        ("int_data", np.zeros((1, 3072), np.int16), "b'data'"),
    ],
)
def test_disallowed_arrays(tmp_path, name, obj, match):
    if obj is None:
        raw = pickle.dumps(np.zeros(3, np.uint8), protocol=2).replace(b"K\x00\x85", b"K\x09\x85")
        (tmp_path / name).write_bytes(raw)
    else:
        _crafted(tmp_path / name, obj)
    with pytest.raises(DataFormatError, match=match) as info:
        read_cifar_batch(tmp_path / name)
    assert name in str(info.value)


@pytest.mark.parametrize(
    ("name", "labels", "match"),
    [
        ("bools", [True], "not a list of integers"),
        ("floats", [1.5], "not a list of integers"),
        ("huge", [1 << 70], "outside"),
        ("negative", [-1], "outside"),
        ("text", "a", "not a list of integers"),
    ],
)
def test_bad_labels(tmp_path, name, labels, match):
    path = _crafted(tmp_path / name, np.zeros((1, 3072), np.uint8), labels)
    with pytest.raises(DataFormatError, match=match) as info:
        read_cifar_batch(path)
    assert name in str(info.value)


def test_memo_index_and_mixed_keys(tmp_path):
    # LONG_BINPUT 0x0FFFFFFF would make the C unpickler allocate a 2 GB memo table
    (tmp_path / "memo").write_bytes(b"\x80\x02N" + b"r\xff\xff\xff\x0f" + b".")
    with pytest.raises(DataFormatError, match="memo index") as info:
        read_cifar_batch(tmp_path / "memo")
    assert "memo" in str(info.value)
    (tmp_path / "keys").write_bytes(pickle.dumps({1: 2, b"x": 3, "y": 4}, protocol=2))
    with pytest.raises(DataFormatError, match="wrong keys"):
        read_cifar_batch(tmp_path / "keys")


def _as_official(monkeypatch, tar):
    """Make ``tar`` pass the md5 check of the CIFAR-10 tarball."""
    md5 = hashlib.md5(tar.read_bytes()).hexdigest()
    monkeypatch.setattr(cifar_mod, "CIFAR10", RemoteFile(tar.name, "file:///nowhere", md5=md5))


def test_corrupt_local_tarball_is_not_extracted(tmp_path, rng):
    good = _batch(rng, 2, labels=[0, 1])
    root = tmp_path / "root"
    root.mkdir()
    _tarball(root / "cifar-10-python.tar.gz", {"cifar-10-batches-py/test_batch": pickle.dumps(
        good, protocol=2)})
    with pytest.raises(DataFormatError, match="md5") as info:
        load_cifar10("test", root, download=False)
    assert "cifar-10-python.tar.gz" in str(info.value)
    assert sorted(p.name for p in root.iterdir()) == ["cifar-10-python.tar.gz"]


@pytest.mark.parametrize(("member_limit", "total_limit"), [(100, 1 << 20), (150, 250)])
def test_tarball_over_size_limits_refused_before_extraction(
    tmp_path, monkeypatch, member_limit, total_limit
):
    root = tmp_path / "root"
    root.mkdir()
    tar = _tarball(root / "cifar-10-python.tar.gz",
                   {f"cifar-10-batches-py/m{i}": b"\0" * 140 for i in range(2)})
    _as_official(monkeypatch, tar)
    monkeypatch.setattr(cifar_mod, "MAX_BATCH_BYTES", member_limit)
    monkeypatch.setattr(cifar_mod, "MAX_EXTRACT_BYTES", total_limit)
    with pytest.raises(DataFormatError, match="bytes") as info:
        load_cifar10("test", root, download=False)
    assert "cifar-10-python.tar.gz" in str(info.value)
    assert sorted(p.name for p in root.iterdir()) == ["cifar-10-python.tar.gz"]


def test_corrupt_deflate_stream_in_tarball_is_a_format_error(tmp_path, monkeypatch):
    # gzip header, stored deflate blocks with a valid tar header and 480 kB of its member,
    # then a block of the invalid type 3: zlib.error while the member is skipped
    info = tarfile.TarInfo("cifar-10-batches-py/test_batch")
    info.size = 1 << 20

    def stored(data):
        n = len(data)
        return b"\x00" + n.to_bytes(2, "little") + (n ^ 0xFFFF).to_bytes(2, "little") + data

    body = stored(info.tobuf(format=tarfile.GNU_FORMAT)) + stored(b"\0" * 60000) * 8
    root = tmp_path / "root"
    root.mkdir()
    tar = root / "cifar-10-python.tar.gz"
    tar.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + body + b"\x07" * 64)
    _as_official(monkeypatch, tar)
    with pytest.raises(DataFormatError, match="cannot extract") as info:
        load_cifar10("test", root, download=False)
    assert "cifar-10-python.tar.gz" in str(info.value)
    assert sorted(p.name for p in root.iterdir()) == ["cifar-10-python.tar.gz"]
