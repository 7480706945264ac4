"""The event dtype, make_events and check_events."""

from __future__ import annotations

import numpy as np
import pytest

from lava_thesis.data import EVENT_DTYPE, check_events, make_events


def test_make_events_fields():
    ev = make_events([1, 2], [3, 4], [10, 20], [True, False])
    assert ev.dtype == EVENT_DTYPE and EVENT_DTYPE.names == ("x", "y", "t", "p")
    assert ev["p"].tolist() == [1, 0] and ev["t"].tolist() == [10, 20]
    assert check_events(ev, (3, 5)) is ev


def test_make_events_length_mismatch():
    with pytest.raises(ValueError, match="lengths differ"):
        make_events([1], [1, 2], [0], [0])


@pytest.mark.parametrize(
    ("field", "index", "kwargs", "match"),
    [
        ("x", 2, {"x": [0, 1, 4]}, "'x' outside"),
        ("y", 1, {"y": [0, -1, 0]}, "'y' outside"),
        ("t", 2, {"t": [0, 5, 4]}, "not sorted"),
        ("t", 0, {"t": [-1, 5, 6]}, "'t' negative"),
        ("p", 1, {"p": [0, 2, 1]}, "'p' not 0 or 1"),
    ],
)
def test_check_events_names_field_and_index(field, index, kwargs, match):
    cols = {"x": [0, 1, 2], "y": [0, 1, 2], "t": [0, 1, 2], "p": [0, 1, 0]} | kwargs
    ev = make_events(**cols)
    with pytest.raises(ValueError, match=match) as info:
        check_events(ev, sensor_size=(4, 3))
    assert f"index {index}" in str(info.value)


def test_without_sensor_size_and_missing_fields():
    check_events(make_events([999], [999], [0], [1]))
    with pytest.raises(ValueError, match="lack"):
        check_events(np.zeros(2, [("x", "i2"), ("y", "i2")]))


@pytest.mark.parametrize(
    ("cols", "match"),
    [
        ({"t": [0.0, float("nan")]}, "'t' not finite at index 1"),
        ({"t": [0.0, float("inf")]}, "'t' not finite"),
        ({"x": [0.5, 1]}, "'x' not an integer at index 0"),
        ({"x": [0, 40000]}, "'x' 40000 at index 1 does not fit"),
        ({"y": [0, -40000]}, "'y' -40000 at index 1 does not fit"),
        ({"t": np.array([0, 1 << 63], np.uint64)}, "'t' .* does not fit"),
        ({"p": ["a", "b"]}, "'p' has dtype"),
    ],
)
def test_make_events_refuses_inexact_values(cols, match):
    base = {"x": [0, 1], "y": [0, 1], "t": [0, 1], "p": [0, 1]} | cols
    with pytest.raises(ValueError, match=match):
        make_events(**base)


def test_check_events_float_fields_and_arguments():
    ev = np.zeros(3, [("x", "f4"), ("y", "f4"), ("t", "f8"), ("p", "i1")])
    ev["t"] = [0, np.nan, 2]
    with pytest.raises(ValueError, match="'t' not a finite integer at index 1"):
        check_events(ev)
    ev["t"] = [0, 1, 2]
    ev["x"][2] = 1.5
    with pytest.raises(ValueError, match="'x' not a finite integer at index 2"):
        check_events(ev)
    good = make_events([0], [0], [0], [0])
    for size in [(0, 5), (3,), (2.5, 3), ("a", 3)]:
        with pytest.raises(ValueError, match="sensor_size"):
            check_events(good, size)
    with pytest.raises(ValueError, match="1-D"):
        check_events(np.zeros((2, 2), EVENT_DTYPE))
    with pytest.raises(ValueError, match="numpy structured array"):
        check_events([(0, 0, 0, 0)])
