"""IDX reader/writer: round trips, gzip detection by magic, corrupt files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from lava_thesis.data import DataFormatError, read_idx, write_idx


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("compress", [False, True])
def test_round_trip(tmp_path, rng, dtype, compress):
    arr = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    path = write_idx(tmp_path / "a.idx", arr, compress=compress)
    back = read_idx(path)
    assert back.dtype == arr.dtype.newbyteorder("=") and back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)
    assert back.flags.writeable


def test_gzip_detected_by_magic_not_name(tmp_path, rng):
    arr = rng.integers(0, 255, (7, 2), dtype=np.uint8)
    plain = write_idx(tmp_path / "looks.gz", arr)  # uncompressed, misleading name
    packed = write_idx(tmp_path / "plain-name", arr, compress=True)
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(plain), arr)
    np.testing.assert_array_equal(read_idx(packed), arr)


def _good(tmp_path) -> bytes:
    return write_idx(tmp_path / "good", np.arange(24, dtype=np.uint8).reshape(2, 3, 4)).read_bytes()


@pytest.mark.parametrize(
    ("name", "mutate", "match"),
    [
        ("truncated.idx", lambda b: b[:-1], "truncated"),
        ("trailing.idx", lambda b: b + b"\0", "trailing"),
        ("badmagic.idx", lambda b: b"\x01" + b[1:], "bad magic"),
        ("badcode.idx", lambda b: b[:2] + b"\x07" + b[3:], "bad magic"),
        ("shorthead.idx", lambda b: b[:9], "truncated header"),
        ("tiny.idx", lambda b: b[:2], "no IDX header"),
    ],
)
def test_corrupt_files_name_the_file(tmp_path, name, mutate, match):
    path = tmp_path / name
    path.write_bytes(mutate(_good(tmp_path)))
    with pytest.raises(DataFormatError, match=match) as info:
        read_idx(path)
    assert name in str(info.value)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(_good(tmp_path))[:-12])
    with pytest.raises(DataFormatError, match="gzip") as info:
        read_idx(path)
    assert "cut.gz" in str(info.value)


def test_write_rejects_unknown_dtype(tmp_path):
    with pytest.raises(ValueError, match="IDX code"):
        write_idx(tmp_path / "x", np.zeros(3, np.uint16))
