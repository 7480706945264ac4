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
        ("badcode.idx", lambda b: b[:2] + b"\x07" + b[3:], "unknown dtype code 0x07"),
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


def _header(code: int, dims: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


def test_gzip_bomb_stops_at_the_declared_size(tmp_path):
    import tracemalloc

    bomb = tmp_path / "bomb.gz"  # 10 bytes declared, 16 MB of zeros behind them
    bomb.write_bytes(gzip.compress(_header(8, (10,)) + bytes(16 << 20), compresslevel=6))
    assert bomb.stat().st_size < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(DataFormatError, match="trailing bytes") as info:
            read_idx(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "bomb.gz" in str(info.value) and peak < 4 << 20


def test_declared_size_over_the_limit(tmp_path):
    path = tmp_path / "big.gz"  # honest header, 4 MB of zeros, limit 1 MB
    path.write_bytes(gzip.compress(_header(8, (4, 1 << 20)) + bytes(4 << 20)))
    with pytest.raises(DataFormatError, match="over the limit of 1048576") as info:
        read_idx(path, max_bytes=1 << 20)
    assert "big.gz" in str(info.value)
    assert read_idx(path, max_bytes=4 << 20).shape == (4, 1 << 20)


@pytest.mark.parametrize(
    ("dims", "code"),
    [((1 << 31, 1 << 31, 4), 8), ((0xFFFFFFFF,) * 4, 0x0E), ((1 << 31, 1 << 31, 2), 0x0B)],
)
def test_dimension_product_does_not_wrap(tmp_path, dims, code):
    path = tmp_path / "wrap.idx"  # the product is 2**64 (or more): int64 would wrap to 0
    path.write_bytes(_header(code, dims))
    with pytest.raises(DataFormatError, match="over the limit") as info:
        read_idx(path)
    assert "wrap.idx" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (_header(8, (3, 0)), "dimension 1 of \\(3, 0\\) is 0"),
        (_header(8, ()), "no dimensions"),
        (_header(0x0A, (1,)) + b"\0", "unknown dtype code 0x0a"),
        (_header(8, (2,)) + b"\0", "truncated"),
    ],
)
def test_header_errors(tmp_path, raw, match):
    for name, data in (("h.idx", raw), ("h.idx.gz", gzip.compress(raw))):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(DataFormatError, match=match) as info:
            read_idx(tmp_path / name)
        assert name in str(info.value)


def test_gzip_trailing_garbage_after_stream(tmp_path):
    path = tmp_path / "tail.gz"
    path.write_bytes(gzip.compress(_good(tmp_path)) + b"garbage!")
    with pytest.raises(DataFormatError, match="gzip") as info:
        read_idx(path)
    assert "tail.gz" in str(info.value)


def test_big_endian_values_and_writer_refusals(tmp_path):
    arr = np.array([[1, -2], [300, -32768]], np.int16)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "e.idx", arr)), arr)
    with pytest.raises(ValueError, match="dimensions"):
        write_idx(tmp_path / "z.idx", np.zeros((2, 0), np.uint8))
    with pytest.raises(ValueError, match="dimensions"):
        write_idx(tmp_path / "s.idx", np.uint8(3))
