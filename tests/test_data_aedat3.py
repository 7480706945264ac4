"""AEDAT 3.1 (DVS128 Gesture) reader: small files written here in the released format (header,
28-byte packet headers, 8-byte polarity events), labels CSV files, and corrupt input."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lava_thesis.data.aedat3 import (
    LABEL_DTYPE,
    gesture_samples,
    read_aedat3,
    read_gesture_labels,
    read_gesture_recording,
)
from lava_thesis.data.errors import DataFormatError, DataNotFoundError

HEADER = (b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n"
          b"#Start-Time: 2017-01-01 10:00:00 (TZ+0000)\r\n#!END-HEADER\r\n")


def _packet(kind: int, payload: bytes, number: int, size: int = 8, overflow: int = 0,
            ts_offset: int = 4, valid: int | None = None) -> bytes:
    valid = number if valid is None else valid
    return struct.pack("<hhiiiiii", kind, 1, size, ts_offset, overflow, number, number,
                       valid) + payload


def _polarity(events, overflow: int = 0, **kw) -> bytes:
    """``events``: (x, y, t, p, valid) tuples as one polarity packet."""
    payload = b"".join(struct.pack("<Ii", (x << 17) | (y << 2) | (p << 1) | v, t)
                       for x, y, t, p, v in events)
    return _packet(1, payload, len(events), overflow=overflow, **kw)


def _recording(tmp_path, name="user01_led.aedat"):
    """Two polarity packets (the second after a timestamp overflow), one invalid event and a
    special-event packet, which the reader skips."""
    data = (HEADER
            + _polarity([(0, 0, 10, 1, 1), (127, 5, 20, 0, 1), (3, 3, 25, 1, 0)])
            + _packet(0, struct.pack("<Ii", 7, 30), 1)  # a special event (timestamp reset)
            + _polarity([(64, 127, 5, 1, 1)], overflow=1))
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_reads_valid_polarity_events_with_overflow(tmp_path):
    events = read_aedat3(_recording(tmp_path))
    assert events["x"].tolist() == [0, 127, 64] and events["y"].tolist() == [0, 5, 127]
    assert events["p"].tolist() == [1, 0, 1]
    assert events["t"].tolist() == [10, 20, (1 << 31) + 5]
    rel = read_aedat3(_recording(tmp_path), relative_time=True)
    assert rel["t"].tolist() == [0, 10, (1 << 31) - 5]


def test_gesture_recording_is_cut_by_its_labels(tmp_path):
    path = _recording(tmp_path)
    (tmp_path / "user01_led_labels.csv").write_text(
        "class,startTime_usec,endTime_usec\n1,0,15\n11,15,30\n")
    samples = read_gesture_recording(path)
    assert [(len(e), c) for e, c in samples] == [(1, 0), (1, 10)]
    assert samples[1][0]["t"].tolist() == [5]  # 20 - 15: relative to the gesture's start
    labels = read_gesture_labels(tmp_path / "user01_led_labels.csv")
    assert labels.dtype == LABEL_DTYPE and labels["label"].tolist() == [1, 11]
    assert gesture_samples(read_aedat3(path), labels[:0]) == []


@pytest.mark.parametrize(("data", "match"), [
    (b"#!AER-DAT2.0\r\n# jAER\r\n", "AEDAT 2.0 file"),
    (b"\x00\x01binary", "not an AEDAT file"),
    (b"#!AER-DAT3.1\r\n#Format: RAW\r\n", "no '#!END-HEADER'"),
    (b"#!AER-DAT3.1\r\nnot a comment\r\n#!END-HEADER\r\n", "does not start with '#'"),
    (HEADER + b"\x01\x00\x08", "truncated packet header"),
    (HEADER + _polarity([(1, 1, 1, 1, 1)] * 3)[:-5], "truncated"),
    (HEADER + _packet(1, b"", 2, valid=5), "inconsistent header"),
    (HEADER + _packet(1, b"", -1), "inconsistent header"),
    (HEADER + _packet(1, b"\x00" * 12, 1, size=12), "polarity events of 12 bytes"),
    (HEADER + _polarity([(1, 1, 1, 1, 1)], ts_offset=0), "timestamp at 0"),
    (HEADER + _polarity([(1, 1, 1, 1, 1)], overflow=-1), "negative timestamp overflow"),
    (HEADER + _polarity([(200, 1, 1, 1, 1)]), "outside"),
    (HEADER + _polarity([(1, 1, 9, 1, 1), (1, 1, 3, 1, 1)]), "not sorted"),
])
def test_corrupt_files_name_the_file(tmp_path, data, match):
    path = tmp_path / "bad.aedat"
    path.write_bytes(data)
    with pytest.raises(DataFormatError, match=match) as info:
        read_aedat3(path)
    assert "bad.aedat" in str(info.value)


def test_limits_and_missing_files(tmp_path):
    path = _recording(tmp_path)
    with pytest.raises(DataFormatError, match="max_bytes"):
        read_aedat3(path, max_bytes=16)
    with pytest.raises(DataNotFoundError):
        read_aedat3(tmp_path / "none.aedat")
    with pytest.raises(DataFormatError, match="not a regular file"):
        read_aedat3(tmp_path)
    with pytest.raises(DataNotFoundError):  # the recording without its labels file
        read_gesture_recording(path)


@pytest.mark.parametrize(("text", "match"), [
    ("class,start,end\n1,0,5\n", "header"),
    ("class,startTime_usec,endTime_usec\n1,0\n", "line 2"),
    ("class,startTime_usec,endTime_usec\n1,0,5\nx,1,2\n", "line 3"),
    ("class,startTime_usec,endTime_usec\n12,0,5\n", "class 12 outside"),
    ("class,startTime_usec,endTime_usec\n0,0,5\n", "class 0 outside"),
    ("class,startTime_usec,endTime_usec\n3,9,5\n", "not before end"),
    ("class,startTime_usec,endTime_usec\n3,-1,5\n", "line 2"),
])
def test_bad_labels_name_the_line(tmp_path, text, match):
    path = tmp_path / "r_labels.csv"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=match) as info:
        read_gesture_labels(path)
    assert "r_labels.csv" in str(info.value)
    path.write_bytes(b"class,startTime_usec,endTime_usec\n\xff\xfe\n")
    with pytest.raises(DataFormatError, match="not UTF-8"):
        read_gesture_labels(path)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 200),
       flips=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=4))
def test_corrupted_recordings_give_events_or_one_clear_error(tmp_path, cut, flips):
    """Any truncation or byte change of a valid file: valid events (in the sensor, in time
    order) or a DataFormatError naming the file, nothing else."""
    data = bytearray(_recording(tmp_path, "base.aedat").read_bytes())
    for pos, value in flips:
        if pos < len(data):
            data[pos] = value
    path = tmp_path / "fuzz.aedat"
    path.write_bytes(bytes(data[:len(data) - cut] if cut else data))
    try:
        events = read_aedat3(path)
    except DataFormatError as err:
        assert "fuzz.aedat" in str(err)
        return
    assert np.all((events["x"] >= 0) & (events["x"] < 128))
    assert np.all(np.diff(events["t"]) >= 0)
