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
