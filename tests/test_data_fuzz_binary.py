"""Property tests: random, truncated and mutated files given to every binary reader.

The only exceptions allowed are the library's DataFormatError / DataNotFoundError, and
their message must name the file; when a reader accepts a file, its output must satisfy the
format's invariants (no silent wrong data).
"""

from __future__ import annotations

import gzip
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lava_thesis.data import (
    DataFormatError,
    DataNotFoundError,
    make_events,
    read_aedat4,
    read_cifar_batch,
    read_idx,
    read_nmnist_bin,
    write_idx,
    write_nmnist_bin,
)

ALLOWED = (DataFormatError, DataNotFoundError)
FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _check_nmnist(ev):
    assert len(ev) and ev["x"].max() < 34 and ev["y"].max() < 34 and ev["x"].min() >= 0
    assert np.all(np.diff(ev["t"]) >= 0) and set(np.unique(ev["p"])) <= {0, 1}


def _check_cifar(out):
    images, labels = out
    assert images.shape[1:] == (32, 32, 3) and images.dtype == np.uint8
    assert labels.shape == (len(images),) and labels.min() >= 0 and labels.max() < 10


def _check_idx(arr):
    assert arr.ndim >= 1 and 0 not in arr.shape and arr.flags.writeable


def _valid_files(directory: Path) -> dict[str, tuple[bytes, object, object]]:
    rng = np.random.default_rng(1)
    idx = write_idx(directory / "v.idx", rng.integers(0, 256, (3, 4, 5), dtype=np.uint8))
    idx16 = write_idx(directory / "v16.idx", rng.integers(-99, 99, (6, 2)).astype(np.int16))
    t = np.sort(rng.integers(0, 1 << 20, 30))
    ev = make_events(rng.integers(0, 34, 30), rng.integers(0, 34, 30), t, rng.integers(0, 2, 30))
    nm = write_nmnist_bin(directory / "v.bin", ev)
    batch = {
        b"batch_label": b"b",
        b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8),
        b"labels": [3, 9],
    }
    return {
        "idx": (idx.read_bytes(), read_idx, _check_idx),
        "idx16": (idx16.read_bytes(), read_idx, _check_idx),
        "idx.gz": (gzip.compress(idx.read_bytes(), mtime=0), read_idx, _check_idx),
        "bin": (nm.read_bytes(), read_nmnist_bin, _check_nmnist),
        "cifar": (pickle.dumps(batch, protocol=2), read_cifar_batch, _check_cifar),
    }


@pytest.fixture(scope="module")
def work():
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        yield directory, _valid_files(directory)


def _feed(directory: Path, name: str, data: bytes, reader, check) -> None:
    path = directory / f"fuzz_{name}"
    path.write_bytes(data)
    try:
        out = reader(path)
    except ALLOWED as exc:
        assert path.name in str(exc)
    else:
        check(out)


KINDS = ["idx", "idx16", "idx.gz", "bin", "cifar"]


@FAST
@given(kind=st.sampled_from(KINDS), data=st.binary(max_size=400))
def test_random_bytes(work, kind, data):
    directory, valid = work
    _, reader, check = valid[kind]
    _feed(directory, kind, data, reader, check)


@FAST
@given(kind=st.sampled_from(KINDS), cut=st.floats(0, 1, exclude_max=True))
def test_truncations(work, kind, cut):
    directory, valid = work
    data, reader, check = valid[kind]
    _feed(directory, kind, data[: int(len(data) * cut)], reader, check)


@settings(FAST, max_examples=80)
@given(
    kind=st.sampled_from(KINDS),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                   min_size=1, max_size=6),
    tail=st.binary(max_size=8),
)
def test_mutations(work, kind, edits, tail):
    directory, valid = work
    data, reader, check = valid[kind]
    buf = bytearray(data)
    for where, value in edits:
        buf[int(len(buf) * where)] = value
    _feed(directory, kind, bytes(buf) + tail, reader, check)


@settings(FAST, max_examples=25)
@given(data=st.binary(max_size=300), prefix=st.sampled_from([b"#!AER-DAT4.0\r\n", b""]))
def test_aedat4_random_bytes(tmp_path_factory, data, prefix):
    directory = tmp_path_factory.mktemp("aedat")
    _feed(directory, "a.aedat4", prefix + data, read_aedat4, lambda out: None)


def test_aedat4_mutations_of_real_file(data_root, tmp_path):
    data = (data_root / "events" / "sample.aedat4").read_bytes()
    rng = np.random.default_rng(5)

    def check(out):
        events, (width, height) = out
        assert events["x"].max() < width and events["y"].max() < height
        assert np.all(np.diff(events["t"]) >= 0)

    for _ in range(40):
        buf = bytearray(data)
        if rng.random() < 0.5:  # in the header and first packets
            for pos in rng.integers(14, 2400, 3):
                buf[pos] = rng.integers(0, 256)
        else:
            buf = buf[: rng.integers(0, len(buf))]
        _feed(tmp_path, "m.aedat4", bytes(buf), read_aedat4, check)


READERS = [read_idx, read_nmnist_bin, read_cifar_batch, read_aedat4]


def _no_hang(fn, *args, seconds=5):
    """Call ``fn``; a call that blocks (a FIFO opened for reading) fails instead of hanging."""
    import signal

    def _alarm(signum, frame):
        raise TimeoutError(f"{fn.__name__} blocked for {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        return fn(*args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.__name__)
def test_fifo_refused_without_blocking(tmp_path, reader):
    import os

    fifo = tmp_path / "pipe.bin"
    os.mkfifo(fifo)
    with pytest.raises(DataFormatError, match="FIFO") as info:
        _no_hang(reader, fifo)
    assert "pipe.bin" in str(info.value)


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.__name__)
def test_directory_device_and_missing(tmp_path, reader):
    with pytest.raises(DataFormatError, match="a directory") as info:
        reader(tmp_path)
    assert str(tmp_path) in str(info.value)
    if Path("/dev/zero").exists():
        with pytest.raises(DataFormatError, match="character device"):
            _no_hang(reader, "/dev/zero")
    with pytest.raises(DataNotFoundError, match="nothere.bin"):
        reader(tmp_path / "nothere.bin")
