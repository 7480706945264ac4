"""AEDAT 4: the real sample, truncated and foreign files."""

from __future__ import annotations

import numpy as np
import pytest

from lava_thesis.data import EVENT_DTYPE, DataFormatError, read_aedat4


@pytest.fixture(scope="module")
def sample(data_root):
    return data_root / "events" / "sample.aedat4"


def test_real_sample(sample):
    events, size = read_aedat4(sample)
    assert size == (320, 240) and events.dtype == EVENT_DTYPE and len(events) == 111954
    assert events["t"][0] == 0 and np.all(np.diff(events["t"]) >= 0)
    assert events["x"].max() < 320 and events["y"].max() < 240
    assert set(np.unique(events["p"])) == {0, 1}
    assert (events["x"][0], events["y"][0], events["p"][2]) == (154, 204, 1)


def test_absolute_time(sample):
    events, _ = read_aedat4(sample, relative_time=False)
    assert events["t"][0] == 1605537493718345


@pytest.mark.parametrize("keep", [10, 2000, 0.5])
def test_truncated(sample, tmp_path, keep):
    data = sample.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else keep
    path = tmp_path / f"cut_{n}.aedat4"
    path.write_bytes(data[:n])
    with pytest.raises(DataFormatError, match="truncated") as info:
        read_aedat4(path)
    assert path.name in str(info.value)


def test_older_aedat_rejected_clearly(data_root):
    path = data_root / "events" / "sample_aedat_header.aedat"
    with pytest.raises(DataFormatError, match="AEDAT 2.0") as info:
        read_aedat4(path)
    assert "sample_aedat_header.aedat" in str(info.value)


def test_not_aedat(data_root, tmp_path):
    path = tmp_path / "x.aedat4"
    path.write_bytes((data_root / "events" / "sample_nmnist.bin").read_bytes())
    with pytest.raises(DataFormatError, match="not an AEDAT file") as info:
        read_aedat4(path)
    assert "x.aedat4" in str(info.value)


def test_missing_stream(sample):
    with pytest.raises(DataFormatError, match="no events stream 2"):
        read_aedat4(sample, stream_id=2)


def _mutated(sample, tmp_path, name, edit):
    data = bytearray(sample.read_bytes())
    edit(data)
    (tmp_path / name).write_bytes(bytes(data))
    return tmp_path / name


def _header_end(data) -> int:
    return 18 + int.from_bytes(data[14:18], "little")


@pytest.mark.parametrize(
    ("name", "edit", "match"),
    [
        ("ioheader.aedat4", lambda d: d.__setitem__(slice(14, 18), b"\xff\xff\xff\xff"),
         "IOHeader declares 4294967295 bytes"),
        ("packet.aedat4",
         lambda d: d.__setitem__(slice(_header_end(d) + 4, _header_end(d) + 8), b"\xf0" * 4),
         "declares 4042322160 bytes"),
    ],
)
def test_oversized_sizes_checked_against_the_file(sample, tmp_path, name, edit, match):
    path = _mutated(sample, tmp_path, name, edit)
    with pytest.raises(DataFormatError, match=match) as info:
        read_aedat4(path)
    assert name in str(info.value)


def test_truncated_at_a_packet_boundary(sample, tmp_path):
    data = sample.read_bytes()
    start = _header_end(data)
    first = start + 8 + int.from_bytes(data[start + 4 : start + 8], "little")
    path = tmp_path / "boundary.aedat4"
    path.write_bytes(data[:first])  # one whole packet: a trusting reader returns it silently
    with pytest.raises(DataFormatError, match="data table position") as info:
        read_aedat4(path)
    assert "boundary.aedat4" in str(info.value)


def test_decoded_size_limit(sample):
    with pytest.raises(DataFormatError, match="limit of 100000 bytes"):
        read_aedat4(sample, max_bytes=100_000)


def test_decoder_panic_becomes_data_format_error(sample, monkeypatch):
    import aedat

    class PanicException(BaseException):  # what pyo3 raises for a Rust panic
        pass

    def panicking(path):
        raise PanicException("index out of bounds")

    monkeypatch.setattr(aedat, "Decoder", panicking)
    with pytest.raises(DataFormatError, match="PanicException: index out of bounds") as info:
        read_aedat4(sample)
    assert "sample.aedat4" in str(info.value)
