"""The demo's worker process (section 5 runs there) and its sizes. The whole demo at the TINY
size runs in tests/test_quickstart.py::test_demo_end_to_end."""

from __future__ import annotations

import time
from dataclasses import fields

import pytest

from lava_thesis.demo import FULL, STAGES, TINY, TITLES, _Worker


def test_worker_returns_its_result_and_replays_its_log_in_order():
    def section(log):
        log("first")
        log("second")
        return {"accuracy": 0.5}

    lines: list[str] = []
    result, seconds = _Worker(section).join(lines.append)
    assert result == {"accuracy": 0.5} and seconds >= 0
    assert lines == ["first", "second"]


def test_worker_error_is_raised_with_its_traceback():
    def section(log):
        log("before")
        return 1 / 0

    lines: list[str] = []
    worker = _Worker(section)
    with pytest.raises(RuntimeError, match="ZeroDivisionError") as info:
        worker.join(lines.append)
    assert "in section" in str(info.value) and lines == ["before"]
    assert not worker._proc.is_alive()


def test_worker_that_dies_is_reported():
    import os

    worker = _Worker(lambda log: os._exit(3))
    with pytest.raises(RuntimeError, match="exit code 3"):
        worker.join(lambda line: None)


def test_stop_kills_a_worker_that_has_not_answered():
    worker = _Worker(lambda log: time.sleep(60))
    t0 = time.monotonic()
    worker.stop()
    assert not worker._proc.is_alive() and time.monotonic() - t0 < 5


def test_tiny_is_smaller_than_full_everywhere():
    for field in fields(FULL):
        assert 0 < getattr(TINY, field.name) <= getattr(FULL, field.name), field.name
    assert len(TITLES) == len(STAGES) == 6
